// Benchmark 6, on-disk files: the plugin's reply.pathDownload against @fastify/static's
// reply.download (same root, same files) and a raw node:http + fs.createReadStream().pipe(res)
// ceiling. Run by `npm run bench` (benchmarks/run.js), or alone: `node benchmarks/disk.js`.
//
// - a 1 MiB file: request rate of the full GET and of a 512 KiB range (curl, 4 parallel
//   connections) and of a 4,000-byte range (autocannon, 10 connections, as benchmark 5), a fresh
//   server process per run (as benchmarks 3 and 5), and the server's CPU time per request (utime +
//   stime of its process, threadpool included, over the measured run);
// - a 1 GiB file: full GET throughput and its middle 512 MiB as a range, curl to /dev/null on
//   the server's CPU (as benchmark 2), a fresh server per download, and the server's CPU per GiB.
//
// Contenders: the plugin (root as a plugin option, reply.pathDownload(name)); for the 4,000-byte
// range also root per call (reply.pathDownload(name, { root })); @fastify/static's
// reply.download(name) (root set, serve: false); for the larger bodies @fastify/static told to
// read 64 KiB at a time (info); raw node:http (info, the ceiling).
// Contenders alternate (one warm-up round, then ROUNDS); medians and ratios. The files live in a
// temporary directory, deleted at the end: the 1 GiB file is written block by block with non-zero,
// per-block distinct pseudo-random bytes (not sparse: a hole reads as zeros without touching a
// block, which would flatter every contender) and fdatasync'ed before anything is measured.
import { randomBytes } from 'node:crypto'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, fdatasyncSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { alternate, CLIENT_CPU, curlDownload, median, pinned, SERVER_CPU } from './harness.js'
import { rangeBytes } from './servers.js'

const run = promisify(execFile)
const here = (file) => fileURLToPath(new URL(file, import.meta.url))
const MiB = 1024 * 1024
export const SMALL = 'range.bin' // 1 MiB, the bytes of benchmark 5
export const LARGE = 'large.bin'
const LARGE_BYTES = Number(process.env.DISK_LARGE_BYTES ?? 1024 ** 3)
/**
 * Every server process keeps this many small objects (about 15 MiB of old generation; set
 * DISK_HEAP_BALLAST=0 for bare processes). With the 8-10 MiB heap of these servers, V8 ran up to 35
 * mark-compacts per GiB streamed, or 1, from one process to the next (the raw node:http one
 * included): the user CPU per GiB doubled with them, and the ratios measured that lottery. With a
 * heap the size of a real application's, every contender runs one. See BENCHMARKS.md, 6.
 */
const HEAP_BALLAST = 200_000
/** VERBOSE=1: every sample, not only the medians. */
const VERBOSE = process.env.VERBOSE === '1'
const TICKS = 100 // clock ticks per second of /proc/PID/stat (getconf CLK_TCK)

/** The small cases: Range header (none for the full file), and the bytes expected. */
export const SMALL_CASES = {
  'full 1 MiB': { headers: {}, start: 0, end: MiB - 1, client: 'curl', count: 300 },
  '4,000-byte range': { headers: { range: 'bytes=1000-4999' }, start: 1000, end: 4999, client: 'autocannon' },
  '512 KiB range': { headers: { range: `bytes=${256 * 1024}-${768 * 1024 - 1}` }, start: 256 * 1024, end: 768 * 1024 - 1, client: 'curl', count: 600 }
}
/** The middle half of the large file. */
const LARGE_RANGE = { start: LARGE_BYTES / 4, end: LARGE_BYTES / 4 * 3 - 1 }

/** Writes the two files in a new temporary directory; returns its path. */
export function makeFiles (largeBytes = LARGE_BYTES) {
  const root = mkdtempSync(join(tmpdir(), 'fdv-disk-'))
  try {
    writeFileSync(join(root, SMALL), rangeBytes())
    const fd = openSync(join(root, LARGE), 'w')
    try {
      const block = randomBytes(MiB)
      for (let written = 0; written < largeBytes; written += MiB) {
        block.writeUInt32LE(written / MiB, 0) // every block distinct
        writeSync(fd, block, 0, Math.min(MiB, largeBytes - written))
      }
      fdatasyncSync(fd)
      const { size, blocks } = fstatSync(fd)
      if (size !== largeBytes || blocks * 512 < size) throw new Error(`${LARGE}: ${size} bytes in ${blocks * 512} allocated: sparse?`)
    } finally {
      closeSync(fd)
    }
  } catch (error) {
    rmSync(root, { recursive: true, force: true })
    throw error
  }
  return root
}

