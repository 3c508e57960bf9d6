// npm run bench: every benchmark, contenders alternating in rounds, medians and ratios, one table.
// ROUNDS (default 5) and ONLY (a comma-separated list of benchmark numbers) narrow a run; benchmark 9
// takes ZIP_ENTRIES (default 1000) and ZIP_ENTRY_BYTES (default 1 MiB), e.g. ONLY=9 ROUNDS=1
// ZIP_ENTRIES=10 ZIP_ENTRY_BYTES=65536 for a quick check that it runs.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { diskBenchmark } from './disk.js'
import { alternate, CLIENT_CPU, curlDownload, generatorAlone, median, requestRate, SERVER_CPU, startServer } from './harness.js'
import { CSV_ROWS, LARGE_BYTES, ZIP_ENTRIES, ZIP_ENTRY_BYTES } from './servers.js'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const ONLY = process.env.ONLY?.split(',').map(Number)
const rows = []
const MiB = 1024 * 1024

function report (benchmark, measure, value, target, met) {
  rows.push({ benchmark, measure, value, target, met: met ? 'yes' : 'NO' })
  console.error(`  ${benchmark}: ${measure} = ${value} (target ${target}) ${met ? 'met' : 'NOT met'}`)
}

async function withServers (names, body) {
  const servers = await Promise.all(names.map(startServer))
  try {
    return await body(Object.fromEntries(servers.map((server) => [server.name, server])))
  } finally {
    await Promise.all(servers.map((server) => server.close()))
  }
}

/** A process's resident set size, in MiB, from /proc/PID/status (Linux). */
function rssOf (pid) {
  const line = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (line === null) throw new Error(`no VmRSS for ${pid}`)
  return Number(line[1]) / 1024
}

