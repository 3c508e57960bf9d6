import { execFile } from 'node:child_process'
import { request as httpRequest } from 'node:http'
import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import Fastify from 'fastify'
import t from 'tap'
import fastifyDownloadView, { ContentFile, TextIteratorIO, VirtualFile, type DownloadFile } from '../lib/index.js'
import { ERROR } from './helpers.js'
import { download, openRequest, startServer, type ServerKind } from './protocols.js'

const run = promisify(execFile)
const DOWNLOAD_HEADERS = ['content-disposition', 'content-length', 'etag', 'last-modified', 'accept-ranges', 'content-range']

// One rule of the contract per test, each over real sockets, on HTTP/1.1 and HTTP/2.

t.test('close() may be async; one that rejects or throws is logged at error and changes nothing', async (t) => {
  for (const kind of ['http1', 'h2c'] as ServerKind[]) {
    const file = (close: () => void | Promise<void>): DownloadFile => ({ name: 'a.txt', size: 5, etag: 'v1', stream: () => 'hello', close })
    const server = await startServer(kind, (app) => {
      app.get('/rejects', { virtualDownload: true }, () => file(async () => { throw new Error('async close failed') }))
      app.get('/throws', { virtualDownload: true }, () => file(() => { throw new Error('sync close failed') }))
    })
    const client = kind === 'http1' ? 'curl' : 'curl-h2c'
    for (const url of ['/rejects', '/throws']) {
      const head = await download(client, server.base + url, { method: 'HEAD' })
      t.equal(head.status, 200, `${kind} HEAD ${url}`)
      t.equal(head.headers['content-length'], '5')
      t.equal(head.headers['content-disposition'], 'attachment; filename="a.txt"')
      const notModified = await download(client, server.base + url, { headers: { 'if-none-match': '"v1"' } })
      t.equal(notModified.status, 304, `${kind} 304 ${url}`)
      t.equal(notModified.headers.etag, '"v1"')
    }
    const failures = server.logs.filter((line) => line.level === ERROR)
    t.same(failures.map((line) => [line.msg, line.err?.message]), [
      ['file close() failed', 'async close failed'], ['file close() failed', 'async close failed'],
      ['file close() failed', 'sync close failed'], ['file close() failed', 'sync close failed']
    ], `${kind}: each failed close() logged at error`)
    for (const line of failures) t.match(line.reqId, /^req-/, 'with the request id')
    await server.close()
  }
})

t.test('content is destroyed when Fastify drops the payload: an onSend hook that throws or replaces it', async (t) => {
  for (const kind of ['http1', 'h2c'] as ServerKind[]) {
    const finished: string[] = []
    function * endless (name: string): Generator<string> {
      try { for (let i = 0; ; i++) yield `${i},${'x'.repeat(100)}\n` } finally { finished.push(name) }
    }
    const server = await startServer(kind, (app) => {
      app.register(async (app) => {
        app.addHook('onSend', async () => { throw new Error('onSend failed') })
        app.get('/throws', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(endless('throws')), { name: 'a.csv' }))
      })
      app.register(async (app) => {
        // what @fastify/compress does for an encoding it cannot serve
        app.addHook('onSend', async (request, reply) => {
          reply.code(406).removeHeader('content-disposition')
          return 'no such encoding'
        })
        app.get('/replaced', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(endless('replaced')), { name: 'a.csv' }))
      })
    })
    const client = kind === 'http1' ? 'curl' : 'node-http2'
    const thrown = await download(client, `${server.base}/throws`)
    t.equal(thrown.status, 500, `${kind}: the hook's error is answered`)
    const replaced = await download(client, `${server.base}/replaced`)
    t.equal(replaced.status, 406)
    t.equal(replaced.body.toString(), 'no such encoding')
    for (let i = 0; i < 500 && finished.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    t.same(finished.sort(), ['replaced', 'throws'], `${kind}: both generators ran their finally`)
    await server.close()
  }
})

