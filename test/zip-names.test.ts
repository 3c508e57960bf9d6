// ZipFile's names and options: a table of refused names (a TypeError from the constructor for an
// array; an error when taken for an iterable: an error response for the first entry, a cut
// connection for a later one), names stored as given (`\` as `/`, UTF-8 with its flag), options
// and entries checked like VirtualFile's, and the ZipFile's own lifecycle (one response, close()).
import { setImmediate as nextTurn } from 'node:timers/promises'
import t from 'tap'
import type { FastifyRequest } from 'fastify'
import { ContentFile, ZipFile, type ZipEntry } from '../lib/index.js'
import { build } from './helpers.js'
import { download, startServer } from './protocols.js'
import { readsBack } from './zip-readers.js'

const file = new ContentFile('x')

function caught (run: () => unknown): unknown {
  try {
    run()
  } catch (error) {
    return error
  }
  return undefined
}

const REFUSED: ReadonlyArray<[name: string, problem: RegExp]> = [
  ['', /an empty name/],
  ['dir/', /ending with "\/" names a directory/],
  ['dir\\', /ending with "\/" names a directory/],
  ['/etc/passwd', /an absolute name/],
  ['\\windows\\system.ini', /an absolute name/],
  ['C:x', /an absolute name/],
  ['c:\\x.txt', /an absolute name/],
  ['..', /a "\.\." segment/],
  ['../x', /a "\.\." segment/],
  ['a/../../x', /a "\.\." segment/],
  ['a\\..\\x', /a "\.\." segment/],
  ['a/..', /a "\.\." segment/],
  ['é'.repeat(40_000), /longer than 65535 bytes in UTF-8/]
]

/** Names that are fine, and how they are stored. */
const ACCEPTED: ReadonlyArray<[name: string, stored: string]> = [
  ['a.txt', 'a.txt'],
  ['dir\\sub\\b.txt', 'dir/sub/b.txt'],
  ['..a/b..', '..a/b..'],
  ['.hidden', '.hidden'],
  ['résumé/日本語 ✓.txt', 'résumé/日本語 ✓.txt'],
  ['ab:c.txt', 'ab:c.txt'],
  ['x'.repeat(300), 'x'.repeat(300)]
]

t.test('refused names: a TypeError from the constructor for an array', async (t) => {
  for (const [name, problem] of REFUSED) {
    t.throws(() => new ZipFile([{ name: 'ok.txt', file }, { name, file }]), {
      code: 'FST_DOWNLOADVIEW_INVALID_ZIP_ENTRY',
      message: problem
    }, `${JSON.stringify(name.slice(0, 20))}: refused`)
  }
  t.throws(() => new ZipFile([{ name: 'ok.txt', file }, { name: '../x', file }]), { message: 'Invalid ZIP entry #2 "../x": refused: a ".." segment' }, 'the message names the entry')
  t.type(caught(() => new ZipFile([{ name: '', file }])), TypeError, 'InvalidZipEntry is a TypeError')
  t.throws(() => new ZipFile([{ name: 'y'.repeat(200) + '/', file }]), { message: new RegExp(`^Invalid ZIP entry #1 "${'y'.repeat(100)}…": `) }, 'a long name cut short in the message')
})

