import { Readable } from 'node:stream'
import t from 'tap'
import { ContentFile, VirtualFile, type DownloadFile } from '../lib/index.js'
import { build, ERROR } from './helpers.js'

const mtime = new Date('2026-01-02T03:04:05Z')
const DOWNLOAD_HEADERS = ['content-disposition', 'content-length', 'etag', 'last-modified', 'accept-ranges', 'content-range']

t.test('headers of a download', async (t) => {
  const { app } = await build()
  app.get('/full', { virtualDownload: { cacheControl: 'public, max-age=60' } }, () =>
    new ContentFile('0123456789', { name: 'reports/2026/digits.txt', etag: 'v1', modifiedTime: mtime }))
  app.get('/unicode', { virtualDownload: true }, () => new ContentFile('x', { name: 'rapport été 2026.csv' }))
  app.get('/hostile', { virtualDownload: true }, () => new ContentFile('x', { name: 'a"\r\nSet-Cookie: x=1;.txt' }))
  app.get('/basename', { virtualDownload: { basename: 'chosen.json', mimetype: 'application/json', charset: 'utf-16le' } }, () => new ContentFile('x', { name: 'ignored.txt' }))
  app.get('/noname', { virtualDownload: true }, () => new VirtualFile(Readable.from(['x'])))

  const full = await app.inject('/full')
  t.same({ ...full.headers, date: undefined, connection: undefined }, {
    'content-type': 'text/plain; charset=utf-8',
    'content-disposition': 'attachment; filename="digits.txt"',
    'content-length': '10',
    'accept-ranges': 'bytes',
    'last-modified': 'Fri, 02 Jan 2026 03:04:05 GMT',
    etag: '"v1"',
    'cache-control': 'public, max-age=60',
    date: undefined,
    connection: undefined
  })
  t.equal((await app.inject('/unicode')).headers['content-disposition'],
    'attachment; filename="rapport ete 2026.csv"; filename*=UTF-8\'\'rapport%20%C3%A9t%C3%A9%202026.csv')
  const hostile = await app.inject('/hostile')
  t.equal(hostile.headers['content-disposition'], 'attachment; filename="a___Set-Cookie: x=1;.txt"')
  t.equal(hostile.headers['set-cookie'], undefined)
  const chosen = await app.inject('/basename')
  t.equal(chosen.headers['content-disposition'], 'attachment; filename="chosen.json"')
  t.equal(chosen.headers['content-type'], 'application/json; charset=utf-16le')
  const noname = await app.inject('/noname')
  t.equal(noname.headers['content-disposition'], 'attachment')
  t.equal(noname.headers['content-type'], 'application/octet-stream')
  t.equal(noname.headers['accept-ranges'], undefined, 'a stream cannot slice: no Accept-Ranges')
})

