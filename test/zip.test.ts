// ZipFile over real HTTP (HTTP/1.1 and h2c, with every client of test/protocols.ts): every archive
// read back by Python's zipfile, `unzip -t` and bsdtar; the exact Content-Length of sized stored
// arrays, HEAD and 304 without opening an entry, chunked archives of iterables and deflated entries,
// the archive's validators, ranges never offered, entries taken lazily one at a time, and the event
// loop free between entries. Failures and the client leaving: test/zip-failures.test.ts.
import { setImmediate as nextTurn } from 'node:timers/promises'
import t from 'tap'
import { ContentFile, TextIteratorIO, VirtualFile, ZipFile, type DownloadFile, type ZipEntry } from '../lib/index.js'
import { build, pattern } from './helpers.js'
import { CLIENTS, download, startServer, type ServerKind } from './protocols.js'
import { ArchiveFile, readsBack, type Expected } from './zip-readers.js'

const KINDS: ServerKind[] = ['http1', 'h2c']

const BIG = pattern(300 * 1024, 7)
const CSV = 'id,name\n1,Ada\n2,Grace\n'
const MODIFIED = new Date('2026-03-04T05:06:08Z')

/** A file whose metadata come from open() (like a database row), its opens and closes counted. */
class RowFile implements DownloadFile {
  size: number | undefined
  modifiedTime: Date | undefined
  constructor (readonly content: string, readonly ledger: { opened: number, closed: number, streamed: number }) {}
  async open (): Promise<void> {
    this.ledger.opened++
    await nextTurn()
    this.size = Buffer.byteLength(this.content)
    this.modifiedTime = MODIFIED
  }

  close (): void { this.ledger.closed++ }
  stream (): Iterable<string> {
    this.ledger.streamed++
    return [this.content]
  }
}

/** A stored array whose every file declares its size before open(): the archive's size is known. */
function sizedEntries (ledger: { opened: number, closed: number, streamed: number }): ZipEntry[] {
  const counted = (file: VirtualFile): DownloadFile => ({
    size: file.size,
    open: () => { ledger.opened++ },
    close: () => { ledger.closed++ },
    stream: () => { ledger.streamed++; return file.stream() }
  })
  return [
    { name: 'hello.txt', file: new ContentFile('Hello world!\n') },
    { name: 'rapports/été 2026.csv', file: counted(new VirtualFile(new TextIteratorIO([CSV]), { size: Buffer.byteLength(CSV) })) },
    { name: 'windows\\path\\notes.txt', file: new File(['notes\n'], 'ignored.txt') },
    { name: 'empty.bin', file: new ContentFile('') },
    { name: 'big/pattern.bin', file: new Blob([BIG]) }
  ]
}

const SIZED: Expected = [
  { name: 'hello.txt', content: 'Hello world!\n' },
  { name: 'rapports/été 2026.csv', content: CSV },
  // `\` is stored as `/`
  { name: 'windows/path/notes.txt', content: 'notes\n' },
  { name: 'empty.bin', content: '' },
  { name: 'big/pattern.bin', content: BIG }
]

for (const kind of KINDS) {
  t.test(`${kind}: a stored array of sized files`, async (t) => {
    const ledger = { opened: 0, closed: 0, streamed: 0 }
    const server = await startServer(kind, (app) => {
      app.get('/bundle.zip', (request, reply) => reply.virtualDownload(new ZipFile(sizedEntries(ledger), { name: 'bundle.zip' })))
    })
    t.teardown(() => server.close())
    const url = `${server.base}/bundle.zip`
    let first: Buffer | undefined
    for (const client of CLIENTS[kind]) {
      const result = await download(client, url)
      t.equal(result.status, 200, `${client}: 200`)
      t.notOk(result.failed, `${client}: complete (${result.detail})`)
      t.equal(result.headers['content-type'], 'application/zip', `${client}: Content-Type`)
      t.equal(result.headers['content-disposition'], 'attachment; filename="bundle.zip"', `${client}: Content-Disposition`)
      t.equal(result.headers['content-length'], String(result.body.length), `${client}: Content-Length is the archive's exact length`)
      t.equal(result.headers['accept-ranges'], undefined, `${client}: no Accept-Ranges`)
      if (first === undefined) {
        first = result.body
        await readsBack(t, result.body, SIZED, { method: 0 })
      } else {
        t.equal(result.body.length, first.length, `${client}: the same length`)
      }
    }
    t.equal(ledger.opened, CLIENTS[kind].length, 'each download opened the entry that has open(), once')

    const opened = ledger.opened
    const head = await download(kind === 'http1' ? 'curl' : 'curl-h2c', url, { method: 'HEAD' })
    t.equal(head.status, 200, 'HEAD: 200')
    t.equal(head.headers['content-length'], String(first?.length), 'HEAD: the archive\'s length')
    t.equal(ledger.opened, opened, 'HEAD: no entry opened')
    t.equal(ledger.streamed, opened, 'HEAD: no entry streamed')
    t.equal(ledger.closed, 1, 'HEAD: the entries were closed, none opened')

    const ranged = await download(kind === 'http1' ? 'curl' : 'curl-h2c', url, { headers: { range: 'bytes=0-99' } })
    t.equal(ranged.status, 200, 'Range: ignored, the whole archive')
    t.equal(ranged.body.length, first?.length, 'Range: all its bytes')
  })
}