t.test('a size mismatch known before the headers go out is a 500 without download headers', async (t) => {
  for (const kind of ['http1', 'h2c'] as ServerKind[]) {
    const server = await startServer(kind, (app) => {
      app.get('/short', { virtualDownload: true }, () => new VirtualFile(['abc'], { name: 'a.txt', size: 10, etag: 'v1' }))
      app.get('/long', { virtualDownload: true }, () => new VirtualFile(['abcdefghijkl'], { name: 'a.txt', size: 10, etag: 'v1' }))
      app.get('/long-async', { virtualDownload: true }, () => new VirtualFile((async function * () {
        yield 'abcdefghij'
        // later than TextIteratorIO's flush of a slow source: the declared bytes are in hand first
        await new Promise((resolve) => setTimeout(resolve, 50))
        yield 'k'
      })(), { name: 'a.txt', size: 10 }))
      app.get('/exact', { virtualDownload: true }, () => new VirtualFile(['abc', 'defghij'], { name: 'a.txt', size: 10 }))
    })
    const client = kind === 'http1' ? 'curl' : 'curl-h2c'
    for (const [url, message] of [['/short', /declared 10 bytes, but its content produced 3 bytes/], ['/long', /produced 12 bytes/], ['/long-async', /more than 10 bytes/]] as const) {
      const response = await download(client, server.base + url)
      t.equal(response.status, 500, `${kind} ${url}`)
      t.match(JSON.parse(response.body.toString()), { message })
      for (const name of DOWNLOAD_HEADERS) {
        if (name !== 'content-length') t.equal(response.headers[name], undefined, `${kind} ${url}: no ${name}`)
      }
    }
    const exact = await download(client, `${server.base}/exact`)
    t.equal(exact.status, 200)
    t.equal(exact.body.toString(), 'abcdefghij')
    t.equal(exact.headers['content-length'], '10')
    await server.close()
  }
})

t.test('empty chunks are no data, and object-mode strings arrive intact over HTTP/2', async (t) => {
  for (const kind of ['http1', 'h2c', 'h2'] as ServerKind[]) {
    const server = await startServer(kind, (app) => {
      app.get('/sized', { virtualDownload: true }, () => new VirtualFile(Readable.from((function * () { yield 'id\n'; yield '' })()), { name: 'a.csv', size: 3 }))
      app.get('/unsized', { virtualDownload: true }, () => new VirtualFile(Readable.from(['id,name\n', '1,é\n', '', '2,ü\n', '']), { name: 'a.csv' }))
      app.get('/only-empty-then-error', { virtualDownload: true }, () => new VirtualFile(Readable.from((function * () { yield ''; yield Buffer.alloc(0); throw new Error('nothing yet') })()), { name: 'a.csv' }))
    })
    for (const client of kind === 'http1' ? ['curl', 'node-http'] as const : kind === 'h2c' ? ['curl-h2c', 'node-http2'] as const : ['curl-h2', 'undici-h2'] as const) {
      const sized = await download(client, `${server.base}/sized`)
      t.equal(sized.status, 200, `${kind} ${client}: an empty last chunk is not a size lie`)
      t.equal(sized.body.toString(), 'id\n')
      const unsized = await download(client, `${server.base}/unsized`)
      t.notOk(unsized.failed)
      t.same(unsized.body, Buffer.from('id,name\n1,é\n2,ü\n'), `${kind} ${client}: the bytes of every string, in order`)
      const early = await download(client, `${server.base}/only-empty-then-error`)
      t.equal(early.status, 500, `${kind} ${client}: an error after only empty chunks is an error before the first byte`)
      t.equal(early.headers['content-disposition'], undefined)
    }
    await server.close()
  }
})

