import { execFile } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { ContentFile } from '../lib/index.js'
import { build, listen } from './helpers.js'

const run = promisify(execFile)
// wget decodes filename* (RFC 8187) into the locale's charset
const WGET_ENV = { ...process.env, LC_ALL: 'C.UTF-8' }
const BIDI = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c']
const hex = (c: string): string => (c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')

// Real downloads over 127.0.0.1: `curl -OJ` saves under the plain filename (the ASCII fallback),
// `wget --content-disposition` under filename* when there is one (RFC 6266 §4.3). Without a
// filename both save under the URL's last segment (undefined below).
// [what, name, saved by curl, saved by wget]
const NAMES: Array<[string, string, string | undefined, string | undefined]> = [
  ['plain', 'hello-world.txt', 'hello-world.txt', 'hello-world.txt'],
  ['fullwidth quotes', 'Q3 report ＂final＂.pdf', 'Q3 report _final_.pdf', 'Q3 report ＂final＂.pdf'],
  ['two dot leader', '\u2025', '_', '\u2025'],
  ['.', '.', undefined, undefined],
  ['..', '..', undefined, undefined],
  ['dot space dot', ' . ', undefined, undefined],
  ['NBSP only', '\u00a0', undefined, undefined],
  ['U+3000 only', '\u3000', undefined, undefined],
  ['right-to-left override', 'invoice\u202Efdp.exe', 'invoice_fdp.exe', 'invoice_fdp.exe'],
  ...BIDI.map((c): [string, string, string, string] => [`U+${hex(c)}`, `report${c}fdp.exe`, 'report_fdp.exe', 'report_fdp.exe']),
  ['bidi control in a non-ASCII name', 'été\u202Efdp.exe', 'ete_fdp.exe', 'été_fdp.exe'],
  ['fullwidth solidus', 'a／b.txt', 'a_b.txt', 'a／b.txt'],
  ['fullwidth reverse solidus', 'a＼b.txt', 'a_b.txt', 'a＼b.txt'],
  ['quote, path, CR LF, NUL', 'x\\a"b\r\n\u0000c.txt', 'a_b___c.txt', 'a_b___c.txt'],
  ['300 bytes of ASCII, .csv', `${'x'.repeat(296)}.csv`, `${'x'.repeat(251)}.csv`, `${'x'.repeat(251)}.csv`],
  ['a 20-character tail', `${'x'.repeat(280)}.${'y'.repeat(20)}`, 'x'.repeat(255), 'x'.repeat(255)],
  ['letters with two accents', `${'e\u0301\u0323'.repeat(100)}.txt`, `${'e'.repeat(50)}.txt`, `${'e\u0301\u0323'.repeat(50)}.txt`],
  ['flags', `${'🇫🇷'.repeat(40)}.png`, `${'_'.repeat(31)}.png`, `${'🇫🇷'.repeat(31)}.png`],
  ['ZWJ emoji', `${'👨‍👩‍👧'.repeat(20)}.png`, `${'_'.repeat(13)}.png`, `${'👨‍👩‍👧'.repeat(13)}.png`],
  ['shortening leaves only dots', `${'.'.repeat(300)}${'x'.repeat(20)}`, undefined, undefined],
  ['the cut does not make ..', `${'a'.repeat(250)}.${'b'.repeat(20)}.csv`, `${'a'.repeat(250)}.csv`, `${'a'.repeat(250)}.csv`],
  ['10,000 emoji', '😀'.repeat(10_000), '_'.repeat(63), '😀'.repeat(63)]
]

t.test('hostile names download with curl and wget', async (t) => {
  const { app } = await build()
  app.get('/n/:i', { virtualDownload: true }, (request) => {
    const { i } = request.params as { i: string }
    return new ContentFile('x', { name: (NAMES[Number(i)] as [string, string, unknown, unknown])[1] })
  })
  const base = await listen(app)
  t.teardown(() => app.close())

  for (const [i, [what, , curlName, wgetName]] of NAMES.entries()) {
    await t.test(what, async (t) => {
      const dir = t.testdir({ curl: {}, wget: {} })
      const url = `${base}/n/${i}`
      await run('curl', ['-sS', '--fail', '--max-time', '20', '-OJ', url], { cwd: join(dir, 'curl') })
      await run('wget', ['-q', '--timeout=20', '--content-disposition', url], { cwd: join(dir, 'wget'), env: WGET_ENV })
      for (const [client, expected] of [['curl', curlName ?? String(i)], ['wget', wgetName ?? String(i)]] as const) {
        const saved = readdirSync(join(dir, client), { encoding: 'buffer' })
        t.equal(saved.length, 1, `${client} saved one file`)
        const name = saved[0] as Buffer
        const text = name.toString()
        t.notOk(/[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c"]/.test(text), `${client}: no bidi control, no quote`)
        t.notOk(text.includes('..'), `${client}: no '..'`)
        t.ok(name.length <= 255, `${client}: at most 255 bytes`)
        if (client === 'wget' && name.length < Buffer.byteLength(expected)) {
          // wget shortens a long name itself, to less than NAME_MAX - 19 bytes (CHOMP_BUFFER in its
          // url.c) of a form where it escaped some bytes: the cut may leave '%' and a hex digit
          const start = Buffer.from(name.toString('latin1').replace(/%[0-9A-F]?$/, ''), 'latin1')
          t.ok(start.length > 100 && start.equals(Buffer.from(expected).subarray(0, start.length)), `wget saved a start of ${JSON.stringify(expected.slice(0, 20))}`)
        } else {
          t.equal(text, expected, `${client} saved ${JSON.stringify(expected.slice(0, 40))}`)
        }
      }
    })
  }
})

t.test('a 10,000-emoji name downloads with curl and fetch', async (t) => {
  const { app } = await build()
  app.get('/emoji', { virtualDownload: true }, () => new ContentFile('x', { name: '😀'.repeat(10_000) }))
  const base = await listen(app)
  t.teardown(() => app.close())

  const dir = t.testdir()
  const { stdout } = await run('curl', ['-sS', '--fail', '--max-time', '20', '-OJ', '-D', '-', `${base}/emoji`], { cwd: dir })
  t.match(stdout, /^HTTP\/1\.1 200 /)
  const header = /^content-disposition: (.*)\r$/im.exec(stdout)?.[1] ?? ''
  t.ok(header.length > 0 && header.length < 2048, `curl: a ${header.length}-byte Content-Disposition`)
  t.same(readdirSync(dir), ['_'.repeat(63)], 'curl saved the file')

  const response = await fetch(`${base}/emoji`)
  t.equal(response.status, 200)
  t.ok((response.headers.get('content-disposition') ?? '').length < 2048, 'fetch: a short header')
  t.equal(await response.text(), 'x')
})
