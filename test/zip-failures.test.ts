// ZipFile when things go wrong, over real HTTP (HTTP/1.1 and h2c): the client leaving mid-archive
// (the entry being read destroyed, the entries after it never opened, an iterator's return() run,
// an entry whose open() is running closed once it settles), and entries that fail or lie about their
// size: an error response before the archive's first byte, a cut connection after it.
import { setImmediate as nextTurn } from 'node:timers/promises'
import t from 'tap'
import { ContentFile, TextIteratorIO, VirtualFile, ZipFile, type DownloadFile, type OpenContext, type ZipEntry } from '../lib/index.js'
import { ERROR, eventually } from './helpers.js'
import { download, startServer, streamDownload, type ClientKind, type ServerKind } from './protocols.js'

const KINDS: ServerKind[] = ['http1', 'h2c']
const CLIENT: Record<string, ClientKind> = { http1: 'node-http', h2c: 'node-http2' }

interface Ledger {
  pulled: number[]
  opened: number[]
  streamed: number[]
  closed: number[]
  /** Entries whose content generator ran its finally. */
  finished: number[]
  returned: boolean
  signals: AbortSignal[]
}

const fresh = (): Ledger => ({ pulled: [], opened: [], streamed: [], closed: [], finished: [], returned: false, signals: [] })

/** Resolves when called; `wait` is the promise. */
function signal (): { wait: Promise<void>, fire: () => void } {
  let fire: () => void = () => {}
  const wait = new Promise<void>((resolve) => { fire = resolve })
  return { wait, fire }
}

/**
 * Entry `i`, its life counted: content of `chunks` 16 KiB chunks (endless when undefined), each
 * after a turn of the event loop; `started` fires at its first chunk, `open` runs as its open().
 */
function counted (ledger: Ledger, i: number, options: { chunks?: number, started?: () => void, open?: () => Promise<void> } = {}): ZipEntry {
  const file: DownloadFile = {
    open: async (_request, context: OpenContext) => {
      ledger.opened.push(i)
      ledger.signals.push(context.signal)
      await options.open?.()
    },
    close: () => { ledger.closed.push(i) },
    stream: () => {
      ledger.streamed.push(i)
      return new TextIteratorIO((async function * () {
        try {
          for (let chunk = 0; options.chunks === undefined || chunk < options.chunks; chunk++) {
            await nextTurn()
            if (chunk === 0) options.started?.()
            yield 'x'.repeat(16 * 1024)
          }
        } finally {
          ledger.finished.push(i)
        }
      })())
    }
  }
  return { name: `${i}.txt`, file }
}