t.test('a reply with trailers never carries Content-Length too', async (t) => {
  for (const kind of ['http1', 'h2c'] as ServerKind[]) {
    const server = await startServer(kind, (app) => {
      const withTrailer = (file: () => DownloadFile) => (request: unknown, reply: { trailer: (name: string, fn: () => Promise<string>) => void }) => {
        reply.trailer('x-rows', async () => 'done')
        return file()
      }
      app.get('/content', { virtualDownload: true }, withTrailer(() => new ContentFile('hello world', { name: 'a.txt' })))
      app.get('/stream', { virtualDownload: true }, withTrailer(() => new VirtualFile(new TextIteratorIO(['a,b\n', 'c,d\n']), { name: 'a.csv', size: 8 })))
      app.get('/stream-long', { virtualDownload: true }, withTrailer(() => new VirtualFile(new TextIteratorIO((function * () { for (let i = 0; i < 20_000; i++) yield 'row\n' })()), { name: 'a.csv', size: 80_000 })))
    })
    for (const url of ['/content', '/stream', '/stream-long']) {
      if (kind === 'http1') {
        // Node's client refuses a response with both (HPE_UNEXPECTED_CONTENT_LENGTH)
        const response = await new Promise<{ headers: Record<string, unknown>, trailers: Record<string, unknown>, body: string }>((resolve, reject) => {
          httpRequest(server.base + url, { agent: false }, (res) => {
            let body = ''
            res.setEncoding('utf8').on('data', (chunk: string) => { body += chunk }).on('end', () => resolve({ headers: res.headers, trailers: res.trailers, body }))
          }).on('error', reject).end()
        })
        t.equal(response.headers['content-length'], undefined, `${url}: no Content-Length`)
        t.equal(response.headers['transfer-encoding'], 'chunked')
        t.equal(response.trailers['x-rows'], 'done', `${url}: the trailer arrives`)
        t.ok(response.body.length > 0)
      }
      const result = await download(kind === 'http1' ? 'curl' : 'node-http2', server.base + url)
      t.notOk(result.failed, `${kind} ${url}: ${result.detail}`)
      t.equal(result.headers['content-length'], undefined, `${kind} ${url}: no Content-Length`)
    }
    await server.close()
  }
})

