// Delivery events (the contract's "Delivery events" bullet) over real HTTP/1.1 and HTTP/2: one event
// per response to a file, through the diagnostics channel and onDownloadEnd alike, for every
// outcome; bytesSent exact for complete bodies; reachedEnd counts a resumed download once.
import diagnosticsChannel from 'node:diagnostics_channel'
import fc from 'fast-check'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { ContentFile, DOWNLOAD_CHANNEL, VirtualFile, type DownloadEvent } from '../lib/index.js'
import { parseByteranges } from './fixtures/byteranges.js'
import { eventually } from './helpers.js'
import { download, startServer, streamDownload, type ServerKind } from './protocols.js'

const SIZE = 100_000
const BYTES = Buffer.alloc(SIZE, 'abcdefgh')
const ETAG = '"e1"'

/** Events seen by the plugin's onDownloadEnd, and by a channel subscriber, per request id. */
const fromOption = new Map<string, DownloadEvent>()
const fromChannel = new Map<string, DownloadEvent>()
const idOf = (event: DownloadEvent): string => new URL(event.request.url, 'http://x').searchParams.get('id') ?? '?'
const subscriber = (message: unknown): void => {
  const event = message as DownloadEvent
  fromChannel.set(idOf(event), event)
}
diagnosticsChannel.subscribe(DOWNLOAD_CHANNEL, subscriber)
t.teardown(() => diagnosticsChannel.unsubscribe(DOWNLOAD_CHANNEL, subscriber))

let nextId = 0

function routes (app: FastifyInstance): void {
  app.get('/file', { virtualDownload: true }, () => new ContentFile(BYTES, { name: 'reports/data.bin', etag: ETAG }))
  app.get('/early', { virtualDownload: true }, () => new VirtualFile(() => { throw new Error('no data') }, { name: 'x.bin', size: 10, etag: ETAG }))
  app.get('/late', { virtualDownload: true }, () => new VirtualFile((async function * () {
    yield Buffer.alloc(65_536, 1)
    await new Promise((resolve) => setTimeout(resolve, 20))
    throw new Error('the source broke')
  })(), { name: 'late.bin', size: 1_000_000 }))
  app.get('/big', { virtualDownload: true }, () => new VirtualFile(function * () {
    for (let i = 0; i < 1024; i++) yield Buffer.alloc(65_536, i)
  }, { name: 'big.bin', size: 1024 * 65_536, etag: ETAG }))
  app.get('/none', { virtualDownload: true }, () => null)
}

interface Case {
  path: string
  method?: 'GET' | 'HEAD'
  headers?: Record<string, string>
  expect: Partial<DownloadEvent> & { bytesSent?: number }
}

const CASES: Record<string, Case> = {
  '200': { path: '/file', expect: { status: 200, outcome: 'complete', bytesSent: SIZE, reachedEnd: true, size: SIZE, name: 'data.bin', ranges: undefined } },
  '206': { path: '/file', headers: { range: 'bytes=100-199' }, expect: { status: 206, outcome: 'complete', bytesSent: 100, reachedEnd: false, ranges: [{ start: 100, end: 199 }] } },
  '206 to the end': { path: '/file', headers: { range: 'bytes=50000-' }, expect: { status: 206, outcome: 'complete', bytesSent: 50_000, reachedEnd: true, ranges: [{ start: 50_000, end: SIZE - 1 }] } },
  'multipart 206': { path: '/file', headers: { range: 'bytes=0-9,-10' }, expect: { status: 206, outcome: 'complete', reachedEnd: true, ranges: [{ start: 0, end: 9 }, { start: SIZE - 10, end: SIZE - 1 }] } },
  '304': { path: '/file', headers: { 'if-none-match': ETAG }, expect: { status: 304, outcome: 'complete', bytesSent: 0, reachedEnd: false } },
  '412': { path: '/file', headers: { 'if-match': '"other"' }, expect: { status: 412, outcome: 'complete', bytesSent: 0, reachedEnd: false } },
  '416': { path: '/file', headers: { range: `bytes=${SIZE}-` }, expect: { status: 416, outcome: 'complete', bytesSent: 0, reachedEnd: false } },
  HEAD: { path: '/file', method: 'HEAD', expect: { status: 200, outcome: 'complete', bytesSent: 0, reachedEnd: false, size: SIZE } },
  'early error': { path: '/early', expect: { status: 500, outcome: 'error', bytesSent: 0, reachedEnd: false } },
  'late error': { path: '/late', expect: { status: 200, outcome: 'error', reachedEnd: false } }
}

