import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import fastifyDownloadView, { TextIteratorIO, VirtualFile, BytesIteratorIO } from '../lib/index.js'
import { ERROR, type LogLine } from './helpers.js'
import { CLIENTS, download, failureVisible, selfSignedCertificate, startServer, type ServerKind } from './protocols.js'

const run = promisify(execFile)
const KiB = 1024

// A failure after the first byte is a failure for every client on every protocol: a TCP reset on
// HTTP/1.x (HTTP/1.0 and nginx's HTTP/1.0 proxy_pass included, where a normal close would read as
// the end of the body), RST_STREAM INTERNAL_ERROR on HTTP/2. It is logged at error with the
// request id. The same for content that lies about its size.

function * rows (failAt: number): Generator<string> {
  for (let i = 0; ; i++) {
    if (i === failAt) throw new Error('cursor failed')
    yield `${i},user${i}@example.com,${'x'.repeat(80)}\n`
  }
}
const ROW_BYTES = 100 // about: the rows above are 96 to 105 bytes

function * blocks (count: number): Generator<Uint8Array> {
  for (let i = 0; i < count; i++) yield new Uint8Array(16 * KiB).fill(i)
}

const ROUTES = {
  // fails ~500 KB in, long after the headers went out
  '/late': () => new VirtualFile(new TextIteratorIO(rows(5000)), { name: 'export.csv' }),
  '/late-sized': () => new VirtualFile(new TextIteratorIO(rows(5000)), { name: 'export.csv', size: 10_000 * ROW_BYTES }),
  // declares 1 MiB, produces 512 KiB; declares 256 KiB, produces 1 MiB
  '/short': () => new VirtualFile(new BytesIteratorIO(blocks(32), { highWaterMark: 16 * KiB }), { name: 's.bin', size: 1024 * KiB }),
  '/long': () => new VirtualFile(new BytesIteratorIO(blocks(64), { highWaterMark: 16 * KiB }), { name: 'l.bin', size: 256 * KiB })
}
const SIZED = new Set(['/late-sized', '/short', '/long'])

function checkLogs (t: Test, logs: LogLine[], expected: number): void {
  const failures = logs.filter((line) => line.level === ERROR)
  t.equal(failures.length, expected, 'each failure logged once at error')
  for (const line of failures) {
    t.equal(line.msg, 'download failed after its first byte; connection reset')
    t.match(line.reqId, /^req-/)
    t.match(line.err?.message, /cursor failed|declared/)
  }
}

for (const kind of ['http1', 'h2c', 'h2', 'nginx'] as ServerKind[]) {
  t.test(`${kind}: a failure after the first byte is seen by every client`, async (t) => {
    const server = await startServer(kind, (app) => {
      for (const [url, file] of Object.entries(ROUTES)) app.get(url, { virtualDownload: true }, file)
    })
    t.teardown(() => server.close())
    let requests = 0
    for (const client of CLIENTS[kind]) {
      for (const url of Object.keys(ROUTES)) {
        requests++
        const result = await download(client, server.base + url)
        const label = `${url} with ${client}: ${result.status}, ${result.body.length} bytes, ${result.detail}`
        t.equal(result.status, 200, label)
        t.ok(result.body.length > 0, `${label}: the download had started`)
        if (failureVisible(kind, client, { contentLength: SIZED.has(url) })) t.ok(result.failed, `${label}: reported as a failure`)
        // nginx cannot tell an HTTP/1.0 client of a body without a length that it was cut
        else t.ok(result.body.length < 5000 * ROW_BYTES, `${label}: at least never the whole body`)
      }
    }
    checkLogs(t, server.logs, requests)
  })
}

t.test('HTTPS on HTTP/1.1 and 1.0: the TCP socket under TLS is reset, and clients see a failure', async (t) => {
  const logs: LogLine[] = []
  const app = Fastify({ https: await selfSignedCertificate(), logger: { level: 'info', stream: { write: (line: string) => { logs.push(JSON.parse(line) as LogLine) } } } })
  await app.register(fastifyDownloadView)
  app.get('/late', { virtualDownload: true }, ROUTES['/late'])
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const address = app.server.address() as { port: number }
  // Node's HTTPS server offers only http/1.1 by ALPN: an HTTP/1.0 client must not ask for one
  for (const flags of [['--http1.1'], ['-0', '--no-alpn']]) {
    const code = await run('curl', ['-sSk', ...flags, '-o', '/dev/null', `https://127.0.0.1:${address.port}/late`]).then(() => 0, (error: { code: number }) => error.code)
    t.ok(code === 18 || code === 56, `curl ${flags.join(' ')} reports a truncated transfer (exit ${code})`)
  }
  checkLogs(t, logs, 2)
})