const benchmarks = {
  async 1 () {
    console.error(`1. CSV export: ${CSV_ROWS.toLocaleString('en')} rows, ${ROUNDS} rounds`)
    await withServers(['csv-downloadview', 'csv-fastify', 'csv-express'], async (servers) => {
      const medians = await alternate(['csv-downloadview', 'csv-fastify', 'csv-express', 'generator alone', 'TextIteratorIO alone'], ROUNDS, async (name) => {
        if (name === 'generator alone') return generatorAlone()
        if (name === 'TextIteratorIO alone') return generatorAlone(true)
        return (await curlDownload(servers[name].url)).seconds
      })
      const ours = medians.get('csv-downloadview')
      for (const [name, seconds] of medians) console.error(`  ${name}: ${seconds.toFixed(3)} s`)
      const speedup = medians.get('csv-fastify') / ours
      report('1. CSV export', 'plain Fastify time / ours', `${speedup.toFixed(2)}x (${ours.toFixed(3)} s vs ${medians.get('csv-fastify').toFixed(3)} s)`, '>= 8x', speedup >= 8)
      report('1. CSV export', 'Express 5 time / ours', `${(medians.get('csv-express') / ours).toFixed(2)}x`, 'info', true)
      const overLimit = ours / medians.get('generator alone')
      report('1. CSV export', 'ours / generator alone', `${overLimit.toFixed(2)}x (${medians.get('generator alone').toFixed(3)} s alone)`, '<= 1.5x', overLimit <= 1.5)
      const floor = medians.get('TextIteratorIO alone') / medians.get('generator alone')
      report('1. CSV export', 'TextIteratorIO alone, no HTTP / generator alone', `${floor.toFixed(2)}x (${medians.get('TextIteratorIO alone').toFixed(3)} s)`, 'info: the encoding floor', true)
    })
  },

  async 2 () {
    // client and server share one CPU here: across the two vCPUs, loopback throughput is bimodal
    // (0.15 to 0.8 s for the same GiB); on one CPU it is steady, and it is the cost of the bytes
    console.error(`2. Large stream: ${LARGE_BYTES / MiB} MiB, client on the server's CPU, ${ROUNDS} rounds`)
    await withServers(['large-downloadview', 'large-node'], async (servers) => {
      const medians = await alternate(['large-downloadview', 'large-node'], ROUNDS, async (name) => {
        const { seconds, bytes } = await curlDownload(servers[name].url, { cpu: SERVER_CPU })
        if (bytes !== LARGE_BYTES) throw new Error(`${name}: ${bytes} bytes`)
        return LARGE_BYTES / seconds / MiB
      })
      const ratio = medians.get('large-downloadview') / medians.get('large-node')
      report('2. Large stream', 'ours / raw node:http throughput', `${ratio.toFixed(3)} (${medians.get('large-downloadview').toFixed(0)} vs ${medians.get('large-node').toFixed(0)} MiB/s)`, '>= 0.95', ratio >= 0.95)
    })
  },

  async 3 () {
    const seconds = Number(process.env.SECONDS ?? 5)
    console.error(`3. Small file rate: autocannon, 10 connections, ${seconds} s per run, ${ROUNDS} rounds`)
    // a fresh server process per run: the rate of one process differs from the next by up to 20%
    // BASELINE_DIST=path/to/dist/index.js adds another build of the plugin, side by side
    const contenders = ['small-downloadview', 'small-fastify', 'small-downloadview-events', ...(process.env.BASELINE_DIST === undefined ? [] : ['small-downloadview-baseline'])]
    const medians = await alternate(contenders, ROUNDS, (name) => withServers([name], async (servers) => {
      await requestRate(servers[name].url, { seconds: 1 }) // warm-up
      return requestRate(servers[name].url, { seconds })
    }))
    const ratio = medians.get('small-downloadview') / medians.get('small-fastify')
    report('3. Small file rate', 'ours / hand-written rate', `${ratio.toFixed(3)} (${medians.get('small-downloadview').toFixed(0)} vs ${medians.get('small-fastify').toFixed(0)} req/s)`, '>= 0.95', ratio >= 0.95)
    // delivery events (issue 14): nothing computed without a listener; with one, what it costs
    const events = medians.get('small-downloadview-events') / medians.get('small-downloadview')
    report('3. Small file rate', 'with a delivery-events subscriber / without', `${events.toFixed(3)} (${medians.get('small-downloadview-events').toFixed(0)} req/s)`, 'info', true)
    if (medians.has('small-downloadview-baseline')) {
      const baseline = medians.get('small-downloadview') / medians.get('small-downloadview-baseline')
      report('3. Small file rate', 'ours / the BASELINE_DIST build', `${baseline.toFixed(3)} (${medians.get('small-downloadview-baseline').toFixed(0)} req/s)`, 'info', true)
    }
  },

  async 4 () {
    console.error('4. Memory and backpressure: 1 GiB to a client reading at 100 MB/s')
    const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(new URL('./memory.js', import.meta.url))], { env: { ...process.env, RATE: process.env.RATE ?? '100M' } })
    const result = JSON.parse(stdout)
    console.error(`  ${stdout.trim()}`)
    report('4. Memory', 'server RSS growth', `${result.rssGrowthMiB} MiB`, '<= 32 MiB', result.rssGrowthMiB <= 32)
    report('4. Memory', 'generator ahead of the socket', `${result.generatorAheadKiB} KiB (highWaterMark 64 KiB)`, '<= 128 KiB', result.generatorAheadKiB <= 128)
  },

  async 5 () {
    const seconds = Number(process.env.SECONDS ?? 5)
    const headers = { range: 'bytes=1000-4999' }
    console.error(`5. Ranges: 4000-byte range of a 1 MiB file, autocannon 10 connections, ${seconds} s per run, ${ROUNDS} rounds`)
    const medians = await alternate(['range-contentfile', 'range-blob', 'range-static'], ROUNDS, (name) => withServers([name], async (servers) => {
      await requestRate(`${servers[name].url}/range.bin`, { seconds: 1, headers })
      return requestRate(`${servers[name].url}/range.bin`, { seconds, headers })
    }))
    const peer = medians.get('range-static')
    for (const name of ['range-contentfile', 'range-blob']) {
      const ratio = medians.get(name) / peer
      report('5. Ranges', `${name === 'range-blob' ? 'Blob' : 'ContentFile'} / @fastify/static rate`, `${ratio.toFixed(2)} (${medians.get(name).toFixed(0)} vs ${peer.toFixed(0)} req/s)`, '>= 1', ratio >= 1)
    }
  },

  async 6 () {
    // on-disk files (benchmarks/disk.js): reply.pathDownload against @fastify/static's reply.download
    await diskBenchmark({ rounds: ROUNDS, seconds: Number(process.env.SECONDS ?? 5), report })
  },

  async 7 () {
    // three processes on two CPUs: the upstream alone on the client CPU, the relay and curl on the
    // server's (as benchmark 2: curl beside the server is steady on this machine)
    console.error(`7. Remote file: ${LARGE_BYTES / MiB} MiB from a local upstream through the relay, curl on the relay's CPU, ${ROUNDS} rounds`)
    const upstream = await startServer('large-node', { cpu: CLIENT_CPU })
    try {
      const env = { UPSTREAM: upstream.url }
      const relays = ['remote-downloadview', 'remote-undici']
      // a fresh relay per download, warmed by one whole download (the upstream ignores ranges)
      const medians = await alternate(relays, ROUNDS, async (name) => {
        const relay = await startServer(name, { env })
        try {
          await curlDownload(relay.url, { cpu: SERVER_CPU })
          const { seconds, bytes } = await curlDownload(relay.url, { cpu: SERVER_CPU })
          if (bytes !== LARGE_BYTES) throw new Error(`${name}: ${bytes} bytes`)
          return LARGE_BYTES / seconds / MiB
        } finally {
          await relay.close()
        }
      })
      const ratio = medians.get('remote-downloadview') / medians.get('remote-undici')
      report('7. Remote file', 'HTTPFile / undici stream() piped into the reply, throughput', `${ratio.toFixed(3)} (${medians.get('remote-downloadview').toFixed(0)} vs ${medians.get('remote-undici').toFixed(0)} MiB/s)`, '>= 0.9', ratio >= 0.9)
    } finally {
      await upstream.close()
    }
  },

  async 8 () {
    // a. resuming a generated export from its middle: the factory regenerates and skips the first
    // half (time to first byte), against the whole download
    console.error(`8a. Resume a generated export: ${CSV_ROWS.toLocaleString('en')} rows from its middle, ${ROUNDS} rounds`)
    await withServers(['resume-downloadview'], async ({ 'resume-downloadview': server }) => {
      const { bytes: size } = await curlDownload(server.url)
      const middle = Math.floor(size / 2)
      const timed = async (args) => {
        const { stdout } = await promisify(execFile)('curl', ['-sS', '-o', '/dev/null', '-w', '%{time_starttransfer} %{time_total} %{size_download} %{http_code}', ...args, server.url])
        const [first, total, bytes, status] = stdout.trim().split(' ').map(Number)
        return { first, total, bytes, status }
      }
      const samples = { full: [], resumed: [] }
      for (let round = 0; round <= ROUNDS; round++) {
        const full = await timed([])
        const resumed = await timed(['-H', `Range: bytes=${middle}-`, '-H', 'If-Range: "v1"'])
        if (full.status !== 200 || full.bytes !== size || resumed.status !== 206 || resumed.bytes !== size - middle) throw new Error(`8a: ${JSON.stringify({ full, resumed })}`)
        if (round > 0) {
          samples.full.push(full)
          samples.resumed.push(resumed)
        }
      }
      const med = (list, key) => median(list.map((sample) => sample[key]))
      const [fullFirst, fullTotal, resumedFirst, resumedTotal] = [med(samples.full, 'first'), med(samples.full, 'total'), med(samples.resumed, 'first'), med(samples.resumed, 'total')]
      console.error(`  full: first byte ${fullFirst.toFixed(3)} s, total ${fullTotal.toFixed(3)} s (${(size / MiB).toFixed(0)} MiB); from the middle: first byte ${resumedFirst.toFixed(3)} s, total ${resumedTotal.toFixed(3)} s`)
      report('8. Resume from the middle', 'resumed total / full total', `${(resumedTotal / fullTotal).toFixed(3)} (${resumedTotal.toFixed(3)} vs ${fullTotal.toFixed(3)} s; first byte after ${resumedFirst.toFixed(3)} s vs ${fullFirst.toFixed(3)} s)`, 'info: the first half is produced and skipped', true)
      report('8. Resume from the middle', 'resumed first byte / full total', `${(resumedFirst / fullTotal).toFixed(3)}`, 'info: about 0.5 without seekable', true)
    })

    // b. ten ranges of a 1 GiB Blob: one multipart answer against ten single-range requests on
    // one keep-alive connection (curl --next)
    const parts = 10
    const length = Math.floor(LARGE_BYTES / parts / 4)
    const ranges = Array.from({ length: parts }, (_, i) => [i * Math.floor(LARGE_BYTES / parts), i * Math.floor(LARGE_BYTES / parts) + length - 1])
    console.error(`8b. ${parts} ranges of ${(length / MiB).toFixed(1)} MiB of a ${LARGE_BYTES / MiB} MiB Blob: one multipart request vs ${parts} requests, ${ROUNDS} rounds`)
    await withServers(['multipart-blob'], async ({ 'multipart-blob': server }) => {
      const run = promisify(execFile)
      const multipart = async () => {
        const start = process.hrtime.bigint()
        const { stdout } = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', '-H', `Range: bytes=${ranges.map(([a, b]) => `${a}-${b}`).join(',')}`, server.url])
        const [status, bytes] = stdout.trim().split(' ').map(Number)
        if (status !== 206 || bytes < parts * length) throw new Error(`8b multipart: ${stdout}`)
        return Number(process.hrtime.bigint() - start) / 1e9
      }
      const singles = async () => {
        const args = ranges.flatMap(([a, b], i) => [...(i === 0 ? [] : ['--next']), '-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}\n', '-H', `Range: bytes=${a}-${b}`, server.url])
        const start = process.hrtime.bigint()
        const { stdout } = await run('curl', args)
        const lines = stdout.trim().split('\n')
        if (lines.length !== parts || lines.some((line) => line !== `206 ${length}`)) throw new Error(`8b singles: ${stdout}`)
        return Number(process.hrtime.bigint() - start) / 1e9
      }
      const medians = await alternate(['multipart', 'singles'], ROUNDS, (name) => name === 'multipart' ? multipart() : singles())
      const ratio = medians.get('singles') / medians.get('multipart')
      console.error(`  one multipart request: ${medians.get('multipart').toFixed(3)} s; ${parts} requests: ${medians.get('singles').toFixed(3)} s`)
      report('8. Several ranges', `${parts} single-range requests time / one multipart request`, `${ratio.toFixed(3)} (${medians.get('multipart').toFixed(3)} vs ${medians.get('singles').toFixed(3)} s, ${(parts * length / MiB).toFixed(0)} MiB)`, 'info', true)
    })
  },

  async 9 () {
    // a ZIP of ZIP_ENTRIES stored entries (ZIP_ENTRY_BYTES each, in memory) against the same bytes
    // written raw; curl beside the server, as benchmark 2. The server's RSS is sampled from
    // /proc/PID/status every 20 ms during each download: its growth over the RSS before it
    const contentBytes = ZIP_ENTRIES * ZIP_ENTRY_BYTES
    console.error(`9. ZIP archive: ${ZIP_ENTRIES.toLocaleString('en')} entries of ${(ZIP_ENTRY_BYTES / 1024).toLocaleString('en')} KiB (${(contentBytes / MiB).toFixed(0)} MiB), client on the server's CPU, ${ROUNDS} rounds`)
    await withServers(['zip-downloadview', 'zip-raw'], async (servers) => {
      const memory = { 'zip-downloadview': [], 'zip-raw': [] }
      const medians = await alternate(['zip-downloadview', 'zip-raw'], ROUNDS, async (name) => {
        const { pid, url } = servers[name]
        const before = rssOf(pid)
        let peak = before
        const sampler = setInterval(() => { peak = Math.max(peak, rssOf(pid)) }, 20)
        let result
        try {
          result = await curlDownload(url, { cpu: SERVER_CPU })
        } finally {
          clearInterval(sampler)
        }
        const after = rssOf(pid)
        memory[name].push({ before, peak: Math.max(peak, after), after })
        // an entry's headers, data descriptor and central record: about 130 bytes with these names
        const expected = name === 'zip-raw' ? contentBytes : contentBytes + ZIP_ENTRIES * 256 + 1024
        if (name === 'zip-raw' ? result.bytes !== expected : result.bytes <= contentBytes || result.bytes > expected) throw new Error(`${name}: ${result.bytes} bytes`)
        return contentBytes / result.seconds / MiB
      })
      const ratio = medians.get('zip-downloadview') / medians.get('zip-raw')
      report('9. ZIP archive', 'ZipFile / raw node:http throughput of the same bytes', `${ratio.toFixed(3)} (${medians.get('zip-downloadview').toFixed(0)} vs ${medians.get('zip-raw').toFixed(0)} MiB/s)`, 'info', true)
      for (const name of ['zip-downloadview', 'zip-raw']) {
        // the warm-up round included: the first download's growth is the one that could stay
        const samples = memory[name]
        const growth = Math.max(...samples.map(({ before, peak }) => peak - before))
        const drift = samples.at(-1).after - samples[0].before
        console.error(`  ${name}: RSS ${samples.map(({ before, peak, after }) => `${before.toFixed(0)}/${peak.toFixed(0)}/${after.toFixed(0)}`).join(', ')} MiB (before/peak/after)`)
        report('9. ZIP archive', `${name} server RSS: peak growth during a download; first before to last after`, `+${growth.toFixed(1)} MiB; ${drift >= 0 ? '+' : ''}${drift.toFixed(1)} MiB`, name === 'zip-downloadview' ? '<= 32 MiB' : 'info', name !== 'zip-downloadview' || growth <= 32)
      }
    })
  }
}

console.error(`fastify-downloadview benchmarks — Node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`)
for (const [number, benchmark] of Object.entries(benchmarks)) {
  if (ONLY === undefined || ONLY.includes(Number(number))) await benchmark()
}
console.log('\n| benchmark | measure | value | target | met |\n| --- | --- | --- | --- | --- |')
for (const row of rows) console.log(`| ${row.benchmark} | ${row.measure} | ${row.value} | ${row.target} | ${row.met} |`)