/** Starts `disk-servers.js NAME ROOT` on the server CPU; resolves with { name, url, pid, close }. */
export async function startDiskServer (name, root) {
  const [command, args] = pinned(SERVER_CPU, process.execPath, [here('./disk-servers.js'), name, root])
  // the server exits when its stdin closes: with this process, whatever way it ends
  const env = { ...process.env, DISK_SERVER_STDIN: '1', DISK_HEAP_BALLAST: process.env.DISK_HEAP_BALLAST ?? String(HEAP_BALLAST) }
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'], env })
  const url = await new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 20 s`)), 20_000)
    child.stdout.on('data', (data) => {
      output += data
      if (output.includes('\n')) {
        clearTimeout(timer)
        resolve(output.split('\n')[0])
      }
    })
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}`)))
  }).catch((error) => {
    child.kill()
    throw error
  })
  return {
    name,
    url,
    pid: child.pid, // taskset execs node: the same process
    async close () {
      child.kill('SIGTERM')
      if (child.exitCode === null) await once(child, 'exit')
    }
  }
}

/** CPU seconds (user + system, all threads) a process has used so far. */
function cpuSeconds (pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / TICKS
}

/**
 * Requests per second of the server, and its CPU time per request over the measured run:
 * - `client: 'autocannon'`: benchmarks/load.js for `seconds` (small bodies, as benchmark 5);
 * - `client: 'curl'`: one curl, `count` requests (URL globbing, `?[1-count]`) over `connections`
 *   parallel keep-alive connections, bodies to /dev/null. For 1 MiB bodies autocannon's own
 *   parsing is the bottleneck (70 req/s against 220 with curl for the same server); curl spends
 *   0.2 s of CPU on 400 MiB.
 * Both on the client CPU.
 */