for (const kind of ['http1', 'h2c'] as ServerKind[]) {
  t.test(`${kind}: one event per response, through the channel and onDownloadEnd alike`, async (t) => {
    const server = await startServer(kind, routes, { plugin: { onDownloadEnd: (event) => { fromOption.set(idOf(event), event) } } })
    t.teardown(() => server.close())
    const client = kind === 'http1' ? 'node-http' : 'node-http2'
    for (const [what, { path, method, headers, expect }] of Object.entries(CASES)) {
      const id = String(nextId++)
      const response = await download(client, `${server.base}${path}?id=${id}`, { method: method ?? 'GET', headers: headers ?? {} })
      await eventually(() => fromOption.has(id) && fromChannel.has(id))
      const event = fromOption.get(id) as DownloadEvent
      t.equal(fromChannel.get(id), event, `${kind} ${what}: the same event on the channel`)
      const { request, error, ...fields } = event
      t.equal(request.url, `${path}?id=${id}`, `${kind} ${what}: its request`)
      t.match(fields, expect, `${kind} ${what}`)
      if (what === 'multipart 206') {
        t.equal(event.bytesSent, response.body.length, 'the whole multipart body')
        t.equal(parseByteranges(response.headers['content-type'] as string, response.body).length, 2)
      }
      if (expect.outcome === 'error') t.match(error?.message, /no data|the source broke/, `${kind} ${what}: the error`)
      else t.equal(error, undefined)
      if (what === 'late error') t.ok(event.bytesSent > 0 && event.bytesSent <= response.body.length + 1_000_000, `${kind}: bytes handed over before the failure (${event.bytesSent})`)
    }
    // a getFile that returns nothing publishes nothing
    const id = String(nextId++)
    t.equal((await download(client, `${server.base}/none?id=${id}`)).status, 404)
    await new Promise((resolve) => setTimeout(resolve, 50))
    t.notOk(fromOption.has(id) || fromChannel.has(id), 'no file, no event')
  })

  t.test(`${kind}: a client that leaves mid-body: aborted, with the bytes handed over until then`, async (t) => {
    const server = await startServer(kind, routes, { plugin: { onDownloadEnd: (event) => { fromOption.set(idOf(event), event) } } })
    t.teardown(() => server.close())
    const id = String(nextId++)
    const streaming = streamDownload(kind, `${server.base}/big?id=${id}`)
    await streaming.firstData
    streaming.pause()
    const received = streaming.received()
    streaming.cancel()
    await eventually(() => fromOption.has(id) && fromChannel.has(id))
    const event = fromOption.get(id) as DownloadEvent
    t.equal(fromChannel.get(id), event, 'the same event on the channel')
    t.match(event, { status: 200, outcome: 'aborted', reachedEnd: false, error: undefined })
    t.ok(event.bytesSent >= received && event.bytesSent < 1024 * 65_536, `${event.bytesSent} bytes handed over, ${received} received`)
  })
}

t.test('onDownloadEnd: the call\'s over the route\'s over the plugin\'s; one that throws is logged and changes nothing', async (t) => {
  const seen: string[] = []
  const server = await startServer('http1', (app) => {
    app.get('/plugin', { virtualDownload: true }, () => new ContentFile('x'))
    app.get('/route', { virtualDownload: { onDownloadEnd: () => { seen.push('route') } } }, () => new ContentFile('x'))
    app.get('/call', (request, reply) => reply.virtualDownload(new ContentFile('x'), { onDownloadEnd: () => { seen.push('call') } }))
    app.get('/throws', { virtualDownload: { onDownloadEnd: () => { throw new Error('counter down') } } }, () => new ContentFile('still here'))
  }, { plugin: { onDownloadEnd: () => { seen.push('plugin') } } })
  t.teardown(() => server.close())
  for (const path of ['plugin', 'route', 'call']) {
    await download('node-http', `${server.base}/${path}`)
    await eventually(() => seen.length > 0)
    t.same(seen.splice(0), [path], path)
  }
  const response = await download('curl', `${server.base}/throws`)
  t.same([response.status, response.body.toString(), response.failed], [200, 'still here', false])
  await eventually(() => server.logs.some((line) => line.msg === 'onDownloadEnd failed'))
  t.match(server.logs.find((line) => line.msg === 'onDownloadEnd failed'), { level: 50, err: { message: 'counter down' } })
  await t.rejects(startServer('http1', () => {}, { plugin: { onDownloadEnd: 'log' as unknown as () => void } }), { message: /"onDownloadEnd": must be a function/ })
})

