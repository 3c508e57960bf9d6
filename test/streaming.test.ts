import { execFile } from 'node:child_process'
import { connect } from 'node:net'
import { once } from 'node:events'
import { promisify } from 'node:util'
import t from 'tap'
import { TextIteratorIO, VirtualFile, BytesIteratorIO } from '../lib/index.js'
import { build, ERROR, eventually, get, listen, settled } from './helpers.js'

const run = promisify(execFile)
const KiB = 1024
const MiB = 1024 * KiB

// Real sockets on 127.0.0.1: the behaviours that only show over a connection.

t.test('a client that goes away: the generator\'s finally runs, nothing logged at error', async (t) => {
  const { app, logs } = await build()
  const finished = new Set<string>()
  function * endless (name: string): Generator<string> {
    try { for (let i = 0; ; i++) yield `${i},user${i}@example.com\n` } finally { finished.add(name) }
  }
  async function * endlessAsync (name: string): AsyncGenerator<Uint8Array> {
    try { for (;;) yield new Uint8Array(8 * KiB) } finally { finished.add(name) }
  }
  app.get('/sync', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(endless('sync')), { name: 'a.csv' }))
  app.get('/async', { virtualDownload: true }, () => new VirtualFile(endlessAsync('async'), { name: 'a.bin' }))
  app.get('/sized', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(endless('sized')), { name: 'a.csv', size: 1024 * MiB }))
  const base = await listen(app)
  t.teardown(() => app.close())

  for (const name of ['sync', 'async', 'sized']) {
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(base).port) })
    socket.write(`GET /${name} HTTP/1.1\r\nHost: x\r\n\r\n`)
    await once(socket, 'data')
    socket.destroy()
    await eventually(() => finished.has(name))
    t.ok(finished.has(name), `${name}: finally ran`)
  }
  t.same(logs.filter((line) => line.level >= ERROR), [], 'nothing at error')
})

t.test('a client that goes away while the first chunk is awaited', async (t) => {
  const { app, logs } = await build()
  let finished = false
  let started: () => void = () => {}
  const waiting = new Promise<void>((resolve) => { started = resolve })
  async function * neverFirst (): AsyncGenerator<string> {
    try {
      started()
      await new Promise(() => {})
      yield 'never'
    } finally { finished = true }
  }
  app.get('/wait', { virtualDownload: true }, () => new VirtualFile(neverFirst(), { name: 'w.txt' }))
  const base = await listen(app)
  t.teardown(() => app.close())
  const socket = connect({ host: '127.0.0.1', port: Number(new URL(base).port) })
  socket.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n')
  await waiting
  socket.destroy()
  // the generator is stuck in an await, so its finally cannot run; the stream is destroyed though
  await settled(() => logs.length)
  t.equal(finished, false)
  t.same(logs.filter((line) => line.level >= ERROR), [], 'nothing at error')
})

t.test('a client that goes away while open() runs: the content is never started', async (t) => {
  const { app, logs } = await build()
  let proceed: () => void = () => {}
  const opened = new Promise<void>((resolve) => { proceed = resolve })
  let arrived: () => void = () => {}
  const inOpen = new Promise<void>((resolve) => { arrived = resolve })
  let streamed = false
  let closed = false
  app.get('/slow-open', { virtualDownload: true }, () => ({
    name: 's.txt',
    open: async () => { arrived(); await opened },
    stream: () => { streamed = true; return 'x' },
    close: () => { closed = true }
  }))
  const base = await listen(app)
  t.teardown(() => app.close())
  const socket = connect({ host: '127.0.0.1', port: Number(new URL(base).port) })
  socket.write('GET /slow-open HTTP/1.1\r\nHost: x\r\n\r\n')
  await inOpen
  socket.destroy()
  await settled(() => logs.length)
  proceed()
  await eventually(() => closed)
  t.equal(streamed, false)
  t.same(logs.filter((line) => line.level >= ERROR), [], 'nothing at error')
})

t.test('an error after the first byte cuts the connection and is logged at error', async (t) => {
  const { app, logs } = await build()
  function * failing (): Generator<string> {
    for (let i = 0; i < 10000; i++) yield `${i},row\n`
    throw new Error('database went away')
  }
  app.get('/chunked', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(failing(), { highWaterMark: 1024 }), { name: 'a.csv' }))
  app.get('/sized', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(failing(), { highWaterMark: 1024 }), { name: 'a.csv', size: 10 * MiB }))
  const base = await listen(app)
  t.teardown(() => app.close())

  for (const url of ['/chunked', '/sized']) {
    const response = await get(base + url)
    t.equal(response.status, 200, url)
    t.ok(response.body.length > 0, `${url}: some bytes arrived`)
    t.ok(response.error, `${url}: the client sees an error, not a clean end`)
    const curl = await run('curl', ['-sS', '-o', '/dev/null', base + url]).then(() => 0, (error: { code: number }) => error.code)
    t.not(curl, 0, `${url}: curl fails too (exit ${curl})`)
  }
  const errors = logs.filter((line) => line.level === ERROR)
  t.equal(errors.length, 4)
  for (const line of errors) {
    t.equal(line.msg, 'download failed after its first byte; connection reset')
    t.equal(line.err?.message, 'database went away')
    t.match(line.reqId, /^req-/)
  }
})

