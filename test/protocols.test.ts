import { Readable } from 'node:stream'
import * as http2 from 'node:http2'
import t from 'tap'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { eventually, pattern } from './helpers.js'
import { breakResponse, CLIENTS, download, failureVisible, openRequest, startServer, type ClientKind, type ClientResult, type ServerKind } from './protocols.js'

// The harness's self-test: on every protocol, each client reports success for a good response
// and a failure for a response the server breaks the right way after its first bytes.

const KiB = 1024
const GOOD_SIZE = 300 * KiB
const BROKEN_AFTER = 100 * KiB

const GOOD = pattern(GOOD_SIZE, 1)
const PARTIAL = pattern(BROKEN_AFTER, 2)

/** Writes `bytes` in 16 KiB writes; resolves once the last one is flushed. */
async function writeAll (reply: FastifyReply, bytes: Buffer): Promise<void> {
  for (let offset = 0; offset < bytes.length; offset += 16 * KiB) {
    const chunk = bytes.subarray(offset, offset + 16 * KiB)
    await new Promise<void>((resolve, reject) => {
      reply.raw.write(chunk, (error) => { if (error == null) resolve(); else reject(error) })
    })
  }
}

interface Held { closed: boolean, rstCode?: number }

function routes (held: Map<string, Held>) {
  return (app: FastifyInstance): void => {
    app.get('/good-stream', async (_request, reply) => {
      const chunks: Buffer[] = []
      for (let offset = 0; offset < GOOD.length; offset += 30 * KiB) chunks.push(GOOD.subarray(offset, offset + 30 * KiB))
      return await reply.type('application/octet-stream').send(Readable.from(chunks))
    })
    app.get('/good-sized', async (_request, reply) => await reply.type('application/octet-stream').send(GOOD))
    // raw, so that the break does not depend on the plugin
    const broken = (sized: boolean) => (request: FastifyRequest, reply: FastifyReply): void => {
      reply.hijack()
      reply.raw.writeHead(200, { 'content-type': 'application/octet-stream', ...(sized ? { 'content-length': String(GOOD_SIZE) } : {}) })
      writeAll(reply, PARTIAL).then(() => breakResponse(request, reply), () => {})
    }
    app.get('/broken', broken(false))
    app.get('/broken-sized', broken(true))
    app.get('/echo', async (request, reply) => {
      reply.header('x-multi', ['a', 'b'])
      return `${request.raw.httpVersion} ${String(request.headers['x-probe'])}`
    })
    app.get('/redirect', async (_request, reply) => await reply.redirect('/good-sized'))
    app.get<{ Querystring: { id: string } }>('/hold', (request, reply) => {
      const record: Held = { closed: false }
      held.set(request.query.id, record)
      reply.hijack()
      reply.raw.on('close', () => {
        record.closed = true
        const stream = (reply.raw as unknown as http2.Http2ServerResponse).stream
        if (stream !== undefined) record.rstCode = stream.rstCode
      })
      reply.raw.writeHead(200, { 'content-type': 'application/octet-stream' })
      // then the response stays open until the client goes
      writeAll(reply, PARTIAL).catch(() => {})
    })
  }
}

const EXPECTED_VERSION: Record<ServerKind, (client: ClientKind) => string> = {
  http1: (client) => client.endsWith('1.0') ? '1.0' : '1.1',
  h2c: () => '2.0',
  h2: () => '2.0',
  nginx: () => '1.0' // nginx's default proxy_http_version
}

function explain (result: ClientResult): string {
  return `status ${result.status}, ${result.body.length} bytes, failed ${String(result.failed)}: ${result.detail}`
}

const KINDS: ServerKind[] = ['http1', 'h2c', 'h2', 'nginx']

for (const kind of KINDS) {
  t.test(kind, async (t) => {
    const held = new Map<string, Held>()
    const server = await startServer(kind, routes(held))
    t.teardown(() => server.close())
    const { base } = server

    for (const client of CLIENTS[kind]) {
      t.test(client, async (t) => {
        const echo = await download(client, `${base}/echo`, { headers: { 'x-probe': 'p1' } })
        t.equal(echo.body.toString(), `${EXPECTED_VERSION[kind](client)} p1`, `the app saw the expected HTTP version and the request header (${explain(echo)})`)
        t.equal(echo.headers['x-multi'], 'a, b', 'a repeated response header is joined')

        const redirect = await download(client, `${base}/redirect`)
        t.equal(redirect.status, 302, `a redirect is not followed (${explain(redirect)})`)
        t.equal(redirect.failed, false, 'a redirect is no failure')
        t.match(redirect.headers.location ?? '', /\/good-sized$/, 'Location')

        for (const path of ['/good-stream', '/good-sized']) {
          const good = await download(client, base + path)
          t.equal(good.failed, false, `${path}: no failure (${explain(good)})`)
          t.equal(good.status, 200, `${path}: status 200`)
          t.ok(good.body.equals(GOOD), `${path}: every byte, exactly (${good.body.length} of ${GOOD_SIZE})`)
        }
        const sized = await download(client, `${base}/good-sized`)
        t.equal(sized.headers['content-length'], String(GOOD_SIZE), '/good-sized: Content-Length')

        for (const [path, contentLength] of [['/broken', false], ['/broken-sized', true]] as const) {
          const broken = await download(client, base + path)
          if (failureVisible(kind, client, { contentLength })) {
            t.equal(broken.failed, true, `${path}: reported as a failure (${explain(broken)})`)
          } else {
            // pinned, so that a change in nginx or the client shows here
            t.equal(broken.failed, false, `${path}: KNOWN BLIND SPOT, nginx closes an HTTP/1.0 response without Content-Length cleanly after an upstream reset (${explain(broken)})`)
            t.match(await server.nginxErrors?.() ?? '', /Connection reset by peer\) while reading upstream/, `${path}: nginx saw the upstream reset`)
          }
          t.equal(broken.status, 200, `${path}: the failure came after the status`)
          t.ok(broken.body.length < GOOD_SIZE && PARTIAL.subarray(0, broken.body.length).equals(broken.body), `${path}: what arrived is a prefix of what was sent`)
        }

        const head = await download(client, `${base}/good-sized`, { method: 'HEAD' })
        t.equal(head.failed, false, `HEAD: no failure (${explain(head)})`)
        t.equal(head.status, 200, 'HEAD: status 200')
        t.equal(head.headers['content-length'], String(GOOD_SIZE), 'HEAD: Content-Length')
        t.equal(head.body.length, 0, 'HEAD: no body')
      })
    }

    t.test('openRequest: cancel releases the server side', async (t) => {
      const open = openRequest(kind, `${base}/hold?id=cancel`)
      await open.response
      await open.firstData
      const record = held.get('cancel')
      t.ok(record !== undefined && !record.closed, 'the response is open on the server')
      open.cancel()
      await eventually(() => record?.closed === true)
      t.ok(record?.closed, 'reply.raw emitted close')
      if (kind === 'h2c' || kind === 'h2') t.equal(record?.rstCode, http2.constants.NGHTTP2_CANCEL, 'the stream was reset with CANCEL')
    })
  })
}