t.test('entries whose metadata come from open(): entry times, the archive\'s validators, 304 without opening', async (t) => {
  const ledger = { opened: 0, closed: 0, streamed: 0 }
  const server = await startServer('http1', (app) => {
    app.get('/rows.zip', (request, reply) => reply.virtualDownload(new ZipFile([
      { name: 'a.csv', file: new RowFile(CSV, ledger) },
      { name: 'b.txt', file: new ContentFile('b\n') }
    ], { name: 'rows.zip', etag: '"rows-1"', modifiedTime: new Date('2026-01-02T03:04:06Z') })))
  })
  t.teardown(() => server.close())
  const url = `${server.base}/rows.zip`
  const whole = await download('node-http', url)
  t.equal(whole.status, 200)
  t.equal(whole.headers.etag, '"rows-1"', 'ETag')
  t.equal(whole.headers['last-modified'], 'Fri, 02 Jan 2026 03:04:06 GMT', 'Last-Modified')
  t.equal(whole.headers['content-length'], undefined, 'a size known only after open(): chunked')
  t.equal(whole.headers['transfer-encoding'], 'chunked')
  const listing = await readsBack(t, whole.body, [{ name: 'a.csv', content: CSV }, { name: 'b.txt', content: 'b\n' }])
  const dosTime = (date: Date): number[] => [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes(), date.getSeconds()]
  t.same(listing.entries.map((entry) => entry.dateTime), [dosTime(MODIFIED), dosTime(new Date('2026-01-02T03:04:06Z'))],
    'each entry\'s time: its file\'s modifiedTime, else the archive\'s')
  t.equal(ledger.opened, 1)

  const cached = await download('node-http', url, { headers: { 'if-none-match': '"rows-1"' } })
  t.equal(cached.status, 304, 'If-None-Match: 304')
  t.equal(ledger.opened, 1, '304: no entry opened')
  t.equal(ledger.closed, 1, '304: the entries closed')
})

const GENERATED: Expected = Array.from({ length: 20 }, (_, i) => ({ name: `part-${i}.txt`, content: `part ${i}\n`.repeat(i * 50) }))