t.test('entries that are not { name, file }', async (t) => {
  const entries: unknown[] = [
    null,
    'a.txt',
    { name: 1, file },
    { name: 'a.txt' },
    { name: 'a.txt', file: 'content' },
    { name: 'a.txt', file: { size: 1 } }
  ]
  for (const [index, entry] of entries.entries()) {
    t.throws(() => new ZipFile([entry as ZipEntry]), { code: 'FST_DOWNLOADVIEW_INVALID_ZIP_ENTRY', message: /^Invalid ZIP entry #1/ }, `entry ${index}`)
  }
  for (const entries of [undefined, null, 'abc', 42, {}, { length: 1 }]) {
    t.throws(() => new ZipFile(entries as unknown as ZipEntry[]), {
      code: 'FST_DOWNLOADVIEW_INVALID_OPTION',
      message: /^Invalid option "ZipFile entries": must be an array, an iterable or an async iterable/
    }, `entries ${JSON.stringify(entries)}`)
  }
})

t.test('options are checked like VirtualFile\'s', async (t) => {
  const cases: ReadonlyArray<[options: unknown, message: RegExp]> = [
    [{ nmae: 'a.zip' }, /"ZipFile\.nmae": unknown option; known ones are name, compress, modifiedTime, etag/],
    [{ size: 10 }, /"ZipFile\.size": unknown option/],
    [{ compress: 'yes' }, /"ZipFile\.compress": must be a boolean, got string/],
    [{ modifiedTime: '2026-01-01' }, /"ZipFile\.modifiedTime": must be a Date/],
    [{ modifiedTime: new Date(Number.NaN) }, /"ZipFile\.modifiedTime": must be a valid Date/],
    [{ etag: 1 }, /"ZipFile\.etag": must be a string/],
    [{ name: ['a.zip'] }, /"ZipFile\.name": must be a string/],
    ['bundle.zip', /"ZipFile options": must be an object/]
  ]
  for (const [options, message] of cases) {
    t.throws(() => new ZipFile([], options as object), { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message }, JSON.stringify(options))
  }
  t.doesNotThrow(() => new ZipFile([], { name: undefined, compress: undefined, modifiedTime: undefined, etag: undefined }), 'undefined values are no options')
})

t.test('names over HTTP: stored as given, `\\` as `/`; refused ones taken from an iterable fail the download', async (t) => {
  const server = await startServer('http1', (app) => {
    app.get('/accepted.zip', { virtualDownload: true }, () => new ZipFile(ACCEPTED.map(([name]) => ({ name, file: new ContentFile(name) }))))
    app.get('/refused/:index/:at', { virtualDownload: true }, (request: FastifyRequest<{ Params: { index: string, at: string } }>) => {
      const [name] = REFUSED[Number(request.params.index)] as [string, RegExp]
      const at = Number(request.params.at)
      return new ZipFile((async function * () {
        // a first entry, and a turn of the event loop before a refused second: the archive
        // surely started (a refusal before any byte went out is an error response)
        if (at > 0) {
          yield { name: 'first.txt', file: new ContentFile('f'.repeat(100_000)) }
          await nextTurn()
        }
        yield { name, file }
      })())
    })
  })
  t.teardown(() => server.close())
  const accepted = await download('curl', `${server.base}/accepted.zip`)
  t.notOk(accepted.failed)
  await readsBack(t, accepted.body, ACCEPTED.map(([name, stored]) => ({ name: stored, content: name })))

  for (const [index, [name, problem]] of REFUSED.entries()) {
    const label = JSON.stringify(name.slice(0, 20))
    const first = await download('node-http', `${server.base}/refused/${index}/0`)
    t.equal(first.status, 500, `${label} as the first entry: an error response`)
    t.match(JSON.parse(first.body.toString()), { code: 'FST_DOWNLOADVIEW_INVALID_ZIP_ENTRY', message: problem }, `${label}: its problem`)
    const later = await download('node-http', `${server.base}/refused/${index}/1`)
    t.equal(later.status, 200, `${label} as the second entry: the archive started`)
    t.ok(later.failed, `${label} as the second entry: a cut connection`)
  }
})

t.test('a ZipFile serves one response; close() releases its entries', async (t) => {
  const { app } = await build()
  t.teardown(() => app.close())
  const request = { log: app.log } as unknown as FastifyRequest

  const once = new ZipFile([{ name: 'a.txt', file }])
  t.type(caught(() => once.stream()), TypeError)
  t.throws(() => once.stream(), { message: /before open\(request\)/ }, 'stream() needs the request of open()')
  once.open(request)
  const stream = once.stream()
  t.throws(() => once.stream(), { code: 'FST_DOWNLOADVIEW_CONTENT_CONSUMED', message: /^This ZipFile can be read only once/ }, 'a second stream()')
  await once.close()
  stream.destroy()

  const closed: string[] = []
  const failing = new ZipFile([
    { name: 'a', file: { stream: () => '', close: () => { closed.push('a'); throw new Error('a failed to close') } } },
    { name: 'b', file: { stream: () => '', close: async () => { closed.push('b') } } },
    { name: 'c', file: { stream: () => '' } }
  ])
  await t.rejects(failing.close(), { message: 'a failed to close' }, 'close(): every entry closed, the first failure thrown')
  t.same(closed, ['a', 'b'])
  await failing.close()
  t.same(closed, ['a', 'b'], 'once')
  t.throws(() => failing.stream(), { code: 'FST_DOWNLOADVIEW_CONTENT_CONSUMED' }, 'closed: no stream()')

  let returned = false
  const started = (function * () {
    try {
      yield { name: 'a', file }
      yield { name: 'b', file }
    } finally {
      returned = true
    }
  })()
  started.next()
  await new ZipFile(started).close()
  t.ok(returned, 'an iterator given as the entries gets return()')
  await new ZipFile(new Set([{ name: 'a', file }])).close()
  t.pass('an iterable that is no iterator: nothing to release')

  t.throws(() => JSON.stringify(new ZipFile([])), { code: 'FST_DOWNLOADVIEW_SERIALIZED_FILE', message: /A ZipFile was about to be sent as JSON/ })
})
