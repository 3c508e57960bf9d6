// Users test their routes with `app.inject()` (light-my-request): there is no connection under the
// response, so a failure after the first byte cannot reset one. The response is destroyed with the
// error instead: `inject()` rejects with it, or, with `payloadAsStream`, its stream errors. Never a
// 200 whose body reads as complete, never a crash, and every started source is cleaned up.
import fc from 'fast-check'
import Fastify from 'fastify'
import t from 'tap'
import fastifyDownloadView, { BytesIteratorIO, VirtualFile } from '../lib/index.js'
import { expectedBody, failingRoutes, SOURCE_KINDS, sourceUrl, type Counters, type Scenario } from './fixtures/failing-sources.js'

const counters: Counters = { started: 0, finished: 0 }
const app = Fastify()
await app.register(fastifyDownloadView)
failingRoutes(app, counters)
// declares 64 KiB more than it produces, found out after the first chunk went out
app.get('/short', { virtualDownload: true }, () => new VirtualFile(new BytesIteratorIO((async function * () {
  yield new Uint8Array(64 * 1024)
  await new Promise((resolve) => setImmediate(resolve))
  yield new Uint8Array(64 * 1024)
})()), { name: 'short.bin', size: 192 * 1024 }))
t.teardown(() => app.close())

/** What a test written with inject sees: a response, or the error it rejected with (or its stream did). */
async function injected (url: string, stream: boolean): Promise<{ status: number, body: Buffer } | Error> {
  try {
    const response = await app.inject({ url, payloadAsStream: stream })
    if (!stream) return { status: response.statusCode, body: response.rawPayload }
    const chunks: Buffer[] = []
    for await (const chunk of response.stream()) chunks.push(chunk as Buffer)
    return { status: response.statusCode, body: Buffer.concat(chunks) }
  } catch (error) {
    return error as Error
  }
}

t.test('a lie about the size after the first byte rejects inject() with SizeMismatch', async (t) => {
  for (const stream of [false, true]) {
    const outcome = await injected('/short', stream)
    t.type(outcome, Error, stream ? 'the payload stream errors' : 'inject rejects')
    t.match(outcome, { code: 'FST_DOWNLOADVIEW_SIZE_MISMATCH' })
  }
})

const scenarios = fc.record({
  kind: fc.constantFrom(...SOURCE_KINDS),
  items: fc.integer({ min: 1, max: 5 }),
  itemBytes: fc.constantFrom(16, 30_000, 70_000),
  sized: fc.boolean()
}).chain((scenario) => fc.integer({ min: 0, max: scenario.items }).map((failAt): Scenario => ({ ...scenario, failAt })))

t.test('every source kind, failing anywhere, under inject: a 500, a rejection, or the whole body', async (t) => {
  await fc.assert(fc.asyncProperty(scenarios, fc.boolean(), async (scenario, stream) => {
    const outcome = await injected(sourceUrl('', scenario), stream)
    if (scenario.failAt >= scenario.items) {
      // no failure: the whole content
      return !(outcome instanceof Error) && outcome.status === 200 && outcome.body.equals(expectedBody(scenario))
    }
    if (outcome instanceof Error) return /source failed at item/.test(outcome.message)
    // failed before the first byte: Fastify's error handler answered
    return outcome.status === 500 && /source failed at item/.test(outcome.body.toString())
  }), { numRuns: 150 })
  // every source that started was cleaned up (a generator's finally, a stream's destroy, a cancel)
  for (let i = 0; i < 100 && counters.finished < counters.started; i++) await new Promise((resolve) => setImmediate(resolve))
  t.equal(counters.finished, counters.started, `${counters.started} sources started, all cleaned up`)
})