t.test('entries from iterables, and deflated entries: chunked archives', async (t) => {
  const server = await startServer('h2c', (app) => {
    app.get('/sync.zip', { virtualDownload: true }, () => new ZipFile((function * () {
      for (const { name, content } of GENERATED) yield { name, file: new ContentFile(content) }
    })()))
    app.get('/async.zip', { virtualDownload: true }, () => new ZipFile((async function * () {
      for (const { name, content } of GENERATED) {
        await nextTurn()
        yield { name, file: new VirtualFile(new TextIteratorIO([content as string])) }
      }
    })(), { name: 'async.zip' }))
    app.get('/set.zip', { virtualDownload: true }, () => new ZipFile(new Set(GENERATED.map(({ name, content }) => ({ name, file: new ContentFile(content) })))))
    app.get('/deflated.zip', { virtualDownload: true }, () => new ZipFile(GENERATED.map(({ name, content }) => ({ name, file: new ContentFile(content) })), { compress: true }))
    app.get('/empty.zip', { virtualDownload: true }, () => new ZipFile([]))
  })
  t.teardown(() => server.close())
  let stored = 0
  for (const path of ['/sync.zip', '/async.zip', '/set.zip', '/deflated.zip']) {
    const result = await download('curl-h2c', `${server.base}${path}`)
    t.equal(result.status, 200, `${path}: 200`)
    t.notOk(result.failed, `${path}: complete`)
    t.equal(result.headers['content-length'], undefined, `${path}: no Content-Length`)
    t.equal(result.headers['content-type'], 'application/zip', `${path}: application/zip`)
    await readsBack(t, result.body, GENERATED, { method: path === '/deflated.zip' ? 8 : 0 })
    if (path === '/sync.zip') stored = result.body.length
    if (path === '/deflated.zip') t.ok(result.body.length < stored / 5, `deflated: ${result.body.length} bytes, stored ${stored}`)
  }
  const empty = await download('curl-h2c', `${server.base}/empty.zip`)
  t.equal(empty.headers['content-length'], '22', 'no entry: the end of central directory record alone, sized')
  t.equal(empty.body.length, 22)
  const archive = await ArchiveFile.of(empty.body)
  t.teardown(() => archive.remove())
  t.same(await archive.python(), { entries: [], bad: null }, 'Python: an empty archive')
  t.same(await archive.bsdtarList(), [], 'bsdtar: an empty archive')
  t.match((await archive.unzipTest()).output, /zipfile is empty/, 'unzip: an empty archive')
})

t.test('entries are taken one at a time: the next one pulled and opened only after the previous content ended', async (t) => {
  const log: string[] = []
  function entry (i: number): ZipEntry {
    return {
      name: `${i}.txt`,
      file: {
        open: async () => { log.push(`open ${i}`); await nextTurn() },
        stream: () => {
          log.push(`stream ${i}`)
          return (async function * () {
            try {
              for (let chunk = 0; chunk < 3; chunk++) {
                await nextTurn()
                yield `${i}:${chunk} `.repeat(1000)
              }
            } finally {
              log.push(`end ${i}`)
            }
          })()
        }
      }
    }
  }
  const COUNT = 4
  const server = await startServer('http1', (app) => {
    app.get('/array.zip', (request, reply) => reply.virtualDownload(new ZipFile(Array.from({ length: COUNT }, (_, i) => entry(i)))))
    app.get('/async.zip', (request, reply) => reply.virtualDownload(new ZipFile((async function * () {
      for (let i = 0; i < COUNT; i++) {
        log.push(`pull ${i}`)
        yield entry(i)
      }
    })())))
  })
  t.teardown(() => server.close())
  const expected = Array.from({ length: COUNT }, (_, i) => ({ name: `${i}.txt`, content: [0, 1, 2].map((chunk) => `${i}:${chunk} `.repeat(1000)).join('') }))
  for (const path of ['/array.zip', '/async.zip']) {
    log.length = 0
    const result = await download('curl', `${server.base}${path}`)
    t.notOk(result.failed, `${path}: complete`)
    await readsBack(t, result.body, expected)
    const per = (i: number): string[] => [...(path === '/async.zip' ? [`pull ${i}`] : []), `open ${i}`, `stream ${i}`, `end ${i}`]
    t.same(log, Array.from({ length: COUNT }, (_, i) => per(i)).flat(), `${path}: each entry pulled, opened, streamed and ended before the next`)
  }
})

t.test('a large archive of in-memory entries lets the event loop run between entries', async (t) => {
  const order: string[] = []
  const COUNT = 200
  const { app } = await build()
  app.get('/memory.zip', (request, reply) => reply.virtualDownload(new ZipFile(Array.from({ length: COUNT }, (_, i) => {
    const file = new ContentFile(Buffer.alloc(1024, i))
    return {
      name: `${i}.bin`,
      file: {
        size: file.size,
        stream: () => {
          order.push(`entry ${i}`)
          // scheduled while the archive is produced, after its first entry
          if (i === 1) setImmediate(() => order.push('setImmediate'))
          return file.stream()
        }
      }
    }
  }))))
  t.teardown(() => app.close())
  // inject: a consumer that never pushes back, as a fast client
  const response = await app.inject('/memory.zip')
  t.equal(response.statusCode, 200)
  t.equal(response.headers['content-length'], String(response.rawPayload.length))
  const at = order.indexOf('setImmediate')
  t.ok(at > 0 && at < order.indexOf(`entry ${COUNT - 1}`), `the setImmediate ran before the last entry was read (after ${order[at - 1] ?? 'nothing'})`)
})