t.test('a virtualDownload route defined before the plugin is loaded never answers the wrapper as JSON', async (t) => {
  const app = Fastify()
  // not awaited: the plugin's onRoute hook is not in place when the routes below are defined
  void app.register(fastifyDownloadView)
  app.get('/file', { virtualDownload: true }, () => new ContentFile('secret', { name: 'a.txt' }))
  app.get('/virtual', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(['x']), { name: 'a.txt' }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const { port } = app.server.address() as { port: number }
  for (const url of ['/file', '/virtual']) {
    const { stdout } = await run('curl', ['-sS', `http://127.0.0.1:${port}${url}`])
    const body = JSON.parse(stdout) as { statusCode: number, code: string, message: string }
    t.equal(body.statusCode, 500, url)
    t.equal(body.code, 'FST_DOWNLOADVIEW_SERIALIZED_FILE')
    t.match(body.message, /was not registered .* register the plugin with `await app.register/)
  }
})

t.test('a stream destroyed between its first chunk and the commit still gets an error response', async (t) => {
  // read() calls _read at once for more; this one schedules its end before the commit happens
  const failingSecondRead = (error?: Error): Readable => {
    let reads = 0
    return new Readable({
      read () {
        if (reads++ === 0) this.push('first chunk')
        else process.nextTick(() => this.destroy(error))
      }
    })
  }
  const server = await startServer('http1', (app) => {
    app.get('/closed', { virtualDownload: true }, () => new VirtualFile(failingSecondRead(), { name: 'a.txt' }))
    app.get('/errored', { virtualDownload: true }, () => new VirtualFile(failingSecondRead(new Error('cursor lost')), { name: 'a.txt' }))
  })
  t.teardown(() => server.close())
  for (const [url, message] of [['/closed', /The content stream closed before it ended/], ['/errored', /cursor lost/]] as const) {
    const response = await download('curl', server.base + url)
    t.equal(response.status, 500, url)
    t.match(JSON.parse(response.body.toString()), { message })
    t.equal(response.headers['content-disposition'], undefined)
  }
})

t.test('a byte stream that hands out strings (setEncoding) is sent as its text, sized or not', async (t) => {
  const text = (parts: string[]): Readable => {
    const stream = Readable.from(parts.map((part) => Buffer.from(part)), { objectMode: false })
    return stream.setEncoding('utf8')
  }
  const server = await startServer('h2c', (app) => {
    app.get('/unsized', { virtualDownload: true }, () => new VirtualFile(text(['id,név\n', '1,ü\n']), { name: 'a.csv' }))
    app.get('/sized', { virtualDownload: true }, () => new VirtualFile(text(['id,név\n', '1,ü\n']), { name: 'a.csv', size: 13 }))
    app.get('/sized-long', { virtualDownload: true }, () => new VirtualFile(text(['id,név\n', '1,ü\n']), { name: 'a.csv', size: 5 }))
  })
  t.teardown(() => server.close())
  for (const url of ['/unsized', '/sized']) {
    const response = await download('curl-h2c', server.base + url)
    t.notOk(response.failed, url)
    t.equal(response.body.toString(), 'id,név\n1,ü\n', url)
  }
  t.equal((await download('curl-h2c', `${server.base}/sized-long`)).status, 500)
})

t.test('fields that an async open() filled in are checked like any others', async (t) => {
  const server = await startServer('h2c', (app) => {
    app.get('/bad-size', { virtualDownload: true }, (): DownloadFile => {
      const file = {
        size: 0,
        async open () { await new Promise((resolve) => setImmediate(resolve)); file.size = -1 },
        stream: () => 'x'
      }
      return file
    })
  })
  t.teardown(() => server.close())
  const response = await download('node-http2', `${server.base}/bad-size`)
  t.equal(response.status, 500)
  t.match(JSON.parse(response.body.toString()), { code: 'FST_DOWNLOADVIEW_INVALID_FILE_FIELD', message: /size/ })
})

t.test('a server closing mid-download destroys the content', async (t) => {
  let finished = false
  const app = Fastify({ forceCloseConnections: true })
  await app.register(fastifyDownloadView)
  app.get('/endless', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO((function * () {
    try { for (let i = 0; ; i++) yield `${i},${'x'.repeat(100)}\n` } finally { finished = true }
  })()), { name: 'a.csv' }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as { port: number }
  const request = openRequest('http1', `http://127.0.0.1:${port}/endless`)
  await request.firstData
  await app.close()
  for (let i = 0; i < 500 && !finished; i++) await new Promise((resolve) => setTimeout(resolve, 5))
  t.ok(finished, 'the generator ran its finally')
  request.cancel()
})

t.test('an async handler that does not return the reply: a warning names the route and the fix', async (t) => {
  let finished = false
  let finishedSync = false
  const server = await startServer('http1', (app) => {
    app.get('/forgot-return', async (request, reply) => {
      reply.virtualDownload(new VirtualFile(new TextIteratorIO((async function * () {
        try { for (let i = 0; ; i++) yield `${i}\n` } finally { finished = true }
      })()), { name: 'a.csv' }))
    })
    // sync content: its first chunk is in hand only after Fastify has answered, before the
    // response's close (whole in that chunk, or not)
    app.get('/forgot-return-short', async (request, reply) => {
      reply.virtualDownload(new VirtualFile(['a,b\n'], { name: 'a.csv' }))
    })
    app.get('/forgot-return-sync', async (request, reply) => {
      reply.virtualDownload(new VirtualFile(new TextIteratorIO((function * () {
        try { for (let i = 0; ; i++) yield `${i}\n` } finally { finishedSync = true }
      })()), { name: 'a.csv' }))
    })
  })
  t.teardown(() => server.close())
  for (const url of ['/forgot-return', '/forgot-return-short', '/forgot-return-sync']) {
    const response = await download('curl', server.base + url)
    t.equal(response.status, 200, `${url}: Fastify answered on its own`)
    t.equal(response.body.length, 0)
  }
  for (let i = 0; i < 500 && !(finished && finishedSync); i++) await new Promise((resolve) => setTimeout(resolve, 5))
  t.ok(finished && finishedSync, 'the content was released')
  const warnings = server.logs.filter((line) => line.level === 40 && /sent before its download/.test(line.msg))
  t.equal(warnings.length, 3, `one warning per download: ${warnings.map((line) => line.msg).join(' | ')}`)
  t.match(warnings[0]?.msg, /GET \/forgot-return was sent before its download: an async handler must `return reply\.virtualDownload\(\.\.\.\)`/)
})
