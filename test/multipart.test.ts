// Several ranges in one request (multipart/byteranges, RFC 9110 §14.6) over real HTTP: every kind
// of file that can answer them, the rules of the contract's "Several ranges" bullet, failures
// before and after the first byte, and a client that leaves mid-part. Bodies are read back by
// test/fixtures/byteranges.ts, a parser written apart from lib/.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { ContentFile, VirtualFile, type ByteRange, type DownloadFile } from '../lib/index.js'
import { boundaryOf, parseByteranges } from './fixtures/byteranges.js'
import { CLIENTS, download, startServer, streamDownload, type ServerKind } from './protocols.js'
import { eventually } from './helpers.js'

const SIZE = 100_000
const BYTES = Buffer.alloc(SIZE)
for (let i = 0; i < SIZE; i++) BYTES[i] = (i * 7 + (i >> 8)) & 0xff
const ETAG = '"v1"'
const RANGES = 'bytes=99000-,0-99,50000-50999'
const EXPECTED: ByteRange[] = [{ start: 0, end: 99 }, { start: 50_000, end: 50_999 }, { start: 99_000, end: 99_999 }]

/** `bytes` in chunks of `size` (the last one shorter). */
function * chunks (bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

const dir = mkdtempSync(join(tmpdir(), 'fdv-multipart-'))
t.teardown(() => rmSync(dir, { recursive: true, force: true }))
writeFileSync(join(dir, 'data.bin'), BYTES)

/** What each kind of file did, per request id: factory calls, generator finally, streams asked. */
const seen = {
  factoryCalls: 0,
  seekableRanges: [] as Array<ByteRange | undefined>,
  finallyRan: 0,
  produced: 0,
  customStreams: [] as ByteRange[]
}

/** One route per kind of file that answers several ranges. */
const KINDS: Record<string, (app: FastifyInstance) => void> = {
  string (app) {
    const text = BYTES.toString('latin1')
    // latin1 text of one byte per character would be UTF-8 encoded: bytes keep it exact
    app.get('/string', { virtualDownload: true }, () => new VirtualFile(Buffer.from(text, 'latin1'), { name: 'data.bin' }))
  },
  contentFile (app) {
    app.get('/contentFile', { virtualDownload: true }, () => new ContentFile(BYTES, { name: 'data.bin' }))
  },
  blob (app) {
    const blob = new Blob([BYTES])
    app.get('/blob', (request, reply) => reply.virtualDownload(blob, { basename: 'data.bin' }))
  },
  factory (app) {
    app.get('/big-factory', { virtualDownload: true }, () => new VirtualFile(function * () {
      seen.factoryCalls++
      try {
        for (let at = 0; at < 4 * 1024 * 1024; at += 4096) {
          seen.produced += 4096
          yield Buffer.alloc(4096, at >> 12)
        }
      } finally {
        seen.finallyRan++
      }
    }, { name: 'big.bin', size: 4 * 1024 * 1024, etag: ETAG }))
    app.get('/factory', { virtualDownload: true }, () => new VirtualFile(function * () {
      seen.factoryCalls++
      try {
        for (const chunk of chunks(BYTES, 4096)) {
          seen.produced += chunk.length
          yield chunk
        }
      } finally {
        seen.finallyRan++
      }
    }, { name: 'data.bin', size: SIZE, etag: ETAG }))
  },
  asyncFactory (app) {
    app.get('/asyncFactory', { virtualDownload: true }, () => new VirtualFile(async () => {
      seen.factoryCalls++
      await new Promise((resolve) => setImmediate(resolve))
      return Readable.from(chunks(BYTES, 1000))
    }, { name: 'data.bin', size: SIZE, modifiedTime: new Date('2026-01-01T00:00:00Z') }))
  },
  seekable (app) {
    app.get('/seekable', { virtualDownload: true }, () => new VirtualFile((range) => {
      seen.seekableRanges.push(range)
      const { start, end } = range ?? { start: 0, end: SIZE - 1 }
      return chunks(BYTES.subarray(start, end + 1), 333)
    }, { name: 'data.bin', size: SIZE, etag: ETAG, seekable: true }))
  },
  disk (app) {
    app.get('/disk', { pathDownload: { root: dir } }, () => 'data.bin')
  },
  custom (app) {
    // any DownloadFile that says so: stream(range) once per part, each ended before the next
    app.get('/custom', { virtualDownload: true }, (): DownloadFile => ({
      name: 'data.bin',
      size: SIZE,
      acceptsRanges: true,
      acceptsMultipleRanges: true,
      stream (range) {
        const { start, end } = range as ByteRange
        seen.customStreams.push({ start, end })
        return Readable.from(chunks(BYTES.subarray(start, end + 1), 777), { objectMode: false })
      }
    }))
  }
}

function routes (app: FastifyInstance): void {
  for (const add of Object.values(KINDS)) add(app)
  // files that answer one range, not several
  app.get('/single-only', { virtualDownload: true }, (): DownloadFile => ({ name: 'data.bin', size: SIZE, acceptsRanges: true, stream: (range) => range === undefined ? BYTES : BYTES.subarray(range.start, range.end + 1) }))
  app.get('/max1', { virtualDownload: { maxRanges: 1 } }, () => new ContentFile(BYTES, { name: 'data.bin' }))
  app.get('/text', { virtualDownload: true }, () => new ContentFile('x'.repeat(1000), { name: 'notes.txt' }))
}

for (const kind of ['http1', 'h2c', 'h2'] as ServerKind[]) {
  t.test(`${kind}: every kind of file answers several ranges with multipart/byteranges`, async (t) => {
    const server = await startServer(kind, routes)
    t.teardown(() => server.close())
    for (const client of CLIENTS[kind]) {
      if (client === 'raw-1.0' || client === 'wget') continue
      for (const name of Object.keys(KINDS)) {
        const response = await download(client, `${server.base}/${name}`, { headers: { range: RANGES } })
        const what = `${client} /${name}`
        t.equal(response.status, 206, `${what}: 206`)
        t.notOk(response.failed, `${what}: a clean end`)
        t.equal(response.headers['content-length'], String(response.body.length), `${what}: exact Content-Length`)
        t.equal(response.headers['content-range'], undefined, `${what}: no Content-Range on the whole`)
        t.equal(response.headers['content-disposition'], 'attachment; filename="data.bin"')
        const parts = parseByteranges(response.headers['content-type'] as string, response.body)
        t.same(parts.map(({ start, end, size }) => ({ start, end, size })), EXPECTED.map((range) => ({ ...range, size: SIZE })), `${what}: the parts, ascending`)
        for (const part of parts) {
          t.equal(part.headers['content-type'], 'application/octet-stream', `${what}: a part's type is the 200's`)
          t.ok(part.body.equals(BYTES.subarray(part.start, part.end + 1)), `${what}: bytes ${part.start}-${part.end}`)
        }
      }
    }
  })
}

t.test('the rules: maxRanges, malformed lists, unsatisfiable specs, coalescing, If-Range, HEAD, files without multipart', async (t) => {
  const server = await startServer('http1', routes)
  t.teardown(() => server.close())
  const url = `${server.base}/contentFile`
  const get = (path: string, headers: Record<string, string>, method: 'GET' | 'HEAD' = 'GET') => download('node-http', `${server.base}${path}`, { method, headers })
  // 16 specs are answered, 17 are not (counted as sent, before coalescing)
  const specs = (n: number): string => `bytes=${Array.from({ length: n }, (_, i) => `${i * 1000}-${i * 1000 + 9}`).join(',')}`
  const sixteen = await get('/contentFile', { range: specs(16) })
  t.equal(sixteen.status, 206)
  t.equal(parseByteranges(sixteen.headers['content-type'] as string, sixteen.body).length, 16)
  const seventeen = await get('/contentFile', { range: specs(17) })
  t.same([seventeen.status, seventeen.body.length], [200, SIZE], '17 specs: the full 200')
  const coalescedSeventeen = await get('/contentFile', { range: `bytes=${Array.from({ length: 17 }, (_, i) => `${i}-${i}`).join(',')}` })
  t.equal(coalescedSeventeen.status, 200, '17 specs that would coalesce into one: still ignored')
  // maxRanges: 1 answers several ranges with the full 200, one range as usual
  t.same([(await get('/max1', { range: RANGES })).status, (await get('/max1', { range: 'bytes=0-9' })).status], [200, 206])
  // one malformed or invalid spec: the whole header is ignored
  for (const range of ['bytes=0-9,x-y', 'bytes=0-9,20-10', 'bytes=0-9,,-', 'bytes=0-9;100-200']) {
    const response = await get('/contentFile', { range })
    t.same([response.status, response.body.length], [200, SIZE], `${range}: full 200`)
  }
  // unsatisfiable specs dropped; none left: 416
  const dropped = await get('/contentFile', { range: 'bytes=200000-,0-9,300000-' })
  t.same([dropped.status, dropped.headers['content-range'], dropped.body.toString('hex')], [206, `bytes 0-9/${SIZE}`, BYTES.subarray(0, 10).toString('hex')], 'one left: a single-part 206')
  const none = await get('/contentFile', { range: 'bytes=200000-,300000-' })
  t.same([none.status, none.headers['content-range']], [416, `bytes */${SIZE}`])
  // closer than 80 bytes: one part; 80 apart: two
  const close = await get('/contentFile', { range: 'bytes=0-9,89-99' })
  t.same([close.status, close.headers['content-range']], [206, `bytes 0-99/${SIZE}`])
  const apart = await get('/contentFile', { range: 'bytes=0-9,90-99' })
  t.same(parseByteranges(apart.headers['content-type'] as string, apart.body).map((part) => [part.start, part.end]), [[0, 9], [90, 99]])
  // If-Range that does not match: the full 200; that matches: the parts
  const factory = `${server.base}/factory`
  t.same([(await download('node-http', factory, { headers: { range: RANGES, 'if-range': '"v0"' } })).status, (await download('node-http', factory, { headers: { range: RANGES, 'if-range': ETAG } })).status], [200, 206])
  // HEAD ignores Range: the headers of a GET without one
  const head = await get('/contentFile', { range: RANGES }, 'HEAD')
  t.same([head.status, head.headers['content-length'], head.headers['content-type'], head.body.length], [200, String(SIZE), 'application/octet-stream', 0])
  // a file that serves one range, not several: full 200 for several, 206 for one
  t.same([(await get('/single-only', { range: RANGES })).status, (await get('/single-only', { range: 'bytes=5-9' })).status], [200, 206])
  // a text file's parts carry its type with the charset, as its 200 does
  const text = await get('/text', { range: 'bytes=0-9,500-509' })
  t.same(parseByteranges(text.headers['content-type'] as string, text.body).map((part) => part.headers['content-type']), ['text/plain; charset=utf-8', 'text/plain; charset=utf-8'])
  // the boundary differs from one response to the next
  t.not(boundaryOf(apart.headers['content-type'] as string), boundaryOf(text.headers['content-type'] as string))
  void url
})

t.test('maxRanges is checked where it is given, naming the option', async (t) => {
  for (const value of [0, -1, 1.5, '2', null]) {
    await t.rejects(startServer('http1', () => {}, { plugin: { maxRanges: value as number } }), { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: /"maxRanges": must be a positive integer/ }, `plugin maxRanges ${String(value)}`)
    await t.rejects(startServer('http1', (app) => { app.get('/x', { virtualDownload: { maxRanges: value as number } }, () => 'x') }), { message: /"virtualDownload.maxRanges": must be a positive integer/ }, `route maxRanges ${String(value)}`)
  }
})

t.test('a factory: produced once for all the parts, stopped after the last; a seekable one once per part', async (t) => {
  const server = await startServer('http1', routes)
  t.teardown(() => server.close())
  seen.factoryCalls = 0
  seen.finallyRan = 0
  seen.produced = 0
  const response = await download('curl', `${server.base}/big-factory`, { headers: { range: 'bytes=1000-1999,500000-500999' } })
  t.equal(response.status, 206)
  // byte i of that file is (i >> 12) & 0xff
  const expected = (start: number, end: number): Buffer => Buffer.from(Array.from({ length: end - start + 1 }, (_, i) => ((start + i) >> 12) & 0xff))
  t.same(parseByteranges(response.headers['content-type'] as string, response.body).map((part) => part.body.equals(expected(part.start, part.end))), [true, true], 'the bytes of both parts')
  t.equal(seen.factoryCalls, 1, 'one pass')
  await eventually(() => seen.finallyRan === 1)
  // the producer runs ahead of what is sent by at most its stream's buffers (64 KiB gathered, 64 KiB queued)
  t.ok(seen.produced <= 501_000 + 2 * 65_536 + 4096, `stopped right after the last part (${seen.produced} of 4,194,304 bytes produced)`)
  seen.seekableRanges.length = 0
  await download('curl', `${server.base}/seekable`, { headers: { range: RANGES } })
  t.same(seen.seekableRanges, EXPECTED, 'a seekable factory is handed each part, in order')
  seen.customStreams.length = 0
  await download('curl', `${server.base}/custom`, { headers: { range: RANGES } })
  t.same(seen.customStreams, EXPECTED, 'a DownloadFile with acceptsMultipleRanges: stream(range) per part, in order')
})

t.test('failures: before the first byte an error response, after it a cut connection; a wrong part length is a size lie', async (t) => {
  let mode = ''
  const server = await startServer('http1', (app) => {
    app.get('/fail', { virtualDownload: true }, (): DownloadFile => ({
      name: 'data.bin',
      size: SIZE,
      acceptsRanges: true,
      acceptsMultipleRanges: true,
      stream (range) {
        const { start, end } = range as ByteRange
        if (mode === 'first-throws' && start === 0) throw new Error('no first part')
        if (mode === 'first-fails-later' && start === 0) {
          return (async function * () {
            await new Promise((resolve) => setTimeout(resolve, 20))
            throw new Error('no first part after all')
          })()
        }
        if (mode === 'second-fails' && start !== 0) {
          return (async function * () {
            yield BYTES.subarray(start, start + 10)
            throw new Error('the second part broke')
          })()
        }
        // a slice of the wrong length: in memory (known before anything is sent), or streamed later
        if (mode === 'short-now' && start !== 0) return BYTES.subarray(start, end)
        if (mode === 'long-now' && start !== 0) return BYTES.subarray(start, end + 2)
        if ((mode === 'short' || mode === 'long') && start !== 0) {
          return (async function * () {
            await new Promise((resolve) => setImmediate(resolve))
            yield BYTES.subarray(start, mode === 'short' ? end : end + 2)
          })()
        }
        return BYTES.subarray(start, end + 1)
      }
    }))
  })
  t.teardown(() => server.close())
  for (mode of ['first-throws', 'first-fails-later']) {
    const early = await download('node-http', `${server.base}/fail`, { headers: { range: RANGES } })
    t.equal(early.status, 500, `${mode}: an error response`)
    t.equal(early.headers['content-disposition'], undefined, `${mode}: none of the download's headers`)
    t.notOk((early.headers['content-type'] ?? '').startsWith('multipart/'), `${mode}: no multipart head went out`)
  }
  for (const lie of ['short-now', 'long-now']) {
    mode = lie
    const known = await download('node-http', `${server.base}/fail`, { headers: { range: RANGES } })
    t.same([known.status, known.headers['content-disposition'], JSON.parse(known.body.toString()).code], [500, undefined, 'FST_DOWNLOADVIEW_SIZE_MISMATCH'], `${lie}: a size lie known before the first byte is a 500`)
  }
  for (const failing of ['second-fails', 'short', 'long']) {
    mode = failing
    for (const client of ['node-http', 'curl', 'fetch'] as const) {
      const late = await download(client, `${server.base}/fail`, { headers: { range: RANGES } })
      t.equal(late.status, 206, `${failing} ${client}: the answer had started`)
      t.ok(late.failed, `${failing} ${client}: the client sees a failure, never a clean end`)
    }
  }
  t.ok(server.logs.some((line) => line.level === 50 && /size|second part/i.test(JSON.stringify(line))), 'logged at error')
})

t.test('a client that leaves mid-part: the part being read is destroyed, the generator\'s finally runs (HTTP/1.1 and HTTP/2)', async (t) => {
  for (const kind of ['http1', 'h2c'] as ServerKind[]) {
    let finallyRan = 0
    let started = 0
    const server = await startServer(kind, (app) => {
      app.get('/slow', { virtualDownload: true }, () => new VirtualFile(async function * () {
        started++
        try {
          // 64 MiB: more than any socket buffer takes while the client holds the body
          for (let i = 0; i < 1024; i++) yield Buffer.alloc(65_536, i & 0xff)
        } finally {
          finallyRan++
        }
      }, { name: 'big.bin', size: 1024 * 65_536, etag: ETAG }))
    })
    const download = streamDownload(kind, `${server.base}/slow`, { headers: { range: 'bytes=0-99,60000000-60000099' } })
    await download.firstData
    download.pause()
    t.equal(started, 1, `${kind}: produced once`)
    download.cancel()
    await eventually(() => finallyRan === 1)
    t.pass(`${kind}: the producer stopped`)
    await server.close()
  }
})

t.test('property: any ranges, any chunking, every kind of source: the parts are the bytes asked', async (t) => {
  const server = await startServer('http1', (app) => {
    app.get<{ Querystring: { chunk: string, kind: string } }>('/any', { virtualDownload: true }, (request) => {
      const chunk = Number(request.query.chunk)
      const kind = request.query.kind
      if (kind === 'seekable') {
        return new VirtualFile((range) => chunks(BYTES.subarray(range?.start ?? 0, (range?.end ?? SIZE - 1) + 1), chunk), { size: SIZE, etag: ETAG, seekable: true })
      }
      if (kind === 'stream') return new VirtualFile(() => Readable.from(chunks(BYTES, chunk)), { size: SIZE, etag: ETAG })
      return new VirtualFile(() => chunks(BYTES, chunk), { size: SIZE, etag: ETAG })
    })
  })
  t.teardown(() => server.close())
  const spec = fc.tuple(fc.nat(SIZE - 1), fc.nat(3000)).map(([start, length]) => `${start}-${Math.min(start + length, SIZE + 10)}`)
  await fc.assert(fc.asyncProperty(
    fc.array(spec, { minLength: 2, maxLength: 8 }),
    fc.integer({ min: 1, max: 9000 }),
    fc.constantFrom('generator', 'stream', 'seekable'),
    async (specs, chunk, kind) => {
      const response = await download('node-http', `${server.base}/any?chunk=${chunk}&kind=${kind}`, { headers: { range: `bytes=${specs.join(',')}` } })
      if (response.status !== 206 || response.failed) throw new Error(`${response.status} ${response.detail}`)
      if (response.headers['content-length'] !== String(response.body.length)) throw new Error('Content-Length')
      const type = response.headers['content-type'] as string
      const parts = type.startsWith('multipart/')
        ? parseByteranges(type, response.body)
        : [{ start: Number(/bytes (\d+)-/.exec(response.headers['content-range'] as string)?.[1]), body: response.body }]
      for (const part of parts) {
        if (!part.body.equals(BYTES.subarray(part.start, part.start + part.body.length))) throw new Error(`bytes at ${part.start}`)
      }
    }
  ), { numRuns: 60 })
  t.pass('60 random requests')
})
