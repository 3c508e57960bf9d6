// Over real sockets, with real curl and node:http: text cut anywhere comes out whole
// (TextIteratorIO never splits a surrogate pair), and a range of an empty file is a full 200.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'
import { ContentFile, TextIteratorIO, VirtualFile } from '../lib/index.js'
import { build, get, listen } from './helpers.js'

const run = promisify(execFile)

/** The body curl downloads, as bytes; --fail makes an HTTP error a rejection. */
async function curlBody (url: string): Promise<Buffer> {
  const { stdout } = await run('curl', ['-sS', '--fail', url], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 })
  return stdout
}

/** The response head curl prints (-D -), the body thrown away. */
async function curlHead (url: string, range: string): Promise<string> {
  const { stdout } = await run('curl', ['-sS', '-D', '-', '-o', '/dev/null', '-H', `Range: ${range}`, url], { encoding: 'utf8' })
  return stdout
}

/** `text` cut into items of `size` UTF-16 units: an odd size puts the halves of EMOJI's pairs in two items. */
function items (text: string, size: number): string[] {
  const result: string[] = []
  for (let start = 0; start < text.length; start += size) result.push(text.slice(start, start + size))
  return result
}

const EMOJI = '📄'.repeat(1e5)
// every character four UTF-8 bytes or two, on odd and even offsets, then ASCII
const MIXED = ('😀a🎉é' + '€'.repeat(3) + '🇫🇷').repeat(5000) + 'tail\n'
const TEXTS = new Map([
  ['emoji', EMOJI],
  ['mixed', MIXED],
  // for tiny highWaterMarks, which make a chunk of every unit or two: 100,000s of them would be slow
  ['emoji-short', EMOJI.slice(0, 6000)],
  ['mixed-short', MIXED.slice(0, 6001)]
])

t.test('TextIteratorIO text cut across surrogate pairs downloads whole', async (t) => {
  const { app } = await build()
  app.get('/emoji', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(items(EMOJI, 101)), { name: 'emoji.txt' }))
  app.get<{ Querystring: { text: string, size: string, hwm?: string } }>('/cut', { virtualDownload: true }, (request) => {
    const { text, size, hwm } = request.query
    const highWaterMark = hwm === undefined ? undefined : Number(hwm)
    return new VirtualFile(new TextIteratorIO(items(TEXTS.get(text) as string, Number(size)), { highWaterMark }), { name: 'cut.txt' })
  })
  const base = await listen(app)
  t.teardown(() => app.close())

  // the report's repro: 4 U+FFFD and 400,004 bytes before the fix
  const expected = Buffer.from(EMOJI)
  const viaCurl = await curlBody(`${base}/emoji`)
  t.equal(viaCurl.length, 400000)
  t.notOk(viaCurl.toString().includes('\uFFFD'), 'no replacement character')
  t.ok(viaCurl.equals(expected), 'curl: the bytes of the text')
  const viaNode = await get(`${base}/emoji`)
  t.equal(viaNode.status, 200)
  t.equal(viaNode.headers['content-type'], 'text/plain; charset=utf-8')
  t.equal(viaNode.error, undefined)
  t.ok(viaNode.body.equals(expected), 'node:http: the bytes of the text')

  for (const [name, text] of TEXTS) {
    const whole = Buffer.from(text)
    const tiny = name.endsWith('-short')
    for (const size of [1, 2, 3, 101, 65535, 65536, 65537]) {
      for (const hwm of tiny ? [1, 2, 3] : [undefined, 4096, 65537]) {
        const query = `text=${name}&size=${size}${hwm === undefined ? '' : `&hwm=${hwm}`}`
        t.ok((await curlBody(`${base}/cut?${query}`)).equals(whole), `curl ${query}`)
        const response = await get(`${base}/cut?${query}`)
        t.ok(response.error === undefined && response.body.equals(whole), `node:http ${query}`)
      }
    }
  }
})

t.test('any Range on an empty file is answered by the full, empty 200 (RFC 9110 §14.1.1)', async (t) => {
  const { app } = await build()
  app.get('/content', { virtualDownload: true }, () => new ContentFile('', { name: 'empty.txt' }))
  app.get('/blob', (request, reply) => reply.virtualDownload(new Blob([])))
  const base = await listen(app)
  t.teardown(() => app.close())

  for (const path of ['/content', '/blob']) {
    for (const range of ['bytes=-1', 'bytes=0-0', 'bytes=0-', 'bytes=5-9', 'bytes=0-0,2-3', 'bytes=-0', 'bytes=9-5']) {
      const head = await curlHead(`${base}${path}`, range)
      t.match(head, /^HTTP\/1\.1 200 OK\r\n/, `curl ${path} ${range}: 200`)
      t.match(head, /\r\ncontent-length: 0\r\n/i, `curl ${path} ${range}: content-length 0`)
      t.match(head, /\r\naccept-ranges: bytes\r\n/i, `curl ${path} ${range}: accept-ranges`)
      t.notMatch(head, /content-range/i, `curl ${path} ${range}: no content-range`)
      const response = await get(`${base}${path}`, { headers: { range } })
      t.same({ status: response.status, length: response.headers['content-length'], body: response.body.length },
        { status: 200, length: '0', body: 0 }, `node:http ${path} ${range}`)
    }
  }
})