for (const kind of KINDS) {
  t.test(`${kind}: the client leaves mid-archive`, async (t) => {
    const ledger = fresh()
    const started = signal()
    const arrived = signal()
    let release: () => void = () => {}
    const released = new Promise<void>((resolve) => { release = resolve })
    const pulling = signal()
    const { wait: listed, fire: list } = signal()
    const left = new Set<string>()
    const server = await startServer(kind, (app) => {
      app.get('/async.zip', (request, reply) => reply.virtualDownload(new ZipFile((async function * () {
        try {
          for (let i = 0; ; i++) {
            ledger.pulled.push(i)
            // the second entry never ends
            yield counted(ledger, i, i === 1 ? { started: started.fire } : { chunks: 2 })
          }
        } finally {
          ledger.returned = true
        }
      })())))
      app.get('/array.zip', (request, reply) => reply.virtualDownload(new ZipFile([0, 1, 2, 3].map((i) =>
        counted(ledger, i, i === 1 ? { started: started.fire } : { chunks: 2 })))))
      // the second entry comes from a slow listing: the client leaves while it is pulled
      app.get('/pulling.zip', (request, reply) => reply.virtualDownload(new ZipFile((async function * () {
        try {
          yield counted(ledger, 0, { chunks: 2 })
          pulling.fire()
          await listed
          yield counted(ledger, 1, { chunks: 2 })
          ledger.pulled.push(2)
        } finally {
          ledger.returned = true
        }
      })())))
      app.addHook('onRequest', async (request, reply) => { reply.raw.on('close', () => left.add(request.url)) })
      // the second entry's open() waits until the test releases it
      app.get('/opening.zip', (request, reply) => reply.virtualDownload(new ZipFile([0, 1, 2].map((i) =>
        counted(ledger, i, i === 1 ? { open: async () => { arrived.fire(); await released } } : { chunks: 2 })))))
    })
    t.teardown(() => server.close())

    t.test('an async iterator of entries', async (t) => {
      const client = streamDownload(kind, `${server.base}/async.zip`)
      await started.wait
      await client.firstData
      client.cancel()
      await eventually(() => ledger.returned && ledger.finished.includes(1))
      t.same(ledger.pulled, [0, 1], 'the entries after the one being read were never pulled')
      t.same(ledger.opened, [0, 1], 'nor opened')
      t.same(ledger.finished, [0, 1], 'the entry being read was destroyed: its generator\'s finally ran')
      t.same(ledger.closed, [], 'nothing to close: every entry opened was streamed')
      t.ok(ledger.signals[1]?.aborted, 'the signal handed to the entries\' open() is aborted')
      t.ok(ledger.returned, 'the iterator\'s return() ran')
    })

    t.test('an array of entries', async (t) => {
      Object.assign(ledger, fresh())
      const { wait, fire } = signal()
      started.fire = fire
      const client = streamDownload(kind, `${server.base}/array.zip`)
      await wait
      client.cancel()
      await eventually(() => ledger.finished.includes(1) && ledger.closed.length === 2)
      t.same(ledger.opened, [0, 1], 'the entries after the one being read were never opened')
      t.same(ledger.finished, [0, 1], 'the entry being read was destroyed')
      t.same(ledger.closed, [2, 3], 'the entries never streamed were closed')
    })

    t.test('while an entry\'s open() runs', async (t) => {
      Object.assign(ledger, fresh())
      const client = streamDownload(kind, `${server.base}/opening.zip`)
      await arrived.wait
      client.cancel()
      await eventually(() => ledger.signals[1]?.aborted === true)
      t.same(ledger.closed, [2], 'the entries after it are closed at once')
      release()
      await eventually(() => ledger.closed.length === 2)
      t.same(ledger.closed, [2, 1], 'the entry whose open() ran is closed once it settled')
      t.same(ledger.streamed, [0], 'and never streamed')
    })

    t.test('while the next entry is pulled', async (t) => {
      Object.assign(ledger, fresh())
      const client = streamDownload(kind, `${server.base}/pulling.zip`)
      await pulling.wait
      client.cancel()
      await eventually(() => left.has('/pulling.zip'))
      list()
      await eventually(() => ledger.returned)
      t.same(ledger.opened, [0], 'the entry pulled after the client left was never opened')
      t.same(ledger.closed, [1], 'it was closed')
      t.same(ledger.pulled, [], 'and nothing pulled after it: the iterator\'s return() ran')
    })

    t.test('nothing was logged at error', async (t) => {
      t.same(server.logs.filter((line) => line.level >= ERROR), [])
    })
  })
}

/** An async generator that fails at its first item, or after `after` items. */
async function * failing (after = 0): AsyncGenerator<string> {
  for (let i = 0; i < after; i++) {
    await nextTurn()
    yield 'y'.repeat(16 * 1024)
  }
  throw new Error('the cursor failed')
}