t.test('a wrapper that lies about its size never leaves a client hanging', async (t) => {
  const { app, logs } = await build()
  function * chunks (count: number): Generator<Uint8Array> {
    for (let i = 0; i < count; i++) yield new Uint8Array(16 * KiB).fill(i)
  }
  app.get('/short', { virtualDownload: true }, () => new VirtualFile(new BytesIteratorIO(chunks(32), { highWaterMark: 16 * KiB }), { name: 's.bin', size: MiB }))
  app.get('/long', { virtualDownload: true }, () => new VirtualFile(new BytesIteratorIO(chunks(64), { highWaterMark: 16 * KiB }), { name: 'l.bin', size: 512 * KiB }))
  const base = await listen(app)
  t.teardown(() => app.close())

  const short = await get(`${base}/short`)
  t.equal(short.headers['content-length'], String(MiB))
  t.ok(short.body.length <= 512 * KiB, 'no more than the content had')
  t.ok(short.error, 'short content: the client sees an error')

  const long = await get(`${base}/long`)
  t.equal(long.headers['content-length'], String(512 * KiB))
  t.ok(long.body.length < 512 * KiB, `long content: the declared length never completes (${long.body.length} bytes)`)
  t.ok(long.error, 'long content: the client sees an error')
  const mismatches = logs.filter((line) => line.level === ERROR && /declared/.test(line.err?.message ?? ''))
  t.equal(mismatches.length, 2, 'both logged at error')
})

t.test('backpressure: a paused client holds the generator back', async (t) => {
  const { app, logs } = await build()
  let produced = 0
  let finished = false
  function * endless (): Generator<string> {
    const row = 'x'.repeat(99) + '\n'
    try {
      for (;;) { produced += row.length; yield row }
    } finally { finished = true }
  }
  app.get('/endless', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(endless()), { name: 'e.txt' }))
  const base = await listen(app)
  t.teardown(() => app.close())
  const socket = connect({ host: '127.0.0.1', port: Number(new URL(base).port) })
  socket.write('GET /endless HTTP/1.1\r\nHost: x\r\n\r\n')
  await once(socket, 'data')
  socket.pause()
  const ahead = await settled(() => produced)
  // kernel socket buffers on both sides plus the stream high-water marks; never the whole endless file
  t.ok(ahead < 32 * MiB, `the generator stopped ${(ahead / MiB).toFixed(1)} MiB ahead of a paused client`)
  socket.destroy()
  await eventually(() => finished)
  t.same(logs.filter((line) => line.level >= ERROR), [])
})

t.test('HEAD over HTTP never starts the generator', async (t) => {
  const { app } = await build()
  let started = false
  let closed = false
  function * rows (): Generator<string> { started = true; yield 'a,b\n' }
  app.get('/report.csv', { virtualDownload: true }, () => {
    const file = new VirtualFile(new TextIteratorIO(rows()), { name: 'report.csv', size: 4 })
    const close = file.close.bind(file)
    return Object.assign(file, { close: () => { closed = true; close() } })
  })
  const base = await listen(app)
  t.teardown(() => app.close())
  const { stdout } = await run('curl', ['-sS', '-I', `${base}/report.csv`])
  t.match(stdout, /^HTTP\/1.1 200 OK/)
  t.match(stdout, /content-length: 4\r\n/i)
  t.match(stdout, /content-disposition: attachment; filename="report.csv"\r\n/i)
  t.equal(started, false)
  t.equal(closed, true)
  t.equal((await get(`${base}/report.csv`)).body.toString(), 'a,b\n')
  t.equal(started, true)
})

t.test('curl saves what the headers name', async (t) => {
  const { app } = await build()
  app.get('/export', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(['id,name\n', '1,é\n']), { name: 'exports/données 2026.csv' }))
  const base = await listen(app)
  t.teardown(() => app.close())
  const dir = t.testdir({})
  await run('curl', ['-sS', '--fail', '-OJ', `${base}/export`], { cwd: dir })
  const { readFile } = await import('node:fs/promises')
  t.equal(await readFile(`${dir}/donnees 2026.csv`, 'utf8'), 'id,name\n1,é\n', 'curl -J takes the ASCII fallback')
})
