// Shared helpers of the benchmarks: servers in child processes, curl downloads, autocannon runs,
// medians. Every load is bounded in count and time; everything listens on 127.0.0.1.
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import autocannon from 'autocannon'

const run = promisify(execFile)
const SERVERS = fileURLToPath(new URL('./servers.js', import.meta.url))

/** Starts `benchmarks/servers.js NAME` in its own process; resolves with { url, close }. */
export async function startServer (name) {
  const child = spawn(process.execPath, [SERVERS, name], { stdio: ['ignore', 'pipe', 'inherit'] })
  let output = ''
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 20 s`)), 20_000)
    child.stdout.on('data', (data) => {
      output += data
      const line = output.split('\n')[0]
      if (output.includes('\n')) {
        clearTimeout(timer)
        resolve(line)
      }
    })
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}`)))
  })
  return {
    name,
    url,
    pid: child.pid,
    async close () {
      child.kill('SIGTERM')
      if (child.exitCode === null) await once(child, 'exit')
    }
  }
}

/** Downloads url with curl to /dev/null; resolves with { seconds, bytes }. */
export async function curlDownload (url, args = []) {
  const { stdout } = await run('curl', ['-sS', '--max-time', '120', '-o', '/dev/null', '-w', '%{time_total} %{size_download} %{http_code}', ...args, url])
  const [seconds, bytes, status] = stdout.trim().split(' ')
  if (status !== '200' && status !== '206') throw new Error(`${url}: HTTP ${status}`)
  return { seconds: Number(seconds), bytes: Number(bytes) }
}

/** Requests per second with autocannon (10 connections unless told), bounded by `seconds`. */
export async function requestRate (url, { seconds = 5, connections = 10, headers = {} } = {}) {
  const result = await autocannon({ url, connections, duration: seconds, headers })
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  return result.requests.average
}

export function median (values) {
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/**
 * Runs `measure(contender)` for every contender, alternating, `rounds` times after one warm-up
 * round; returns the median per contender.
 */
export async function alternate (contenders, rounds, measure) {
  const samples = new Map(contenders.map((contender) => [contender, []]))
  for (let round = 0; round <= rounds; round++) {
    for (const contender of contenders) {
      const value = await measure(contender)
      if (round > 0) samples.get(contender).push(value)
    }
  }
  return new Map([...samples].map(([contender, values]) => [contender, median(values)]))
}
