import fc from 'fast-check'
import t, { type Test } from 'tap'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { TextIteratorIO, VirtualFile, type DownloadFile, type OpenContext } from '../lib/index.js'
import { ERROR } from './helpers.js'
import { openRequest, startServer, type ServerKind, type TestServer } from './protocols.js'

// A client that goes away at any moment — while getFile, a preHandler, open() or wasModifiedSince
// run, before the first chunk, mid-body — on HTTP/1.1 and HTTP/2 (cleartext and TLS): content that
// started is destroyed (its generator's finally runs), a file whose content never started gets
// close(), exactly one of the two; nothing is logged at error.

const KINDS: ServerKind[] = ['http1', 'h2c', 'h2']

interface Ledger {
  files: number
  streamed: number
  closed: number
  started: number
  finished: number
}

function fresh (): Ledger {
  return { files: 0, streamed: 0, closed: 0, started: 0, finished: 0 }
}

/** One moment to hold a download at: the test cancels while it is held, then lets it go. */
class Gate {
  #arrived: () => void = () => {}
  readonly arrived = new Promise<void>((resolve) => { this.#arrived = resolve })
  #release: () => void = () => {}
  readonly #released = new Promise<void>((resolve) => { this.#release = resolve })
  async pass (): Promise<void> {
    this.#arrived()
    await this.#released
  }

  release (): void { this.#release() }
}

const MOMENTS = ['getFile', 'preHandler', 'open', 'wasModifiedSince', 'first-chunk', 'mid-body'] as const
type Moment = typeof MOMENTS[number]

/** A file whose stream() and close() are counted, over a generator whose start and finally are. */
function countedFile (ledger: Ledger, options: { open?: (request: FastifyRequest, context: OpenContext) => Promise<void>, wasModifiedSince?: (since: Date) => Promise<boolean>, firstItem?: () => Promise<void>, delay?: () => Promise<void> }): DownloadFile {
  ledger.files++
  async function * rows (): AsyncGenerator<string> {
    ledger.started++
    try {
      await options.firstItem?.()
      for (let i = 0; ; i++) {
        if (options.delay !== undefined && i % 64 === 0) await options.delay()
        yield `${i},${'x'.repeat(200)}\n`
      }
    } finally { ledger.finished++ }
  }
  const file = new VirtualFile(new TextIteratorIO(rows()), { name: 'export.csv', modifiedTime: new Date(0) })
  return {
    name: file.name,
    modifiedTime: file.modifiedTime,
    ...(options.wasModifiedSince === undefined ? {} : { wasModifiedSince: options.wasModifiedSince }),
    ...(options.open === undefined ? {} : { open: options.open }),
    stream: () => { ledger.streamed++; return file.stream() },
    close: () => { ledger.closed++; file.close() }
  }
}

function routes (app: FastifyInstance, ledger: Ledger, gates: Map<string, Gate>, left = new Set<string>(), signals = new Map<string, AbortSignal>()): void {
  // the responses that closed, by id: the test waits for the server to see its client leave
  app.addHook('onRequest', async (request, reply) => {
    const { id } = request.params as { id?: string }
    if (id !== undefined) reply.raw.on('close', () => left.add(id))
  })
  const gate = (id: string): Gate => {
    let found = gates.get(id)
    if (found === undefined) gates.set(id, found = new Gate())
    return found
  }
  app.get('/held/:moment/:id', {
    virtualDownload: true,
    preHandler: async (request) => {
      const { moment, id } = request.params as { moment: Moment, id: string }
      if (moment === 'preHandler') await gate(id).pass()
    }
  }, async (request) => {
    const { moment, id } = request.params as { moment: Moment, id: string }
    if (moment === 'getFile') await gate(id).pass()
    return countedFile(ledger, {
      ...(moment === 'open' ? { open: async (_request: FastifyRequest, context: OpenContext) => { signals.set(id, context.signal); await gate(id).pass() } } : {}),
      ...(moment === 'wasModifiedSince' ? { wasModifiedSince: async () => { await gate(id).pass(); return true } } : {}),
      ...(moment === 'first-chunk' ? { firstItem: () => gate(id).pass() } : {})
    })
  })
  // every async step takes a few turns of the event loop: a cancel at a random time lands anywhere
  const turns = (n: number) => async (): Promise<void> => { for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve)) }
  app.get('/random/:turns', {
    virtualDownload: true,
    preHandler: async (request) => { await turns(Number((request.params as { turns: string }).turns))() }
  }, async (request) => {
    const wait = turns(Number((request.params as { turns: string }).turns))
    await wait()
    return countedFile(ledger, { open: wait, wasModifiedSince: async () => { await wait(); return true }, firstItem: wait, delay: wait })
  })
}

/** Waits (bounded) until every file was streamed or closed, every generator finished, and `until` holds. */
async function settle (ledger: Ledger, until = (): boolean => true): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (ledger.streamed + ledger.closed === ledger.files && ledger.started === ledger.finished && until()) return
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

function checkLedger (t: Test, ledger: Ledger, label: string): void {
  t.equal(ledger.streamed + ledger.closed, ledger.files, `${label}: every file was streamed or closed (${JSON.stringify(ledger)})`)
  t.equal(ledger.finished, ledger.started, `${label}: every generator that started ran its finally`)
}

for (const kind of KINDS) {
  t.test(`${kind}: a client cancels at each moment of a download`, async (t) => {
    const ledger = fresh()
    const gates = new Map<string, Gate>()
    const left = new Set<string>()
    const signals = new Map<string, AbortSignal>()
    const server: TestServer = await startServer(kind, (app) => routes(app, ledger, gates, left, signals))
    t.teardown(() => server.close())
    for (const moment of MOMENTS) {
      const id = `${moment}-${kind}`
      const gate = new Gate()
      gates.set(id, gate)
      const headers: Record<string, string> = moment === 'wasModifiedSince' ? { 'if-modified-since': new Date(0).toUTCString() } : {}
      const request = openRequest(kind, `${server.base}/held/${moment}/${id}`, headers)
      if (moment === 'mid-body') {
        gate.release()
        await request.firstData
      } else {
        await gate.arrived
      }
      const before = { ...ledger }
      request.cancel()
      // the server sees the client leave while the download is held
      for (let i = 0; i < 500 && !left.has(id); i++) await new Promise((resolve) => setTimeout(resolve, 5))
      t.ok(left.has(id), `${kind} ${moment}: the response closed`)
      // an open() still waiting hears it: its context's signal aborted
      if (moment === 'open') t.equal(signals.get(id)?.aborted, true, `${kind} open: the open() context's signal aborted`)
      gate.release()
      // after getFile, the file it made once the client had left is closed; Fastify may run no
      // handler at all for a client that left during a preHandler
      await settle(ledger, () => moment === 'preHandler' || ledger.closed + ledger.finished > before.closed + before.finished)
      checkLedger(t, ledger, `${kind} ${moment}`)
      if (moment === 'first-chunk' || moment === 'mid-body') {
        t.equal(ledger.finished - before.finished, 1, `${kind} ${moment}: the started content was destroyed`)
      } else {
        // a file made or opened after the client left is closed, and its content never starts
        t.equal(ledger.streamed, before.streamed, `${kind} ${moment}: no stream()`)
        t.equal(ledger.started, before.started, `${kind} ${moment}: the generator never started`)
        // Fastify runs no handler for a request whose client left during a preHandler
        const made = moment === 'preHandler' ? ledger.files - before.files : 1
        t.equal(ledger.closed - before.closed, made, `${kind} ${moment}: close() for the file`)
      }
    }
    t.same(server.logs.filter((line) => line.level >= ERROR), [], 'nothing logged at error')
  })
}

t.test('a client cancels at random moments (property)', async (t) => {
  const servers = new Map<ServerKind, TestServer>()
  const ledger = fresh()
  for (const kind of KINDS) servers.set(kind, await startServer(kind, (app) => routes(app, ledger, new Map())))
  t.teardown(() => Promise.all([...servers.values()].map((server) => server.close())))
  let runs = 0
  await fc.assert(fc.asyncProperty(fc.constantFrom(...KINDS), fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 8 }), fc.boolean(), async (kind, delay, turns, conditional) => {
    runs++
    const server = servers.get(kind) as TestServer
    const headers: Record<string, string> = conditional ? { 'if-modified-since': new Date(0).toUTCString() } : {}
    const request = openRequest(kind, `${server.base}/random/${turns}`, headers)
    await new Promise((resolve) => setTimeout(resolve, delay))
    request.cancel()
    await settle(ledger)
    return ledger.streamed + ledger.closed === ledger.files && ledger.started === ledger.finished
  }), { numRuns: 200 })
  checkLedger(t, ledger, `${runs} cancellations`)
  for (const [kind, server] of servers) t.same(server.logs.filter((line) => line.level >= ERROR), [], `${kind}: nothing logged at error`)
})
