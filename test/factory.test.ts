// Content factories (the contract's "Factories" bullet) over real HTTP: produced afresh per
// response that sends a body and only then, resumable with a size and a validator, a range of a
// non-seekable factory skipped to and stopped after, a seekable one handed its range; failures
// before and after the first byte; every content kind a factory may return; curl -C - resumes.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { VirtualFile, type ByteRange, type ContentFactory, type VirtualContent, type VirtualFileOptions } from '../lib/index.js'
import { eventually } from './helpers.js'
import { CLIENTS, download, startServer, streamDownload, type ServerKind } from './protocols.js'

const run = promisify(execFile)
const SIZE = 200_000
const BYTES = Buffer.alloc(SIZE)
for (let i = 0; i < SIZE; i++) BYTES[i] = (i * 13 + (i >> 9)) & 0xff
const ETAG = '"export-v7"'
const MODIFIED = new Date('2026-03-04T05:06:07Z')

function * chunks (bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}
async function * asyncChunks (bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (const chunk of chunks(bytes, size)) {
    await new Promise((resolve) => setImmediate(resolve))
    yield chunk
  }
}

/** Every content kind a factory may return (and a promise of each), from `bytes`. */
const CONTENT: Record<string, (bytes: Buffer) => VirtualContent | Promise<VirtualContent>> = {
  string: (bytes) => bytes.toString('latin1').length === bytes.length && bytes.every((byte) => byte < 0x80) ? bytes.toString('latin1') : bytes,
  bytes: (bytes) => new Uint8Array(bytes),
  blob: (bytes) => new Blob([bytes]),
  readable: (bytes) => Readable.from(chunks(bytes, 4096), { objectMode: false }),
  objectReadable: (bytes) => Readable.from(chunks(bytes, 1000)),
  webStream: (bytes) => Readable.toWeb(Readable.from(chunks(bytes, 5000), { objectMode: false })) as ReadableStream<Uint8Array>,
  iterable: (bytes) => chunks(bytes, 3000),
  asyncIterable: (bytes) => asyncChunks(bytes, 7000),
  promise: async (bytes) => {
    await new Promise((resolve) => setImmediate(resolve))
    return chunks(bytes, 2500)
  }
}

interface Counters { calls: number, args: Array<ByteRange | undefined>, finallyRan: number, produced: number }
const counters: Counters = { calls: 0, args: [], finallyRan: 0, produced: 0 }
function reset (): void {
  counters.calls = 0
  counters.args = []
  counters.finallyRan = 0
  counters.produced = 0
}

/** A counted generator of BYTES in 4 KiB chunks; its finally is counted. */
function * counted (): Generator<Buffer> {
  try {
    for (const chunk of chunks(BYTES, 4096)) {
      counters.produced += chunk.length
      yield chunk
    }
  } finally {
    counters.finallyRan++
  }
}

// one file for every response: a factory is produced afresh each time
const shared = new VirtualFile((...args: [ByteRange?]) => {
  counters.calls++
  counters.args.push(...args)
  return counted()
}, { name: 'export.bin', size: SIZE, etag: ETAG })

const streams: Readable[] = []

function routes (app: FastifyInstance): void {
  app.get('/shared', (request, reply) => reply.virtualDownload(shared))
  app.get('/stream-factory', { virtualDownload: true }, () => new VirtualFile(() => {
    const stream = Readable.from(chunks(BYTES, 1024), { objectMode: false })
    streams.push(stream)
    return stream
  }, { size: SIZE, etag: ETAG }))
  app.get<{ Params: { kind: string } }>('/kind/:kind', { virtualDownload: true }, (request) => {
    const make = CONTENT[request.params.kind] as (bytes: Buffer) => VirtualContent | Promise<VirtualContent>
    return new VirtualFile(() => make(BYTES), { name: 'k.bin', size: SIZE, modifiedTime: MODIFIED })
  })
  app.get<{ Params: { kind: string } }>('/seekable/:kind', { virtualDownload: true }, (request) => {
    const make = CONTENT[request.params.kind] as (bytes: Buffer) => VirtualContent | Promise<VirtualContent>
    return new VirtualFile((range) => {
      counters.args.push(range)
      return make(range === undefined ? BYTES : BYTES.subarray(range.start, range.end + 1))
    }, { name: 's.bin', size: SIZE, etag: ETAG, seekable: true })
  })
}