t.test('a download resumed in pieces reaches its end once', async (t) => {
  const events: DownloadEvent[] = []
  const server = await startServer('http1', (app) => {
    app.get('/file', { virtualDownload: true }, () => new ContentFile(BYTES, { name: 'data.bin', etag: ETAG }))
  }, { plugin: { onDownloadEnd: (event) => { events.push(event) } } })
  t.teardown(() => server.close())
  await fc.assert(fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: SIZE - 1 }), { maxLength: 5 }), async (cuts) => {
    events.length = 0
    const points = [0, ...cuts.sort((a, b) => a - b), SIZE]
    for (let i = 0; i + 1 < points.length; i++) {
      const range: Record<string, string> = i === 0 && points.length === 2 ? {} : { range: `bytes=${points[i] as number}-${(points[i + 1] as number) - 1}` }
      await download('node-http', `${server.base}/file`, { headers: range })
    }
    await eventually(() => events.length === points.length - 1)
    const delivered = events.reduce((sum, event) => sum + event.bytesSent, 0)
    if (delivered !== SIZE) throw new Error(`${delivered} bytes`)
    if (events.filter((event) => event.reachedEnd).length !== 1) throw new Error('reached its end more or less than once')
  }), { numRuns: 30 })
  t.pass('counted once over 30 random segmentations')
})

t.test('nobody listening: nothing is followed (the response\'s write is left alone)', async (t) => {
  diagnosticsChannel.unsubscribe(DOWNLOAD_CHANNEL, subscriber)
  t.teardown(() => diagnosticsChannel.subscribe(DOWNLOAD_CHANNEL, subscriber))
  const wrapped: boolean[] = []
  const server = await startServer('http1', (app) => {
    app.addHook('onResponse', async (request, reply) => { wrapped.push(Object.hasOwn(reply.raw, 'write')) })
    app.get('/file', { virtualDownload: true }, () => new ContentFile('x'))
    app.get('/followed', { virtualDownload: { onDownloadEnd: () => {} } }, () => new ContentFile('x'))
  })
  t.teardown(() => server.close())
  await download('node-http', `${server.base}/file`)
  await download('node-http', `${server.base}/followed`)
  await eventually(() => wrapped.length === 2)
  t.same(wrapped, [false, true])
})

t.test('text counted in UTF-8 bytes; names as Content-Disposition carries them; a failure that is no Error', async (t) => {
  const events = new Map<string, DownloadEvent>()
  const server = await startServer('http1', (app) => {
    app.get('/text', { virtualDownload: true }, () => new VirtualFile('été\n', { name: 'dir/notes été.txt' }))
    app.get('/nameless', { virtualDownload: true }, () => new ContentFile('x'))
    app.get('/dots', { virtualDownload: true }, () => new ContentFile('x', { name: '..' }))
    app.get('/basename', { virtualDownload: { basename: 'fixed "name".csv' } }, () => new ContentFile('x', { name: 'ignored.txt' }))
    app.get('/string-failure', { virtualDownload: true }, () => ({
      async open () { throw 'not an Error' }, // eslint-disable-line no-throw-literal, @typescript-eslint/only-throw-error
      stream: () => 'x'
    }))
  }, { plugin: { onDownloadEnd: (event) => { events.set(event.request.url, event) } } })
  t.teardown(() => server.close())
  for (const path of ['/text', '/nameless', '/dots', '/basename', '/string-failure']) await download('node-http', `${server.base}${path}`)
  await eventually(() => events.size === 5)
  t.match(events.get('/text'), { bytesSent: 6, size: 6, name: 'notes été.txt', reachedEnd: true })
  t.equal(events.get('/nameless')?.name, undefined)
  t.equal(events.get('/dots')?.name, undefined, 'a name that gives no filename gives none here')
  t.equal(events.get('/basename')?.name, 'fixed _name_.csv', 'the basename option, cleaned')
  t.match(events.get('/string-failure'), { outcome: 'error', status: 500, error: { message: 'the download failed with a non-Error: not an Error' } })
})

t.test('a client gone while getFile ran: the file gets its event at once, aborted', async (t) => {
  const events: DownloadEvent[] = []
  let gone: () => void = () => {}
  const left = new Promise<void>((resolve) => { gone = resolve })
  const server = await startServer('http1', (app) => {
    app.get('/slow', { virtualDownload: true }, async (request) => {
      request.raw.socket.once('close', gone)
      await left
      return new ContentFile('late', { name: 'late.txt' })
    })
  }, { plugin: { onDownloadEnd: (event) => { events.push(event) } } })
  t.teardown(() => server.close())
  const streaming = streamDownload('http1', `${server.base}/slow`)
  setTimeout(() => streaming.cancel(), 50)
  await eventually(() => events.length === 1)
  // no header was decided: no name nor size was read from a file that was never opened
  t.match(events[0], { outcome: 'aborted', status: 200, bytesSent: 0, reachedEnd: false, name: undefined, size: undefined, ranges: undefined })
})
