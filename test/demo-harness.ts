// Shared by the demo's tests (demo.test.ts with curl, demo-browser.test.ts with Chromium): the demo
// started as a user starts it, and what its index page says. Not a test file itself (.taprc runs
// test/**/*.test.ts).
import type { Test } from 'tap'
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
const STARTUP_TIMEOUT = 20_000

/** Rejects after `ms` (and never leaves a timer behind). */
export async function withTimeout<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export interface Demo {
  url: string
  child: ChildProcessByStdio<null, Readable, Readable>
  /** Everything the demo wrote to stdout. */
  stdout: () => string
  stderr: () => string
}

/**
 * Starts `node example/server.js` on a free port and waits for the line that gives its URL; `extra`
 * is more environment, e.g. { OFFLOAD: 'nginx' }.
 */
export async function startDemo (t: Test, extra: Record<string, string> = {}): Promise<Demo> {
  const env: NodeJS.ProcessEnv = { ...process.env, HOST: '127.0.0.1', PORT: '0', ...extra }
  // OFFLOAD only when the test asks for it
  if (extra.OFFLOAD === undefined) delete env.OFFLOAD
  // tap's loaders and coverage stay out of the demo: it runs as `node` would run it
  for (const key of Object.keys(env)) {
    if (key === 'NODE_OPTIONS' || key === 'NODE_V8_COVERAGE' || key.startsWith('TAP') || key.startsWith('_TAPJS')) delete env[key]
  }
  const child = spawn(process.execPath, ['example/server.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-20_000) })
  const lines = createInterface({ input: child.stdout })
  const listening = withTimeout(new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      stdout += line + '\n'
      const match = /^fastify-downloadview demo listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)
      if (match?.[1] !== undefined) resolve(match[1])
      else reject(new Error(`unexpected line on stdout: ${line}`))
    })
    child.once('error', reject)
    child.once('exit', (code, signal) => reject(new Error(`the demo exited (${code ?? signal}) before listening:\n${stderr}`)))
  }), STARTUP_TIMEOUT, 'the demo did not print its URL')
  // never leave the child behind, even when the test stops here
  const kill = () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') }
  process.once('exit', kill)
  t.teardown(kill)
  const url = await listening.catch((error: unknown) => {
    kill()
    throw error
  })
  return { url, child, stdout: () => stdout, stderr: () => stderr }
}

/** The demo's resumable file: 1 MiB from the same linear congruential generator. */
export function resumableBytes (): Buffer {
  const bytes = Buffer.alloc(1024 * 1024)
  let x = 1
  for (let i = 0; i < bytes.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    bytes[i] = x >>> 24
  }
  return bytes
}

/**
 * The text of an HTML fragment: tags dropped, character references decoded (the demo escapes with
 * decimal references only, e.g. &#60; for <).
 */
export function htmlText (html: string): string {
  return html.replace(/<[^>]*>/g, '').replace(/&#(\d+);/g, (_reference, code: string) => String.fromCodePoint(Number(code)))
}

/** The index page's list item of the link to `href`, as HTML (what follows the link). */
export function describedAs (html: string, href: string): string {
  const items = [...html.matchAll(/<li><a href="([^"]*)">.*?<\/a>:?(.*?)<\/li>/g)]
  const item = items.find((match) => htmlText(match[1] ?? '') === href)
  if (item === undefined) throw new Error(`no list item links to ${href}`)
  return item[2] ?? ''
}