t.test('produced once per response that sends a body, never for HEAD, 304, 412, 416', async (t) => {
  const server = await startServer('http1', routes)
  t.teardown(() => server.close())
  const url = `${server.base}/shared`
  // [headers, method, status, factory calls]
  const table: Array<[Record<string, string>, 'GET' | 'HEAD', number, number]> = [
    [{}, 'GET', 200, 1],
    [{}, 'GET', 200, 1],
    [{ range: 'bytes=10-19' }, 'GET', 206, 1],
    [{ range: 'bytes=0-9,100000-100009' }, 'GET', 206, 1],
    [{}, 'HEAD', 200, 0],
    [{ range: 'bytes=10-19' }, 'HEAD', 200, 0],
    [{ 'if-none-match': ETAG }, 'GET', 304, 0],
    [{ 'if-match': '"other"' }, 'GET', 412, 0],
    [{ range: `bytes=${SIZE}-` }, 'GET', 416, 0]
  ]
  for (const [headers, method, status, calls] of table) {
    reset()
    const response = await download('node-http', url, { method, headers })
    t.same([response.status, counters.calls], [status, calls], `${method} ${JSON.stringify(headers)}`)
    t.same(counters.args, [], 'a factory that is not seekable is called with no argument')
  }
  const whole = await download('curl', url)
  t.same([whole.headers['accept-ranges'], whole.headers.etag, whole.headers['content-length']], ['bytes', ETAG, String(SIZE)])
  t.ok(whole.body.equals(BYTES), 'the whole file, served again and again')
})

t.test('ranges are offered only with a size and an etag or a modifiedTime', async (t) => {
  const make = (): Iterable<Buffer> => chunks(BYTES, 1000)
  const files: Array<[string, VirtualFile, boolean]> = [
    ['size + etag', new VirtualFile(make, { size: SIZE, etag: ETAG }), true],
    ['size + modifiedTime', new VirtualFile(make, { size: SIZE, modifiedTime: MODIFIED }), true],
    ['size + wasModifiedSince only', new VirtualFile(make, { size: SIZE, wasModifiedSince: () => true }), false],
    ['size only', new VirtualFile(make, { size: SIZE }), false],
    ['etag only', new VirtualFile(make, { etag: ETAG }), false]
  ]
  const server = await startServer('http1', (app) => {
    files.forEach(([, file], index) => app.get(`/${index}`, (request, reply) => reply.virtualDownload(file)))
  })
  t.teardown(() => server.close())
  for (const [index, [what, file, ranged]] of files.entries()) {
    t.equal(file.acceptsRanges, ranged, `${what}: acceptsRanges`)
    const response = await download('node-http', `${server.base}/${index}`, { headers: { range: 'bytes=0-9' } })
    t.same([response.status, response.headers['accept-ranges']], ranged ? [206, 'bytes'] : [200, undefined], what)
    t.ok(response.body.equals(ranged ? BYTES.subarray(0, 10) : BYTES), `${what}: the bytes`)
  }
})

t.test('every content kind from a factory, whole and ranged, seekable or not (HTTP/1.1, h2c, h2)', async (t) => {
  for (const kind of ['http1', 'h2c', 'h2'] as ServerKind[]) {
    const server = await startServer(kind, routes)
    const client = CLIENTS[kind][0] as (typeof CLIENTS)[ServerKind][number]
    for (const name of Object.keys(CONTENT)) {
      for (const path of [`/kind/${name}`, `/seekable/${name}`]) {
        const whole = await download(client, `${server.base}${path}`)
        t.same([whole.status, whole.failed], [200, false], `${kind} ${path}: 200`)
        t.ok(whole.body.equals(BYTES), `${kind} ${path}: the whole file`)
        const ranged = await download(client, `${server.base}${path}`, { headers: { range: 'bytes=123456-150000' } })
        t.same([ranged.status, ranged.headers['content-range']], [206, `bytes 123456-150000/${SIZE}`], `${kind} ${path}: 206`)
        t.ok(ranged.body.equals(BYTES.subarray(123_456, 150_001)), `${kind} ${path}: the range's bytes`)
      }
    }
    await server.close()
  }
})

