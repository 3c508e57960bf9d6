import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import t from 'tap'
import { CLIENTS, download, type ClientKind, type ServerKind } from './protocols.js'
import { expectedBody, SOURCE_KINDS, sourceUrl, type Counters, type Scenario } from './fixtures/failing-sources.js'
import { REPROS } from './fixtures/repro-routes.js'

// The server runs in a child process, on every protocol (HTTP/1.1 — and HTTP/1.0 clients —, h2c,
// h2 over TLS, nginx in front): an uncaught error, an unhandled 'error' event or an unhandled
// rejection there would end it. It must still be alive after every scenario, and exit cleanly.

const KINDS: ServerKind[] = ['http1', 'h2c', 'h2', 'nginx']
const server = spawn(process.execPath, [...process.execArgv, fileURLToPath(new URL('./fixtures/failure-server.ts', import.meta.url))], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, KINDS: KINDS.join(',') }
})
let stderr = ''
server.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
const exited = once(server, 'exit')
t.teardown(() => { if (server.exitCode === null) server.kill('SIGKILL') })
const [line] = await once(createInterface({ input: server.stdout }), 'line') as [string]
const bases = JSON.parse(line) as Record<ServerKind, string>

/** Client kinds that do HEAD and plain GETs on a server kind, one of each protocol family. */
const TARGETS: Array<[ServerKind, ClientKind]> = KINDS.flatMap((kind) => CLIENTS[kind].map((client): [ServerKind, ClientKind] => [kind, client]))

async function counters (): Promise<Counters> {
  const response = await download('node-http', `${bases.http1}/counters`)
  return JSON.parse(response.body.toString()) as Counters
}

t.test('the reproductions of crashes: each ends as an error response or a failed transfer', async (t) => {
  for (const url of Object.keys(REPROS)) {
    for (const [kind, client] of TARGETS) {
      const result = await download(client, bases[kind] + url)
      const label = `${url} on ${kind} with ${client}: ${result.status} ${result.detail}`
      t.ok(result.status === 500 || result.failed, label)
      t.notOk(result.status === 200 && !result.failed, `${label}: never a clean 200`)
    }
  }
})

t.test('close() that rejects or throws is logged and changes nothing of a HEAD or a 304', async (t) => {
  for (const mode of ['rejects', 'throws']) {
    for (const [kind, client] of TARGETS) {
      const url = `${bases[kind]}/repro/close-${mode}`
      const head = await download(client, url, { method: 'HEAD' })
      t.equal(head.status, 200, `HEAD ${mode} on ${kind} with ${client}`)
      t.equal(head.headers['content-disposition'], 'attachment; filename="closing.txt"')
      const notModified = await download(client, url, { headers: { 'if-none-match': '"v1"' } })
      t.equal(notModified.status, 304, `304 ${mode} on ${kind} with ${client}`)
    }
  }
})

// Sources of every kind, failing at every item position (from the first to none), items smaller
// and larger than a chunk (64 KiB), sized or not, on every protocol and client.
const scenarios = fc.record({
  kind: fc.constantFrom(...SOURCE_KINDS),
  items: fc.integer({ min: 1, max: 6 }),
  itemBytes: fc.constantFrom(16, 1000, 30_000, 65_536, 70_000),
  sized: fc.boolean()
}).chain((scenario) => fc.integer({ min: 0, max: scenario.items }).map((failAt): Scenario => ({ ...scenario, failAt })))

t.test('a failing source never crashes, never looks complete, never leaks (property)', async (t) => {
  let runs = 0
  await fc.assert(fc.asyncProperty(scenarios, fc.constantFrom(...TARGETS), async (scenario, [kind, client]) => {
    runs++
    const expected = expectedBody(scenario)
    const result = await download(client, sourceUrl(bases[kind], scenario))
    const label = `${JSON.stringify(scenario)} on ${kind} with ${client}: ${result.status} ${result.detail}`
    if (scenario.failAt >= scenario.items) {
      if (result.failed || result.status !== 200 || !result.body.equals(expected)) throw new Error(`a good download failed: ${label}`)
      return
    }
    // nginx answers an HTTP/1.0 client without a length, ending the body by closing: when the app
    // resets its side, nginx still closes the client's normally (nginx's doing, not ours)
    const unknowable = kind === 'nginx' && client === 'curl-1.0' && !scenario.sized
    if (result.status === 200 && !result.failed && !unknowable) throw new Error(`a failed download looked complete: ${label}`)
    if (scenario.failAt === 0 && result.status !== 500) throw new Error(`a failure before the first byte is a 500: ${label}`)
    if (result.status === 500 && result.headers['content-disposition'] !== undefined) throw new Error(`an error response with download headers: ${label}`)
    // what did arrive is the content's start, byte for byte
    if (result.status === 200 && !expected.subarray(0, result.body.length).equals(result.body)) throw new Error(`corrupted bytes: ${label}`)
  }), { numRuns: 150 })
  t.ok(runs >= 150, `${runs} downloads`)
  // sources end asynchronously after the response: poll the counters a bounded number of times
  let seen = await counters()
  for (let i = 0; i < 300 && seen.started !== seen.finished; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    seen = await counters()
  }
  t.equal(seen.finished, seen.started, `every source that started was cleaned up (${seen.started})`)
})

t.test('the server process is still alive, and exits cleanly', async (t) => {
  t.equal(server.exitCode, null, 'alive after every scenario')
  server.kill('SIGTERM')
  const [code] = await exited as [number | null]
  t.equal(code, 0)
  t.notMatch(stderr, /uncaught|unhandled|ERR_UNHANDLED_ERROR|^\s+at /im, 'nothing uncaught on stderr')
})
