// Memory while a slow client downloads 1 GiB of generated CSV: the server's RSS growth, and how far
// the generator runs ahead of what the server has handed to the socket. Prints one JSON line.
// BYTES (default 1 GiB) and RATE (curl --limit-rate, default 100M) to change.
import { spawn } from 'node:child_process'
import Fastify from 'fastify'
import fastifyDownloadView, { TextIteratorIO, VirtualFile } from 'fastify-downloadview'

const TOTAL = Number(process.env.BYTES ?? 1024 ** 3)
const RATE = process.env.RATE ?? '100M'
const MiB = 1024 * 1024

const row = 'x'.repeat(63) + '\n'
let produced = 0
function * rows () {
  while (produced < TOTAL) {
    produced += row.length
    yield row
  }
}

const app = Fastify()
await app.register(fastifyDownloadView)
app.get('/big.csv', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(rows()), { name: 'big.csv', size: TOTAL }))
const sockets = new Set()
app.server.on('connection', (socket) => sockets.add(socket))
await app.listen({ host: '127.0.0.1', port: 0 })
const url = `http://127.0.0.1:${app.server.address().port}/big.csv`

const baseline = process.memoryUsage().rss
let peak = baseline
let peakUsage = process.memoryUsage()
let maxAhead = 0
const sampler = setInterval(() => {
  const usage = process.memoryUsage()
  if (usage.rss > peak) {
    peak = usage.rss
    peakUsage = usage
  }
  let written = 0
  for (const socket of sockets) written += socket.bytesWritten
  maxAhead = Math.max(maxAhead, produced - written)
}, 20)

const curl = spawn('curl', ['-sS', '--max-time', '300', '--limit-rate', RATE, '-o', '/dev/null', '-w', '%{size_download}', url])
let received = ''
curl.stdout.on('data', (data) => { received += data })
const started = Date.now()
const exitCode = await new Promise((resolve) => curl.on('close', resolve))
clearInterval(sampler)
await app.close()
console.log(JSON.stringify({
  bytes: TOTAL,
  received: Number(received),
  curlExit: exitCode,
  rate: RATE,
  seconds: (Date.now() - started) / 1000,
  rssBaselineMiB: +(baseline / MiB).toFixed(1),
  rssPeakMiB: +(peak / MiB).toFixed(1),
  rssGrowthMiB: +((peak - baseline) / MiB).toFixed(1),
  generatorAheadKiB: +(maxAhead / 1024).toFixed(0),
  atPeakMiB: Object.fromEntries(Object.entries(peakUsage).map(([key, value]) => [key, +(value / MiB).toFixed(1)]))
}))