t.test('a seekable factory is handed the range (undefined for the whole file); a slice of the wrong length is a size lie', async (t) => {
  let lie = 0
  const server = await startServer('http1', (app) => {
    routes(app)
    app.get('/liar', { virtualDownload: true }, () => new VirtualFile((range) => {
      const { start, end } = range ?? { start: 0, end: SIZE - 1 }
      return asyncChunks(BYTES.subarray(start, end + 1 + lie), 10_000)
    }, { size: SIZE, etag: ETAG, seekable: true }))
  })
  t.teardown(() => server.close())
  counters.args = []
  await download('node-http', `${server.base}/seekable/iterable`)
  await download('node-http', `${server.base}/seekable/iterable`, { headers: { range: 'bytes=-100' } })
  t.same(counters.args, [undefined, { start: SIZE - 100, end: SIZE - 1 }])
  for (lie of [-1, 1]) {
    for (const client of ['node-http', 'curl', 'fetch'] as const) {
      const response = await download(client, `${server.base}/liar`, { headers: { range: 'bytes=0-99999' } })
      t.same([response.status, response.failed], [206, true], `a slice ${lie < 0 ? 'short' : 'long'} by a byte, ${client}: a failure the client sees`)
    }
  }
})

t.test('a range of a non-seekable factory: the bytes before it skipped, the producer stopped after it', async (t) => {
  const server = await startServer('http1', routes)
  t.teardown(() => server.close())
  reset()
  const response = await download('curl', `${server.base}/shared`, { headers: { range: 'bytes=5000-5999' } })
  t.same([response.status, response.body.equals(BYTES.subarray(5000, 6000))], [206, true])
  await eventually(() => counters.finallyRan === 1)
  t.ok(counters.produced <= 6000 + 2 * 65_536 + 4096, `stopped after the range (${counters.produced} of ${SIZE} bytes produced)`)
  // a stream from the factory is destroyed after the range
  streams.length = 0
  const ranged = await download('curl', `${server.base}/stream-factory`, { headers: { range: 'bytes=1000-1999' } })
  t.same([ranged.status, ranged.body.equals(BYTES.subarray(1000, 2000))], [206, true])
  t.equal(streams.length, 1)
  await eventually(() => streams[0]?.destroyed === true)
  t.notOk(streams[0]?.readableEnded, 'destroyed before its end')
})

t.test('a factory that throws or rejects: an error response before the first byte, none of the download\'s headers', async (t) => {
  const failing: Record<string, ContentFactory> = {
    throws: () => { throw new Error('no export today') },
    rejects: async () => { throw new Error('no export today') },
    // a stream that fails before its first chunk
    failsFirst: () => (async function * () { throw new Error('no export today') })()
  }
  const server = await startServer('http1', (app) => {
    for (const [name, factory] of Object.entries(failing)) {
      app.get(`/${name}`, { virtualDownload: true }, () => new VirtualFile(factory, { name: 'x.csv', size: 100, etag: ETAG }))
      app.get(`/seekable-${name}`, { virtualDownload: true }, () => new VirtualFile(factory, { name: 'x.csv', size: 100, etag: ETAG, seekable: true }))
    }
  })
  t.teardown(() => server.close())
  for (const name of Object.keys(failing)) {
    for (const path of [name, `seekable-${name}`]) {
      for (const range of [undefined, 'bytes=10-19', 'bytes=0-9,90-99']) {
        const response = await download('node-http', `${server.base}/${path}`, { headers: range === undefined ? {} : { range } })
        t.same([response.status, response.headers['content-disposition'], response.headers.etag], [500, undefined, undefined], `${path} ${range ?? 'whole'}: 500`)
      }
    }
  }
})