t.test('conditional requests', async (t) => {
  const { app } = await build({ cacheControl: 'no-cache' })
  let started = 0
  function * stream (): Generator<string> {
    started++
    yield 'body'
  }
  app.get('/tagged', { virtualDownload: true }, () => new VirtualFile(stream(), { name: 'a.txt', etag: 'v1', modifiedTime: mtime }))
  app.get('/trusted', { virtualDownload: true }, () => new VirtualFile(stream(), { name: 'a.txt', wasModifiedSince: async (since) => since < mtime }))
  app.get('/untracked', { virtualDownload: true }, () => new VirtualFile(stream(), { name: 'a.txt' }))

  const notModified = await app.inject({ url: '/tagged', headers: { 'if-none-match': 'W/"v1"' } })
  t.equal(notModified.statusCode, 304)
  t.equal(notModified.body, '')
  t.equal(notModified.headers.etag, '"v1"')
  t.equal(notModified.headers['last-modified'], 'Fri, 02 Jan 2026 03:04:05 GMT')
  t.equal(notModified.headers['cache-control'], 'no-cache')
  t.equal(notModified.headers['content-disposition'], undefined)
  t.equal((await app.inject({ url: '/tagged', headers: { 'if-none-match': '"v0"', 'if-modified-since': mtime.toUTCString() } })).statusCode, 200, 'If-None-Match wins')
  t.equal((await app.inject({ url: '/tagged', headers: { 'if-modified-since': mtime.toUTCString() } })).statusCode, 304)
  t.equal((await app.inject({ url: '/tagged', headers: { 'if-modified-since': 'garbage' } })).statusCode, 200, 'unparseable dates are ignored')
  t.equal((await app.inject({ url: '/untracked', headers: { 'if-none-match': '*' } })).statusCode, 304)
  t.equal((await app.inject({ url: '/untracked', headers: { 'if-modified-since': mtime.toUTCString() } })).statusCode, 200, 'no validators: modified')
  t.equal((await app.inject({ url: '/trusted', headers: { 'if-modified-since': mtime.toUTCString() } })).statusCode, 304, 'wasModifiedSince trusted')
  t.equal((await app.inject({ url: '/trusted', headers: { 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' } })).statusCode, 200)
  t.equal((await app.inject({ url: '/tagged', headers: { 'if-match': '"v0"' } })).statusCode, 412)
  const head304 = await app.inject({ method: 'HEAD', url: '/tagged', headers: { 'if-none-match': '"v1"' } })
  t.equal(head304.statusCode, 304)
  t.equal(started, 4, 'content started only for the 200s')
})

t.test('ranges', async (t) => {
  const { app } = await build()
  const file = (): ContentFile => new ContentFile('0123456789', { name: 'd.txt', etag: 'v1', modifiedTime: mtime })
  app.get('/d', { virtualDownload: true }, file)
  app.get('/blob', (request, reply) => reply.virtualDownload(new Blob(['0123456789'])))
  app.get('/off', { virtualDownload: { acceptRanges: false } }, file)
  app.get('/stream', { virtualDownload: true }, () => new VirtualFile(Readable.from(['0123456789']), { size: 10 }))

  const table: Array<[Record<string, string>, number, string, string | undefined]> = [
    [{ range: 'bytes=0-3' }, 206, '0123', 'bytes 0-3/10'],
    [{ range: 'bytes=7-' }, 206, '789', 'bytes 7-9/10'],
    [{ range: 'bytes=-2' }, 206, '89', 'bytes 8-9/10'],
    [{ range: 'bytes=10-' }, 416, '', 'bytes */10'],
    // several ranges closer than 80 bytes: merged into one
    [{ range: 'bytes=0-1,4-5' }, 206, '012345', 'bytes 0-5/10'],
    [{ range: 'bytes=0-1,4-x' }, 200, '0123456789', undefined],
    [{ range: 'bytes=5-1' }, 200, '0123456789', undefined],
    [{ range: 'lines=1-2' }, 200, '0123456789', undefined],
    [{ range: 'bytes=2-3', 'if-range': '"v1"' }, 206, '23', 'bytes 2-3/10'],
    [{ range: 'bytes=2-3', 'if-range': '"v0"' }, 200, '0123456789', undefined],
    [{ range: 'bytes=2-3', 'if-range': mtime.toUTCString() }, 206, '23', 'bytes 2-3/10'],
    [{ range: 'bytes=2-3', 'if-range': 'Sat, 03 Jan 2026 00:00:00 GMT' }, 200, '0123456789', undefined]
  ]
  for (const [headers, status, body, contentRange] of table) {
    const response = await app.inject({ url: '/d', headers })
    t.equal(response.statusCode, status, JSON.stringify(headers))
    t.equal(response.body, body)
    t.equal(response.headers['content-range'], contentRange)
    if (status !== 416) t.equal(response.headers['content-length'], String(body.length))
  }
  const blob = await app.inject({ url: '/blob', headers: { range: 'bytes=3-4' } })
  t.same([blob.statusCode, blob.body, blob.headers['accept-ranges']], [206, '34', 'bytes'])
  const off = await app.inject({ url: '/off', headers: { range: 'bytes=3-4' } })
  t.same([off.statusCode, off.headers['accept-ranges']], [200, undefined])
  const stream = await app.inject({ url: '/stream', headers: { range: 'bytes=3-4' } })
  t.same([stream.statusCode, stream.body, stream.headers['accept-ranges']], [200, '0123456789', undefined])
})

t.test('HEAD: same status and headers as GET, no body, no content started', async (t) => {
  const { app } = await build()
  let started = 0
  let closed = 0
  const custom = (): DownloadFile => ({
    name: 'c.csv',
    size: 4,
    stream: () => { started++; return 'a,b\n' },
    close: () => { closed++ }
  })
  app.get('/custom', { virtualDownload: true }, custom)
  app.head('/explicit', { virtualDownload: true }, custom)
  for (const url of ['/custom', '/explicit']) {
    const get = url === '/custom' ? await app.inject(url) : undefined
    const head = await app.inject({ method: 'HEAD', url })
    t.equal(head.statusCode, 200)
    t.equal(head.body, '')
    t.equal(head.headers['content-length'], '4', `${url}: Content-Length kept`)
    t.equal(head.headers['content-disposition'], 'attachment; filename="c.csv"')
    if (get !== undefined) t.equal(get.headers['content-type'], head.headers['content-type'])
  }
  t.equal(started, 1, 'only the GET streamed')
  t.equal(closed, 2, 'each HEAD closed the file')
})

t.test('close() instead of stream() for every answer without a body', async (t) => {
  const { app } = await build()
  const calls: string[] = []
  app.get('/f', { virtualDownload: true }, (): DownloadFile => ({
    size: 10,
    etag: '"v1"',
    acceptsRanges: true,
    stream: (range) => { calls.push('stream'); return '0123456789'.slice(range?.start, range === undefined ? undefined : range.end + 1) },
    close: () => { calls.push('close') }
  }))
  const table: Array<[Record<string, string>, number]> = [
    [{ 'if-none-match': '"v1"' }, 304],
    [{ 'if-match': '"v0"' }, 412],
    [{ range: 'bytes=20-' }, 416],
    [{ range: 'bytes=2-3' }, 206],
    [{}, 200]
  ]
  for (const [headers, status] of table) {
    t.equal((await app.inject({ url: '/f', headers })).statusCode, status)
  }
  t.same(calls, ['close', 'close', 'close', 'stream', 'stream'])
})

t.test('errors before the first byte go to the error handler, without download headers', async (t) => {
  const { app, logs } = await build()
  let closed = 0
  const failing = (fields: Partial<DownloadFile>): DownloadFile => ({
    name: 'f.txt', size: 5, etag: 'e', modifiedTime: mtime, acceptsRanges: true, close: () => { closed++ }, stream: () => 'hello', ...fields
  })
  app.get('/get-file-throws', { virtualDownload: true }, () => { throw Object.assign(new Error('teapot'), { statusCode: 418 }) })
  app.get('/open-throws', { virtualDownload: true }, () => failing({ open: async () => { throw new Error('open failed') } }))
  app.get('/open-throws-sync', { virtualDownload: true }, () => failing({ open: () => { throw new Error('open failed sync') } }))
  app.get('/stream-throws', { virtualDownload: true }, () => failing({ stream: () => { throw new Error('stream failed') } }))
  app.get('/first-chunk-sync', { virtualDownload: true }, () => failing({ size: undefined, stream: function * () { throw new Error('first chunk failed') } }))
  app.get('/first-chunk-async', { virtualDownload: true }, () => failing({
    size: undefined,
    stream: async function * () { await new Promise((resolve) => setTimeout(resolve, 5)); throw new Error('first chunk failed later') }
  }))
  app.get('/bad-etag', { virtualDownload: true }, () => failing({ etag: 'a"b' }))
  app.get('/bad-type', { virtualDownload: true }, () => failing({ contentType: 'text\r\nX: y' }))
  app.get('/wrong-size-bytes', { virtualDownload: true }, () => failing({ size: 3 }))
  app.get('/short-stream', { virtualDownload: true }, () => failing({ stream: () => Readable.from([]) }))
  app.get('/long-first-chunk', { virtualDownload: true }, () => failing({ stream: () => Readable.from([Buffer.from('hello world')]) }))
  app.get('/long-after-exact', { virtualDownload: true }, () => failing({ stream: () => Readable.from([Buffer.from('hello'), Buffer.from('!')]) }))
  // every chunk buffered, and ended, before the first read: the whole content is in hand (Node 26's
  // read() without a size returns only the first chunk)
  app.get('/short-buffered', { virtualDownload: true }, () => failing({
    stream: () => new Readable({ read () { this.push('ab'); this.push('c'); this.push(null) } })
  }))
  app.get('/bad-stream-return', { virtualDownload: true }, () => failing({ stream: () => 42 as unknown as string }))
  app.get('/closes-early', { virtualDownload: true }, () => failing({ size: undefined, stream: () => new Readable({ read () { this.destroy() } }) }))
  app.get('/close-throws', { virtualDownload: true }, () => failing({ open: () => { throw new Error('open') }, close: () => { throw new Error('close') } }))
  app.get('/wasModifiedSince-throws', { virtualDownload: true }, () => failing({ wasModifiedSince: async () => { throw new Error('wms') } }))

  const expectations: Array<[string, number, RegExp]> = [
    ['/get-file-throws', 418, /teapot/],
    ['/open-throws', 500, /open failed/],
    ['/open-throws-sync', 500, /open failed sync/],
    ['/stream-throws', 500, /stream failed/],
    ['/first-chunk-sync', 500, /first chunk failed/],
    ['/first-chunk-async', 500, /first chunk failed later/],
    ['/bad-etag', 500, /Invalid file etag/],
    ['/bad-type', 500, /Invalid file contentType/],
    ['/wrong-size-bytes', 500, /declared 3 bytes, but its content produced 5 bytes/],
    ['/short-stream', 500, /declared 5 bytes, but its content produced 0 bytes/],
    ['/long-first-chunk', 500, /declared 5 bytes, but its content produced 11 bytes/],
    ['/long-after-exact', 500, /declared 5 bytes, but its content produced 6 bytes/],
    ['/short-buffered', 500, /declared 5 bytes, but its content produced 3 bytes/],
    ['/bad-stream-return', 500, /stream\(\) returning number/],
    ['/closes-early', 500, /The content stream closed before it ended/],
    ['/close-throws', 500, /open/]
  ]
  for (const [url, status, message] of expectations) {
    const response = await app.inject(url)
    t.equal(response.statusCode, status, url)
    t.match(response.json(), { message }, url)
    t.equal(response.headers['content-type'], 'application/json; charset=utf-8', `${url}: an error body`)
    for (const name of DOWNLOAD_HEADERS) t.equal(response.headers[name] === undefined || name === 'content-length', true, `${url}: no ${name}`)
  }
  const wms = await app.inject({ url: '/wasModifiedSince-throws', headers: { 'if-modified-since': mtime.toUTCString() } })
  t.match(wms.json(), { statusCode: 500, message: 'wms' })
  t.equal(closed, 5, 'close() when open(), a field or wasModifiedSince fails; not once stream() was called')
  t.ok(logs.some((line) => line.level === ERROR && line.msg === 'file close() failed'))
  t.ok(logs.some((line) => line.level === ERROR && line.err?.code === 'FST_DOWNLOADVIEW_SIZE_MISMATCH'), 'a size mismatch is logged at error')
})

t.test('an error before anything was written, while onSend hooks run: no download headers', async (t) => {
  const { app } = await build()
  let release: () => void = () => {}
  const hookReached = new Promise<void>((resolve) => { release = resolve })
  let failNow: () => void = () => {}
  const failed = new Promise<void>((resolve) => { failNow = resolve })
  app.addHook('onSend', async (request, reply, payload) => {
    release()
    await failed
    await new Promise((resolve) => setImmediate(resolve))
    return payload
  })
  app.get('/late', { virtualDownload: true }, () => new VirtualFile((async function * () {
    yield 'first'
    await hookReached
    failNow()
    throw new Error('failed while hooks ran')
  })(), { name: 'late.txt', size: 100 }))
  const response = await app.inject('/late')
  t.equal(response.statusCode, 500)
  t.match(response.json(), { message: 'failed while hooks ran' })
  t.equal(response.headers['content-disposition'], undefined)
  t.equal(response.headers['content-type'], 'application/json; charset=utf-8')
})

t.test('stream content edge cases', async (t) => {
  const { app } = await build()
  app.get('/empty', { virtualDownload: true }, () => new VirtualFile((function * () {})(), { name: 'e.txt' }))
  app.get('/empty-sized', { virtualDownload: true }, () => new VirtualFile(Readable.from([]), { name: 'e.txt', size: 0 }))
  app.get('/exact-string', { virtualDownload: true }, () => new VirtualFile(Readable.from(['hello']), { name: 'h.txt', size: 5 }))
  app.get('/exact-bytes', { virtualDownload: true }, () => new VirtualFile(Readable.from([Buffer.from('hello')]), { name: 'h.txt', size: 5 }))
  app.get('/string-chunks', { virtualDownload: true }, () => new VirtualFile(Readable.from(['ab', '', 'cé']), { name: 'h.txt', size: 5 }))
  for (const url of ['/empty', '/empty-sized']) {
    const response = await app.inject(url)
    t.same([response.statusCode, response.body, response.headers['content-length']], [200, '', '0'], url)
    t.equal(response.headers['content-disposition'], 'attachment; filename="e.txt"')
  }
  for (const url of ['/exact-string', '/exact-bytes']) {
    const response = await app.inject(url)
    t.same([response.statusCode, response.body, response.headers['content-length']], [200, 'hello', '5'], url)
  }
  const strings = await app.inject('/string-chunks')
  t.same([strings.statusCode, strings.body], [200, 'abcé'])
})

t.test('in-memory bodies go out byte for byte, whatever they hold', async (t) => {
  const { app } = await build()
  const large = Buffer.alloc(100 * 1024, 'a')
  const binary = Buffer.from([0, 1, 2, 200, 255, 10])
  app.get('/ascii', { virtualDownload: true }, () => new ContentFile('plain ascii\n', { name: 'a.txt' }))
  app.get('/utf8', { virtualDownload: true }, () => new ContentFile('déjà vu\n', { name: 'u.txt' }))
  app.get('/binary', { virtualDownload: true }, () => new ContentFile(binary, { name: 'b.bin' }))
  app.get('/large', { virtualDownload: true }, () => new ContentFile(large, { name: 'l.txt' }))
  const table: Array<[string, Buffer]> = [
    ['/ascii', Buffer.from('plain ascii\n')],
    ['/utf8', Buffer.from('déjà vu\n')],
    ['/binary', binary],
    ['/large', large]
  ]
  for (const [url, bytes] of table) {
    const response = await app.inject(url)
    t.same(response.rawPayload, bytes, url)
    t.equal(response.headers['content-length'], String(bytes.length), url)
  }
})
