// Shared helpers of the benchmarks: servers in child processes, curl downloads, autocannon runs,
// medians. Every load is bounded in count and time; everything listens on 127.0.0.1.
import { execFile, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const here = (file) => fileURLToPath(new URL(file, import.meta.url))

// Servers run on CPU 0, clients on CPU 1 (unless a benchmark says otherwise), so that every
// contender meets the same scheduling: unpinned, loopback throughput on this 2-vCPU machine
// swings by 4x from one download to the next.
export const SERVER_CPU = '0'
export const CLIENT_CPU = '1'
const canPin = (() => {
  try {
    execFileSync('taskset', ['-c', '0', 'true'])
    return true
  } catch {
    return false
  }
})()

/** [command, args] running `command args` on `cpu` when taskset is there. */
export function pinned (cpu, command, args) {
  return canPin ? ['taskset', ['-c', cpu, command, ...args]] : [command, args]
}

/**
 * Starts `benchmarks/servers.js NAME` in its own process (on `cpu`, with `env` added to the
 * environment); resolves with { url, pid, close }.
 */
export async function startServer (name, { cpu = SERVER_CPU, env = {} } = {}) {
  const [command, args] = pinned(cpu, process.execPath, [here('./servers.js'), name])
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } })
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
export async function curlDownload (url, { cpu = CLIENT_CPU, args = [] } = {}) {
  const [command, curlArgs] = pinned(cpu, 'curl', ['-sS', '--max-time', '120', '-o', '/dev/null', '-w', '%{time_total} %{size_download} %{http_code}', ...args, url])
  const { stdout } = await run(command, curlArgs)
  const [seconds, bytes, status] = stdout.trim().split(' ')
  if (status !== '200' && status !== '206') throw new Error(`${url}: HTTP ${status}`)
  return { seconds: Number(seconds), bytes: Number(bytes) }
}

/** Requests per second with autocannon in its own process (10 connections), bounded by `seconds`. */
export async function requestRate (url, { seconds = 5, connections = 10, headers = {} } = {}) {
  const [command, args] = pinned(CLIENT_CPU, process.execPath, [here('./load.js'), url, String(seconds), String(connections), JSON.stringify(headers)])
  const { stdout } = await run(command, args, { timeout: (seconds + 30) * 1000 })
  return Number(stdout)
}

/**
 * Seconds the CSV generator alone takes (iterating, summing lengths), or with `encode` the generator
 * through TextIteratorIO into a sink, in a process on the server CPU.
 */
export async function generatorAlone (encode = false) {
  const [command, args] = pinned(SERVER_CPU, process.execPath, [here('./generator-alone.js')])
  const { stdout } = await run(command, args, { timeout: 60_000, env: { ...process.env, MODE: encode ? 'encode' : 'alone' } })
  return Number(stdout)
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