async function measureRate (server, path, { client, seconds, count, connections, headers }) {
  const cpuBefore = cpuSeconds(server.pid)
  let rate
  if (client === 'autocannon') {
    const [command, args] = pinned(CLIENT_CPU, process.execPath, [here('./load.js'), `${server.url}/${path}`, String(seconds), String(connections), JSON.stringify(headers)])
    const { stdout } = await run(command, args, { timeout: (seconds + 30) * 1000 })
    rate = Number(stdout)
  } else {
    const headerArgs = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`])
    const [command, args] = pinned(CLIENT_CPU, 'curl', ['-sS', '--no-progress-meter', '--max-time', '120', '-Z', '--parallel-max', String(connections),
      ...headerArgs, '-w', '%{stderr}%{http_code} %{size_download}\n', `${server.url}/${path}?[1-${count}]`])
    const started = process.hrtime.bigint()
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let output = ''
    child.stderr.on('data', (data) => { output += data })
    const [code] = await once(child, 'close')
    const elapsed = Number(process.hrtime.bigint() - started) / 1e9
    const lines = output.trim().split('\n')
    const expected = `${headers.range === undefined ? 200 : 206} `
    if (code !== 0 || lines.length !== count || !lines.every((line) => line.startsWith(expected))) {
      throw new Error(`${server.name}: curl exit ${code}, ${lines.length} responses, ${lines.find((line) => !line.startsWith(expected))}`)
    }
    rate = count / elapsed
  }
  const cpu = cpuSeconds(server.pid) - cpuBefore
  return { rate, cpuPerRequest: cpu / (client === 'autocannon' ? rate * seconds : count) }
}

/** The bytes of a response are the file's (status, length, content): checked once per contender and case. */
async function check (server, path, expected, headers, status) {
  const response = await fetch(`${server.url}/${path}`, { headers })
  const body = Buffer.from(await response.arrayBuffer())
  if (response.status !== status || !body.equals(expected)) {
    throw new Error(`${server.name} ${path} ${JSON.stringify(headers)}: HTTP ${response.status}, ${body.length} bytes, not the expected ${expected.length}`)
  }
}

const ratio = (a, b) => (a / b).toFixed(3)
const fmt = (n) => Math.round(n).toLocaleString('en')

/**
 * Runs the benchmark; `report(benchmark, measure, value, target, met)` gets every row.
 * contenders: the plugin ('disk-downloadview'), @fastify/static ('disk-static'), raw node ('disk-node').
 */
export async function diskBenchmark ({ rounds = 5, seconds = 5, report, log = console.error } = {}) {
  const ours = 'disk-downloadview'
  const peer = 'disk-static'
  const peer64k = 'disk-static-64k' // info: @fastify/static told to read 64 KiB at a time
  const ceiling = 'disk-node'
  const root = makeFiles()
  const cleanup = () => rmSync(root, { recursive: true, force: true })
  // the 1 GiB file goes on Ctrl-C too
  const interrupted = () => {
    cleanup()
    process.exit(130)
  }
  process.once('exit', cleanup).once('SIGINT', interrupted).once('SIGTERM', interrupted)
  try {
    const small = readFileSync(join(root, SMALL))
    // same bytes from every contender, before anything is timed
    for (const name of [ours, 'disk-downloadview-call', peer, peer64k, ceiling]) {
      const server = await startDiskServer(name, root)
      try {
        for (const { headers, start, end } of Object.values(SMALL_CASES)) {
          await check(server, SMALL, small.subarray(start, end + 1), headers, headers.range === undefined ? 200 : 206)
        }
      } finally {
        await server.close()
      }
    }

    for (const [label, { headers, client, count }] of Object.entries(SMALL_CASES)) {
      // the per-call form (root in reply.pathDownload's options) where the per-request cost shows
      // most; @fastify/static with 64 KiB reads where there is more than one read to make
      const contenders = label === '4,000-byte range' ? [ours, 'disk-downloadview-call', peer, ceiling] : [ours, peer, peer64k, ceiling]
      const load = client === 'autocannon' ? { client, seconds, connections: 10, headers } : { client, count, connections: 4, headers }
      log(`6. On-disk, ${label} of a 1 MiB file: ${client === 'autocannon' ? `autocannon 10 connections, ${seconds} s` : `curl, ${count} requests over 4 connections`} per run, fresh servers, ${rounds} rounds`)
      const cpu = new Map(contenders.map((name) => [name, []]))
      const rates = await alternate(contenders, rounds, async (name) => {
        const server = await startDiskServer(name, root)
        try {
          await measureRate(server, SMALL, { ...load, seconds: 1, count: Math.ceil(count / 5) }) // warm-up
          const result = await measureRate(server, SMALL, load)
          cpu.get(name).push(result.cpuPerRequest)
          if (VERBOSE) log(`    ${name}: ${fmt(result.rate)} req/s, ${(result.cpuPerRequest * 1e6).toFixed(0)} µs CPU/request`)
          return result.rate
        } finally {
          await server.close()
        }
      })
      // the first (warm-up) round's CPU samples are dropped as alternate() drops its rates
      const cpuMedian = (name) => median(cpu.get(name).slice(1)) * 1e6
      for (const name of contenders) log(`  ${name}: ${fmt(rates.get(name))} req/s, ${cpuMedian(name).toFixed(0)} µs CPU/request`)
      const r = rates.get(ours) / rates.get(peer)
      report(`6. On-disk ${label}`, 'ours / @fastify/static rate', `${ratio(rates.get(ours), rates.get(peer))} (${fmt(rates.get(ours))} vs ${fmt(rates.get(peer))} req/s)`, '>= 1', r >= 1)
      const c = cpuMedian(ours) / cpuMedian(peer)
      report(`6. On-disk ${label}`, 'ours / @fastify/static server CPU per request', `${c.toFixed(3)} (${cpuMedian(ours).toFixed(0)} vs ${cpuMedian(peer).toFixed(0)} µs)`, '<= 1', c <= 1)
      if (contenders.includes('disk-downloadview-call')) {
        report(`6. On-disk ${label}`, 'root per call (reply.pathDownload(name, { root })) / @fastify/static rate', `${ratio(rates.get('disk-downloadview-call'), rates.get(peer))} (${fmt(rates.get('disk-downloadview-call'))} req/s, ${cpuMedian('disk-downloadview-call').toFixed(0)} µs CPU)`, 'info', true)
      }
      if (contenders.includes(peer64k)) {
        report(`6. On-disk ${label}`, 'ours / @fastify/static with highWaterMark 64 KiB rate', `${ratio(rates.get(ours), rates.get(peer64k))} (${fmt(rates.get(peer64k))} req/s, ${cpuMedian(peer64k).toFixed(0)} µs CPU)`, 'info', true)
      }
      report(`6. On-disk ${label}`, 'ours / raw node:http rate', `${ratio(rates.get(ours), rates.get(ceiling))} (${fmt(rates.get(ceiling))} req/s, ${cpuMedian(ceiling).toFixed(0)} µs CPU)`, 'info', true)
    }

    // as benchmark 2: curl on the server's CPU, where loopback throughput is steady. A fresh server
    // per download (warmed by a 64 MiB range), as for the rates: every sample starts from the same
    // state, and one slow process cannot weigh on all the rounds of one contender.
    const largeCases = {
      [`full ${LARGE_BYTES / MiB} MiB`]: { args: [], bytes: LARGE_BYTES },
      [`${(LARGE_RANGE.end - LARGE_RANGE.start + 1) / MiB} MiB range of ${LARGE_BYTES / MiB} MiB`]: { args: ['-H', `Range: bytes=${LARGE_RANGE.start}-${LARGE_RANGE.end}`], bytes: LARGE_RANGE.end - LARGE_RANGE.start + 1 }
    }
    const contenders = [ours, peer, peer64k, ceiling]
    const warmUp = ['-H', `Range: bytes=0-${Math.min(64 * MiB, LARGE_BYTES) - 1}`]
    for (const [label, { args, bytes }] of Object.entries(largeCases)) {
      log(`6. On-disk, ${label}: curl -o /dev/null on the server's CPU, fresh servers, ${rounds} rounds`)
      const cpu = new Map(contenders.map((name) => [name, []]))
      const throughput = await alternate(contenders, rounds, async (name) => {
        const server = await startDiskServer(name, root)
        try {
          await curlDownload(`${server.url}/${LARGE}`, { cpu: SERVER_CPU, args: warmUp })
          const cpuBefore = cpuSeconds(server.pid)
          const { seconds, bytes: received } = await curlDownload(`${server.url}/${LARGE}`, { cpu: SERVER_CPU, args })
          if (received !== bytes) throw new Error(`${name}: ${received} bytes, expected ${bytes}`)
          // server CPU seconds per GiB sent
          cpu.get(name).push((cpuSeconds(server.pid) - cpuBefore) / (bytes / 1024 ** 3))
          if (VERBOSE) log(`    ${name}: ${fmt(bytes / seconds / MiB)} MiB/s, ${cpu.get(name).at(-1).toFixed(2)} s CPU/GiB`)
          return bytes / seconds / MiB
        } finally {
          await server.close()
        }
      })
      const cpuMedian = (name) => median(cpu.get(name).slice(1))
      for (const name of contenders) log(`  ${name}: ${fmt(throughput.get(name))} MiB/s, ${cpuMedian(name).toFixed(2)} s CPU/GiB`)
      const r = throughput.get(ours) / throughput.get(peer)
      report(`6. On-disk ${label}`, 'ours / @fastify/static throughput', `${ratio(throughput.get(ours), throughput.get(peer))} (${fmt(throughput.get(ours))} vs ${fmt(throughput.get(peer))} MiB/s; server CPU ${cpuMedian(ours).toFixed(2)} vs ${cpuMedian(peer).toFixed(2)} s/GiB)`, '>= 1', r >= 1)
      report(`6. On-disk ${label}`, 'ours / @fastify/static with highWaterMark 64 KiB throughput', `${ratio(throughput.get(ours), throughput.get(peer64k))} (${fmt(throughput.get(peer64k))} MiB/s, ${cpuMedian(peer64k).toFixed(2)} s/GiB)`, 'info', true)
      report(`6. On-disk ${label}`, 'ours / raw node:http throughput', `${ratio(throughput.get(ours), throughput.get(ceiling))} (${fmt(throughput.get(ceiling))} MiB/s, ${cpuMedian(ceiling).toFixed(2)} s/GiB)`, 'info', true)
    }
  } finally {
    cleanup()
    process.off('exit', cleanup).off('SIGINT', interrupted).off('SIGTERM', interrupted)
  }
}

// alone: node benchmarks/disk.js (ROUNDS, SECONDS as for run.js)
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = []
  await diskBenchmark({
    rounds: Number(process.env.ROUNDS ?? 5),
    seconds: Number(process.env.SECONDS ?? 5),
    report: (benchmark, measure, value, target, met) => rows.push(`| ${benchmark} | ${measure} | ${value} | ${target} | ${met ? 'yes' : 'NO'} |`)
  })
  console.log('\n| benchmark | measure | value | target | met |\n| --- | --- | --- | --- | --- |\n' + rows.join('\n'))
}