for (const kind of KINDS) {
  t.test(`${kind}: entries that fail, or lie about their size`, async (t) => {
    const closed: string[] = []
    const closing = (name: string): DownloadFile => ({ size: 3, close: () => { closed.push(name) }, stream: () => 'abc' })
    const server = await startServer(kind, (app) => {
      const route = (path: string, entries: () => Iterable<ZipEntry> | AsyncIterable<ZipEntry>): void => {
        app.get(path, { virtualDownload: true }, () => new ZipFile(entries()))
      }
      // before the archive's first byte: an error response
      route('/first-fails.zip', () => [{ name: 'a', file: new VirtualFile(failing()) }, { name: 'b', file: closing('b') }])
      route('/first-open-fails.zip', () => [{ name: 'a', file: { open: async () => { throw new Error('no such row') }, close: () => { closed.push('a') }, stream: () => '' } }])
      route('/first-stream-throws.zip', () => [{ name: 'a', file: { stream: () => { throw new Error('stream() threw') } } }])
      route('/first-lies.zip', () => [{ name: 'a', file: { size: 10, stream: () => 'short' } }, { name: 'b', file: closing('b') }])
      route('/iterator-fails.zip', () => (async function * (): AsyncGenerator<ZipEntry> { throw new Error('the listing failed') })())
      // after it: a cut connection
      route('/second-fails.zip', () => [{ name: 'a', file: new ContentFile('a'.repeat(100_000)) }, { name: 'b', file: new VirtualFile(failing(3)) }, { name: 'c', file: closing('c') }])
      // past its first 64 KiB chunk (BytesIteratorIO gathers the 16 KiB items): failing mid-entry
      route('/second-fails-sized.zip', () => [{ name: 'a', file: new ContentFile('a'.repeat(100_000)) }, { name: 'b', file: new VirtualFile(failing(8), { size: 1_000_000 }) }])
      // clean-up failures are logged, and change nothing
      route('/clean-up-fails.zip', () => [{ name: 'a', file: new ContentFile('a'.repeat(100_000)) }, { name: 'b', file: new VirtualFile(failing(3)) },
        { name: 'c', file: { stream: () => '', close: () => { throw new Error('c did not close') } } },
        { name: 'd', file: { stream: () => '', close: async () => { throw new Error('d did not close') } } }])
      route('/second-fails-async.zip', () => (async function * () {
        yield { name: 'a', file: new ContentFile('a'.repeat(100_000)) }
        yield { name: 'b', file: new VirtualFile(failing(3)) }
        closed.push('pulled after the failure')
      })())
      // a streamed entry's size is known wrong at its end (or past its size): after a first entry,
      // and a turn of the event loop, so that the archive surely started (a lie found before
      // any byte went out is an error response, as /first-lies.zip's)
      const first = (): ZipEntry => ({ name: 'first', file: new ContentFile('f'.repeat(100_000)) })
      const late = (text: string): VirtualFile => new VirtualFile(new TextIteratorIO((async function * () {
        await nextTurn()
        yield text
      })()), { size: 10 })
      route('/streamed-short.zip', () => [first(), { name: 'a', file: late('abc') }])
      route('/streamed-long.zip', () => [first(), { name: 'a', file: late('x'.repeat(100_000)) }])
      route('/streamed-short-unsized.zip', () => (function * () {
        yield first()
        yield { name: 'a', file: late('abc') }
      })())
    })
    t.teardown(() => server.close())
    const get = async (path: string) => await download(CLIENT[kind] as ClientKind, `${server.base}${path}`)

    for (const [path, message, code] of [
      ['/first-fails.zip', 'the cursor failed'],
      ['/first-open-fails.zip', 'no such row'],
      ['/first-stream-throws.zip', 'stream() threw'],
      ['/first-lies.zip', 'The file declared 10 bytes, but its content produced 5 bytes', 'FST_DOWNLOADVIEW_SIZE_MISMATCH'],
      ['/iterator-fails.zip', 'the listing failed']
    ] as const) {
      const result = await get(path)
      t.equal(result.status, 500, `${path}: an error response`)
      t.notOk(result.failed, `${path}: a complete one`)
      t.equal(result.headers['content-type'], 'application/json; charset=utf-8', `${path}: Fastify's error, not the archive`)
      t.match(JSON.parse(result.body.toString()), { message, ...(code === undefined ? {} : { code }) }, `${path}: ${message}`)
    }
    t.same(closed.sort(), ['a', 'b', 'b'], 'the entries never streamed were closed, the one whose open() failed too')

    closed.length = 0
    for (const path of ['/second-fails.zip', '/second-fails-sized.zip', '/clean-up-fails.zip', '/second-fails-async.zip', '/streamed-short.zip', '/streamed-long.zip', '/streamed-short-unsized.zip']) {
      const result = await get(path)
      t.equal(result.status, 200, `${path}: the archive started`)
      t.ok(result.failed, `${path}: the client sees a failure, never a complete archive (${result.detail})`)
    }
    await eventually(() => closed.length > 0)
    t.same(closed, ['c'], 'an entry after the failure: closed, never opened; an iterator\'s entries after it never pulled')
    const resets = server.logs.filter((line) => line.msg === 'download failed after its first byte; connection reset')
    t.same(resets.map((line) => line.err?.message), [
      'the cursor failed',
      'the cursor failed',
      'the cursor failed',
      'the cursor failed',
      'The file declared 10 bytes, but its content produced 3 bytes',
      'The file declared 10 bytes, but its content produced more than 10 bytes',
      'The file declared 10 bytes, but its content produced 3 bytes'
    ], 'each failure logged, with its cause')
    const cleanUps = server.logs.filter((line) => line.msg === 'ZIP entry clean-up failed')
    t.same(cleanUps.map((line) => [line.level, line.err?.message]), [[ERROR, 'c did not close'], [ERROR, 'd did not close']], 'a close() that throws or rejects: logged')
  })
}