t.test('a client that leaves mid-body: the factory\'s generator is stopped (its finally runs), on HTTP/1.1 and HTTP/2', async (t) => {
  for (const kind of ['http1', 'h2c'] as ServerKind[]) {
    let finallyRan = 0
    const server = await startServer(kind, (app) => {
      app.get('/big', { virtualDownload: true }, () => new VirtualFile(function * () {
        try {
          for (let i = 0; i < 1024; i++) yield Buffer.alloc(65_536, i)
        } finally {
          finallyRan++
        }
      }, { size: 1024 * 65_536, etag: ETAG }))
    })
    for (const range of [undefined, 'bytes=1000-50000000']) {
      finallyRan = 0
      const streaming = streamDownload(kind, `${server.base}/big`, { headers: range === undefined ? {} : { range } })
      await streaming.firstData
      streaming.pause()
      streaming.cancel()
      await eventually(() => finallyRan === 1)
      t.pass(`${kind} ${range ?? 'whole'}: stopped`)
    }
    await server.close()
  }
})

t.test('curl -C - resumes a generated download to the bytes of a full one', async (t) => {
  const server = await startServer('http1', routes)
  t.teardown(() => server.close())
  const dir = mkdtempSync(join(tmpdir(), 'fdv-resume-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const partial = join(dir, 'partial.bin')
  // the first attempt died after 77,777 bytes
  writeFileSync(partial, BYTES.subarray(0, 77_777))
  const { stdout } = await run('curl', ['-sS', '-C', '-', '-o', partial, '-w', '%{http_code}', `${server.base}/kind/asyncIterable`])
  t.equal(stdout, '206')
  t.ok(readFileSync(partial).equals(BYTES), 'resumed: identical to the file')
})

t.test('options: seekable must be a boolean, and only for a factory', async (t) => {
  t.throws(() => new VirtualFile(() => '', { seekable: 'yes' as unknown as boolean }), { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: /VirtualFile\.seekable.*boolean/ })
  // (TypeScript refuses both: seekable is an option of factory content only; JavaScript gets told)
  const seekable = (value: boolean): VirtualFileOptions => ({ seekable: value }) as VirtualFileOptions
  t.throws(() => new VirtualFile('text', seekable(true)), { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: /VirtualFile\.seekable.*factory/ })
  t.doesNotThrow(() => new VirtualFile('text', seekable(false)))
})

t.test('property: any range of a non-seekable factory, any chunking, sync or async: the range\'s bytes', async (t) => {
  const server = await startServer('http1', (app) => {
    app.get<{ Querystring: { chunk: string, async: string } }>('/p', { virtualDownload: true }, (request) => {
      const size = Number(request.query.chunk)
      return new VirtualFile(() => request.query.async === '1' ? asyncChunks(BYTES, size) : chunks(BYTES, size), { size: SIZE, etag: ETAG })
    })
  })
  t.teardown(() => server.close())
  await fc.assert(fc.asyncProperty(fc.nat(SIZE - 1), fc.nat(SIZE), fc.integer({ min: 1, max: 70_000 }), fc.boolean(), async (start, length, chunk, async) => {
    const end = Math.min(start + length, SIZE - 1)
    const response = await download('node-http', `${server.base}/p?chunk=${chunk}&async=${async ? 1 : 0}`, { headers: { range: `bytes=${start}-${end}` } })
    if (response.status !== 206 || !response.body.equals(BYTES.subarray(start, end + 1))) throw new Error(`${response.status}: ${response.body.length} bytes`)
  }), { numRuns: 50 })
  t.pass('50 random ranges')
})

t.test('an async factory\'s content that arrives for a stream destroyed unread is released', async (t) => {
  let resolve: (content: Readable) => void = () => {}
  const file = new VirtualFile(() => new Promise<Readable>((done) => { resolve = done }), { size: 10, etag: ETAG })
  const stream = file.stream() as Readable
  stream.destroy()
  const late = new Readable({ read () {} })
  resolve(late)
  await eventually(() => late.destroyed)
  t.ok(late.destroyed, 'destroyed')
  // a rejection then is no unhandled one
  const failing = new VirtualFile(async () => { throw new Error('late') }, { size: 10, etag: ETAG })
  ;(failing.stream() as Readable).destroy()
  await new Promise((done) => setImmediate(done))
  t.pass('no unhandled rejection')
})
