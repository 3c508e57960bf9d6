// A harness to run one scenario on every protocol users have (HTTP/1.1, HTTP/1.0, h2c, h2 over
// TLS, and nginx in front of the app) with each real client: startServer() builds the app,
// download() fetches with one client and tells whether that client itself reported a failure,
// openRequest() starts a GET the test cancels when it chooses. Not a test file: its self-test is
// protocols.test.ts.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import * as http2 from 'node:http2'
import { connect as netConnect, createServer as netCreateServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { Agent, fetch as undiciFetch } from 'undici'
import fastifyDownloadView, { type DownloadOptions } from '../lib/index.js'
import type { LogLine } from './helpers.js'

export type ServerKind = 'http1' | 'h2c' | 'h2' | 'nginx'

export interface TestServer {
  /** Typed as the default (HTTP/1) instance whatever the kind, so that tests add routes uniformly. */
  app: FastifyInstance
  /** Every app log line, parsed. */
  logs: LogLine[]
  /** 'http://127.0.0.1:PORT', or 'https://…' for h2; nginx's own address for 'nginx'. */
  base: string
  /** nginx's error log (level info), for debugging; only for 'nginx'. */
  nginxErrors?: () => Promise<string>
  close (): Promise<void>
}

export type ClientKind =
  | 'node-http' // node:http request, agent: false
  | 'fetch' // Node's global fetch (HTTP/1.1)
  | 'curl' // curl -sS --http1.1
  | 'curl-1.0' // curl -0 (HTTP/1.0)
  | 'raw-1.0' // a net socket speaking HTTP/1.0, parsed by hand
  | 'wget' // wget (HTTP/1.1)
  | 'node-http2' // node:http2 connect
  | 'curl-h2c' // curl --http2-prior-knowledge
  | 'curl-h2' // curl --http2 -k over TLS
  | 'undici-h2' // undici's fetch with new Agent({ allowH2: true })

export const CLIENTS: Record<ServerKind, readonly ClientKind[]> = {
  http1: ['node-http', 'fetch', 'curl', 'curl-1.0', 'raw-1.0', 'wget'],
  h2c: ['node-http2', 'curl-h2c'],
  h2: ['node-http2', 'curl-h2', 'undici-h2'],
  nginx: ['curl', 'curl-1.0', 'fetch', 'wget']
}

/**
 * Whether `client` can see a failure after the first byte of a response on `kind` at all. The one
 * blind spot: nginx (default proxy settings) answers an HTTP/1.0 client without chunked coding, so
 * a response without Content-Length ends where the connection ends; when the upstream resets
 * mid-body nginx logs 'readv() failed (104: Connection reset by peer) while reading upstream',
 * drops what it had buffered and closes the client connection with a FIN, not an RST. The HTTP/1.0
 * client gets a shorter body and a clean end. With a Content-Length the short body shows.
 */
export function failureVisible (kind: ServerKind, client: ClientKind, response: { contentLength: boolean }): boolean {
  const http10 = client === 'curl-1.0' || client === 'raw-1.0'
  return !(kind === 'nginx' && http10 && !response.contentLength)
}

export interface ClientResult {
  /** The final response's status; 0 when no status line arrived. */
  status: number
  /** Lower-case names; a repeated header's values joined with ', '. */
  headers: Record<string, string>
  /** Every body byte received, even when failed (curl -I and wget's redirects keep none). */
  body: Buffer
  /** The client itself reported an error: see download(). */
  failed: boolean
  /** Exit code / error code / message, for assertion messages. */
  detail: string
}

export interface DownloadRequestOptions {
  method?: 'GET' | 'HEAD'
  headers?: Record<string, string>
}

/** What openRequest() hands back. */
export interface OpenRequest {
  /** Resolves when the status line and headers / the HEADERS frame arrived; never rejects. */
  response: Promise<void>
  /** Resolves at the first body byte; never rejects. */
  firstData: Promise<void>
  cancel (): void
}

const TIMEOUT = 30_000
const TIMEOUT_SECONDS = String(TIMEOUT / 1000)

// ---------------------------------------------------------------------------------------------
// Per-process temporary files and the children that must not outlive the process

let tempRoot: string | undefined
let hooked = false
const children = new Set<ChildProcess>()

function cleanup (): void {
  for (const child of children) {
    try { child.kill('SIGTERM') } catch {}
  }
  children.clear()
  if (tempRoot !== undefined) rmSync(tempRoot, { recursive: true, force: true })
  tempRoot = undefined
}

function onSignal (signal: NodeJS.Signals): void {
  cleanup()
  // like signal-exit: die of the signal unless someone else handles it
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
}

/** One temporary folder for this process, removed at exit (nginx children are stopped then too). */
function temp (): string {
  if (tempRoot === undefined) tempRoot = mkdtempSync(join(tmpdir(), 'fdv-protocols-'))
  if (!hooked) {
    hooked = true
    process.once('exit', cleanup)
    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
  }
  return tempRoot
}

interface ToolRun { code: number, stdout: string, stderr: string }

/** Runs a command; resolves with its exit code (a kill is reported as 128 + 9/15), rejects when it cannot start. */
function runTool (file: string, args: string[]): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: TIMEOUT + 5_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error === null) {
        resolve({ code: 0, stdout, stderr })
        return
      }
      const failure = error as NodeJS.ErrnoException & { code?: number | string, signal?: NodeJS.Signals | null, killed?: boolean }
      if (typeof failure.code === 'number') {
        resolve({ code: failure.code, stdout, stderr })
      } else if (failure.signal != null) {
        resolve({ code: failure.signal === 'SIGKILL' ? 137 : 143, stdout, stderr: `${stderr}\nkilled by ${failure.signal}${failure.killed === true ? ' (timeout)' : ''}` })
      } else {
        reject(new Error(`cannot run ${file}: ${failure.message}`))
      }
    })
  })
}

// ---------------------------------------------------------------------------------------------
// Servers

let certificate: Promise<{ key: Buffer, cert: Buffer }> | undefined

/** A self-signed EC P-256 certificate for IP 127.0.0.1, made once per process. */
export function selfSignedCertificate (): Promise<{ key: Buffer, cert: Buffer }> {
  certificate ??= (async () => {
    const dir = await mkdtemp(join(temp(), 'tls-'))
    const key = join(dir, 'key.pem')
    const cert = join(dir, 'cert.pem')
    const made = await runTool('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1'
    ])
    if (made.code !== 0) throw new Error(`openssl req failed (exit ${made.code}): ${made.stderr}`)
    return { key: await readFile(key), cert: await readFile(cert) }
  })()
  return certificate
}

function portOf (app: FastifyInstance): number {
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('the app has no TCP address')
  return address.port
}

/**
 * A Fastify app of the given kind on 127.0.0.1: the plugin registered (and awaited) first with
 * `options.plugin`, then `setup` adds routes, then it listens. For 'nginx' the app speaks HTTP/1.1
 * and nginx, with default proxy settings, stands in front of it.
 */
export async function startServer (
  kind: ServerKind,
  setup: (app: FastifyInstance) => void | Promise<void>,
  options: { plugin?: DownloadOptions } = {}
): Promise<TestServer> {
  const logs: LogLine[] = []
  const logger = { level: 'info', stream: { write: (line: string) => { logs.push(JSON.parse(line) as LogLine) } } }
  let app: FastifyInstance
  if (kind === 'h2c') {
    app = Fastify({ http2: true, logger }) as unknown as FastifyInstance
  } else if (kind === 'h2') {
    const { key, cert } = await selfSignedCertificate()
    app = Fastify({ http2: true, https: { key, cert }, logger }) as unknown as FastifyInstance
  } else {
    app = Fastify({ logger })
  }
  try {
    await app.register(fastifyDownloadView, options.plugin ?? {})
    await setup(app)
    await app.listen({ host: '127.0.0.1', port: 0 })
  } catch (error) {
    await app.close()
    throw error
  }
  const port = portOf(app)
  if (kind !== 'nginx') {
    return { app, logs, base: `${kind === 'h2' ? 'https' : 'http'}://127.0.0.1:${port}`, close: async () => { await app.close() } }
  }
  let nginx: Nginx
  try {
    nginx = await startNginx(port)
  } catch (error) {
    await app.close()
    throw error
  }
  return {
    app,
    logs,
    base: nginx.base,
    nginxErrors: nginx.errors,
    close: async () => {
      await nginx.stop()
      await app.close()
    }
  }
}

/** A running nginx, from startNginxWith(). */
export interface NginxProcess {
  /** 'http://127.0.0.1:PORT'. */
  base: string
  port: number
  /** The temporary directory of this nginx: its config, pid, logs and temp paths (see NginxSetup). */
  scratch: string
  /** The error log's content (the file NginxSetup.errorLog names; level info in nginxConfig()). */
  errors: () => Promise<string>
  /** SIGTERM (SIGKILL after 10 s), then waits for the exit; does nothing the second time. */
  stop: () => Promise<void>
}

type Nginx = NginxProcess

/** What a config builder of startNginxWith() is handed: where this nginx is to listen and keep its files. */
export interface NginxSetup {
  /** The port to listen on, 127.0.0.1 (free a moment ago; a lost race is retried with another). */
  port: number
  /** A fresh temporary directory holding the subdirectories client_body, proxy, fastcgi, uwsgi and scgi. */
  scratch: string
  /** The pid file the config must name (`pid …;`): nginx is up once it exists and the port answers. */
  pidFile: string
  /** The error log, also given to nginx as `-e`. */
  errorLog: string
  /** This process runs as root: nginx's workers would run as nobody unless the config says `user root;`. */
  asRoot: boolean
}

export const NGINX = '/usr/sbin/nginx'

/** A port that was free a moment ago (nginx binds it itself; a lost race is retried). */
async function freePort (): Promise<number> {
  const server = netCreateServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

function canConnect (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port })
    socket.once('connect', () => { socket.destroy(); resolve(true) })
    socket.once('error', () => { socket.destroy(); resolve(false) })
  })
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The config startServer('nginx') runs, with `server` lines (inside `server { listen …; … }`) and
 * `http` lines (before the server block) of one's own: in the foreground, one worker (as root when
 * this process is root), pid, error log (level info), access log (scratch/access.log) and every
 * temp path in the scratch directory.
 */
export function nginxConfig (setup: NginxSetup, lines: { http?: readonly string[], server: readonly string[] }): string {
  const { scratch } = setup
  return [
    'daemon off;',
    'master_process on;',
    'worker_processes 1;',
    ...(setup.asRoot ? ['user root;'] : []),
    `pid ${setup.pidFile};`,
    `error_log ${setup.errorLog} info;`,
    'events { worker_connections 256; }',
    'http {',
    `  access_log ${join(scratch, 'access.log')};`,
    `  client_body_temp_path ${join(scratch, 'client_body')};`,
    `  proxy_temp_path ${join(scratch, 'proxy')};`,
    `  fastcgi_temp_path ${join(scratch, 'fastcgi')};`,
    `  uwsgi_temp_path ${join(scratch, 'uwsgi')};`,
    `  scgi_temp_path ${join(scratch, 'scgi')};`,
    ...(lines.http ?? []),
    '  server {',
    `    listen 127.0.0.1:${setup.port};`,
    ...lines.server,
    '  }',
    '}',
    ''
  ].join('\n')
}

async function startNginx (appPort: number): Promise<Nginx> {
  return await startNginxWith((setup) => nginxConfig(setup, { server: [`    location / { proxy_pass http://127.0.0.1:${appPort}; }`] }))
}

/**
 * Starts Debian's nginx with the config `config(setup)` returns (written to scratch/nginx.conf) and
 * waits until it answers (30 s at most); a port lost to another process is retried (5 attempts).
 * `options.prefix` is nginx's `-p` (where relative paths in the config lead), the scratch directory
 * by default. The process is stopped at exit if the test does not stop it.
 */
export async function startNginxWith (config: (setup: NginxSetup) => string, options: { prefix?: string } = {}): Promise<NginxProcess> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} is missing: install Debian's nginx-light (.ci/run does)`)
  const prefix = await mkdtemp(join(temp(), 'nginx-'))
  const errorLog = join(prefix, 'error.log')
  const errors = async (): Promise<string> => await readFile(errorLog, 'utf8').catch(() => '')
  for (const dir of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(join(prefix, dir))
  let lastFailure = ''
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort()
    const pidFile = join(prefix, 'nginx.pid')
    const conf = join(prefix, 'nginx.conf')
    const asRoot = process.getuid?.() === 0
    await writeFile(conf, config({ port, scratch: prefix, pidFile, errorLog, asRoot }))
    const child = spawn(NGINX, ['-p', options.prefix ?? `${prefix}/`, '-c', conf, '-e', errorLog], { stdio: ['ignore', 'ignore', 'pipe'] })
    children.add(child)
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderr += text })
    let exited = false
    const exit = new Promise<void>((resolve) => {
      child.once('exit', () => { exited = true; children.delete(child); resolve() })
      child.once('error', (error) => { stderr += `\n${error.message}`; exited = true; children.delete(child); resolve() })
    })
    // nginx writes its pid file once it has bound its port; then a connection reaches it
    let up = false
    for (let i = 0; i < 3000 && !exited; i++) {
      if (existsSync(pidFile) && await canConnect(port)) { up = true; break }
      await pause(10)
    }
    if (up && !exited) {
      return {
        base: `http://127.0.0.1:${port}`,
        port,
        scratch: prefix,
        errors,
        stop: async () => {
          if (!exited) {
            child.kill('SIGTERM')
            const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
            await exit
            clearTimeout(killer)
          }
          await rm(pidFile, { force: true })
        }
      }
    }
    if (!exited) {
      child.kill('SIGKILL')
      await exit
    }
    lastFailure = `${stderr}\n${await errors()}`
    await rm(pidFile, { force: true })
    if (!/Address already in use/.test(lastFailure)) break
  }
  throw new Error(`nginx did not start: ${lastFailure.trim()}`)
}

/**
 * Breaks a response the way its protocol reports a failure after the first byte: a TCP RST on
 * HTTP/1.x (request.raw.socket.resetAndDestroy()), RST_STREAM INTERNAL_ERROR on HTTP/2.
 */
export function breakResponse (request: FastifyRequest, reply: FastifyReply): void {
  if (request.raw.httpVersionMajor === 2) {
    (reply.raw as unknown as http2.Http2ServerResponse).stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR)
  } else {
    request.raw.socket.resetAndDestroy()
  }
}

// ---------------------------------------------------------------------------------------------
// Clients

function addHeader (headers: Record<string, string>, name: string, value: string): void {
  const key = name.toLowerCase()
  const previous = headers[key]
  headers[key] = previous === undefined ? value : `${previous}, ${value}`
}

interface HeaderBlock { status: number, headers: Record<string, string> }

/** Parses 'HTTP/x.y NNN reason\r\nName: value\r\n…' (curl's -D, wget's -S, a raw response). */
function parseHeaderBlock (text: string): HeaderBlock {
  const lines = text.split(/\r?\n/)
  const match = /^HTTP\/[\d.]+\s+(\d{3})/.exec(lines[0]?.trim() ?? '')
  const headers: Record<string, string> = {}
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':')
    if (colon > 0) addHeader(headers, line.slice(0, colon).trim(), line.slice(colon + 1).trim())
  }
  return { status: match === null ? 0 : Number(match[1]), headers }
}

/** The last response's block in curl's -D file (1xx blocks come first). */
function lastBlock (blocks: string[]): HeaderBlock {
  const last = blocks.filter((block) => /^HTTP\//.test(block)).at(-1)
  return last === undefined ? { status: 0, headers: {} } : parseHeaderBlock(last)
}

function describe (error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as NodeJS.ErrnoException).code
  const cause = (error as { cause?: unknown }).cause
  let text = `${error.name}${code === undefined ? '' : ` ${code}`}: ${error.message}`
  if (cause !== undefined) text += ` (cause: ${describe(cause)})`
  return text
}

async function readOr (file: string): Promise<Buffer> {
  return await readFile(file).catch(() => Buffer.alloc(0))
}

async function withTempDir<T> (use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(temp(), 'client-'))
  try {
    return await use(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function curl (client: 'curl' | 'curl-1.0' | 'curl-h2c' | 'curl-h2', url: string, method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<ClientResult> {
  return withTempDir(async (dir) => {
    const headerFile = join(dir, 'headers')
    const bodyFile = join(dir, 'body')
    const args = ['-sS', '--max-time', TIMEOUT_SECONDS, '-D', headerFile, '-o', bodyFile]
    if (client === 'curl') args.push('--http1.1')
    if (client === 'curl-1.0') args.push('-0')
    if (client === 'curl-h2c') args.push('--http2-prior-knowledge')
    if (client === 'curl-h2') args.push('--http2', '-k')
    if (method === 'HEAD') args.push('-I')
    for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`)
    args.push(url)
    const run = await runTool('curl', args)
    const { status, headers: received } = lastBlock((await readOr(headerFile)).toString('latin1').split(/\r?\n\r?\n/))
    // with -I curl writes the headers to -o as well: a HEAD has no body
    const body = method === 'HEAD' ? Buffer.alloc(0) : await readOr(bodyFile)
    return { status, headers: received, body, failed: run.code !== 0, detail: `curl exit ${run.code}${run.stderr.trim() === '' ? '' : `: ${run.stderr.trim()}`}` }
  })
}

const WGET_EXIT: Record<number, string> = {
  1: 'generic error',
  2: 'parse error',
  3: 'file I/O error',
  4: 'network failure',
  5: 'SSL verification failure',
  6: 'authentication failure',
  7: 'protocol error',
  8: 'server issued an error response'
}

function wget (url: string, method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<ClientResult> {
  return withTempDir(async (dir) => {
    const bodyFile = join(dir, 'body')
    // verbose (not -nv), so that a 'Read error at byte N' is printed
    const args = ['--no-config', '--server-response', '--progress=dot:mega', '--tries=1', `--timeout=${TIMEOUT_SECONDS}`,
      '--max-redirect=0', '--no-check-certificate', '-O', bodyFile]
    // with --content-on-error, wget 1.21 reads a 304 (which has no body) until the connection closes
    const conditional = Object.keys(headers).some((name) => /^if-(none-match|modified-since)$/i.test(name))
    if (!conditional) args.push('--content-on-error')
    if (method === 'HEAD') args.push('--method=HEAD')
    for (const [name, value] of Object.entries(headers)) args.push(`--header=${name}: ${value}`)
    args.push(url)
    const run = await runTool('wget', args)
    if (method === 'HEAD' && /unrecognized option|unknown option|invalid option/i.test(run.stderr)) {
      throw new Error(`this wget cannot send HEAD (no --method): ${run.stderr.trim()}`)
    }
    // --server-response prints each response's status line and headers, indented by two spaces
    const blocks: string[] = []
    let inBlock = false
    for (const line of run.stderr.split(/\r?\n/)) {
      if (/^ {2}HTTP\//.test(line)) {
        blocks.push(line.trim())
        inBlock = true
      } else if (inBlock && /^ {2}\S/.test(line)) {
        blocks[blocks.length - 1] += `\n${line.trim()}`
      } else {
        inBlock = false
      }
    }
    const { status, headers: received } = lastBlock(blocks)
    // exit 8 is 'the server issued an error response' (a 4xx, a 5xx, or a redirect not followed):
    // the exchange itself went well unless wget also reports a read error
    const readError = /read error/i.test(run.stderr)
    const failed = run.code !== 0 && !(run.code === 8 && status >= 300 && !readError)
    const said = run.stderr.split(/\r?\n/).filter((line) => /error|giving up|exceeded|unable|failed/i.test(line)).map((line) => line.trim())
    return {
      status,
      headers: received,
      body: await readOr(bodyFile),
      failed,
      detail: `wget exit ${run.code}${run.code === 0 ? '' : ` (${WGET_EXIT[run.code] ?? 'unknown'})`}${said.length === 0 ? '' : `: ${said.join(' | ')}`}`
    }
  })
}

function nodeHttp (url: string, method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<ClientResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let status = 0
    const received: Record<string, string> = {}
    let done = false
    const finish = (failed: boolean, detail: string): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve({ status, headers: received, body: Buffer.concat(chunks), failed, detail })
    }
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      status = res.statusCode ?? 0
      for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) addHeader(received, res.rawHeaders[i] as string, res.rawHeaders[i + 1] as string)
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => finish(!res.complete, res.complete ? 'end' : 'end before the message was complete'))
      res.on('error', (error) => finish(true, describe(error)))
      // a 'close' without 'end' is what stream.finished() calls a premature close
      res.on('close', () => finish(true, 'response closed before its end (premature close)'))
    })
    req.on('error', (error) => finish(true, describe(error)))
    const timer = setTimeout(() => req.destroy(new Error(`no complete response in ${TIMEOUT_SECONDS} s`)), TIMEOUT)
    req.end()
  })
}

interface FetchResponseLike {
  status: number
  headers: { forEach (callback: (value: string, name: string) => void): void }
  body: { getReader (): { read (): Promise<{ done: boolean, value?: Uint8Array }> } } | null
}

async function readFetch (start: () => Promise<FetchResponseLike>, cleanupAfter?: () => Promise<void>): Promise<ClientResult> {
  const chunks: Buffer[] = []
  let status = 0
  const received: Record<string, string> = {}
  try {
    const response = await start()
    status = response.status
    // Headers.forEach gives combined values, and set-cookie once per value
    response.headers.forEach((value, name) => addHeader(received, name, value))
    if (response.body !== null) {
      const reader = response.body.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        if (value !== undefined) chunks.push(Buffer.from(value))
      }
    }
    return { status, headers: received, body: Buffer.concat(chunks), failed: false, detail: 'body read to its end' }
  } catch (error) {
    return { status, headers: received, body: Buffer.concat(chunks), failed: true, detail: describe(error) }
  } finally {
    await cleanupAfter?.()
  }
}

function nodeFetch (url: string, method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<ClientResult> {
  return readFetch(() => fetch(url, { method, headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT) }))
}

function undiciH2 (url: string, method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<ClientResult> {
  const dispatcher = new Agent({ allowH2: true, connect: { rejectUnauthorized: false } })
  return readFetch(
    () => undiciFetch(url, { method, headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT), dispatcher }),
    async () => { await dispatcher.destroy() }
  )
}

function nodeHttp2 (url: string, method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<ClientResult> {
  return new Promise((resolve) => {
    const target = new URL(url)
    const chunks: Buffer[] = []
    let status = 0
    const received: Record<string, string> = {}
    let done = false
    let ended = false
    let errorDetail: string | undefined
    const session = http2.connect(target.origin, { rejectUnauthorized: false })
    const finish = (failed: boolean, detail: string): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      session.close()
      resolve({ status, headers: received, body: Buffer.concat(chunks), failed, detail })
    }
    session.on('error', (error) => finish(true, `session error: ${describe(error)}`))
    const req = session.request({ ':method': method, ':path': `${target.pathname}${target.search}`, ...headers }, { endStream: true })
    req.on('response', (responseHeaders) => {
      status = Number(responseHeaders[':status'] ?? 0)
      for (const [name, value] of Object.entries(responseHeaders)) {
        if (name.startsWith(':') || value === undefined) continue
        addHeader(received, name, Array.isArray(value) ? value.join(', ') : String(value))
      }
    })
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => { ended = true })
    req.on('error', (error) => { errorDetail = describe(error) })
    req.on('close', () => {
      const code = req.rstCode ?? http2.constants.NGHTTP2_NO_ERROR
      if (errorDetail !== undefined) finish(true, `${errorDetail} (rstCode ${code})`)
      else if (code !== http2.constants.NGHTTP2_NO_ERROR) finish(true, `RST_STREAM code ${code}`)
      else if (!ended) finish(true, 'stream closed before its end (premature close)')
      else finish(false, 'end')
    })
    const timer = setTimeout(() => {
      req.close(http2.constants.NGHTTP2_CANCEL)
      session.destroy()
      finish(true, `no complete response in ${TIMEOUT_SECONDS} s`)
    }, TIMEOUT)
  })
}

function raw10 (url: string, method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<ClientResult> {
  const target = new URL(url)
  if (target.protocol !== 'http:') throw new Error(`raw-1.0 speaks cleartext HTTP only, not ${url}`)
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let socketError: Error | undefined
    let probing = false
    // allowHalfOpen: the socket stays writable after the server's end, for the probe below
    const socket = netConnect({ host: target.hostname, port: Number(target.port === '' ? 80 : target.port), allowHalfOpen: true })
    const timer = setTimeout(() => socket.destroy(new Error(`no complete response in ${TIMEOUT_SECONDS} s`)), TIMEOUT)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', (error) => { socketError = error })
    // libuv reports an RST that arrives in the same poll wakeup as the last data as a plain end
    // (uv__stream_io's POLLHUP short cut), which is what happens when the server runs in this
    // process. The kernel still knows: after a FIN the socket is in CLOSE_WAIT and a write
    // succeeds; after an RST it is closed and a write fails with ECONNRESET or EPIPE. A bare CRLF
    // is what a server tolerates between requests (RFC 9112, 2.2).
    socket.on('end', () => {
      probing = true
      socket.write('\r\n', (error) => { if (error == null) socket.destroy() })
    })
    socket.on('close', () => {
      clearTimeout(timer)
      const all = Buffer.concat(chunks)
      const end = all.indexOf('\r\n\r\n')
      if (end < 0) {
        resolve({ status: 0, headers: {}, body: Buffer.alloc(0), failed: true, detail: socketError === undefined ? 'closed before the end of the headers' : describe(socketError) })
        return
      }
      const { status, headers: received } = parseHeaderBlock(all.subarray(0, end).toString('latin1'))
      const body = all.subarray(end + 4)
      const declared = received['content-length']
      const bodyless = method === 'HEAD' || status === 204 || status === 304 || (status >= 100 && status < 200)
      let failed = false
      let detail = 'closed after the body'
      if (socketError !== undefined) {
        failed = true
        detail = probing ? `reset: a write after the end failed with ${describe(socketError)}` : describe(socketError)
      } else if (!bodyless && declared !== undefined && body.length < Number(declared)) {
        failed = true
        detail = `body of ${body.length} bytes, shorter than its Content-Length ${declared}`
      }
      if (received['transfer-encoding'] !== undefined) detail += `; note: Transfer-Encoding ${received['transfer-encoding']} sent to an HTTP/1.0 client (body left as received)`
      resolve({ status, headers: received, body, failed, detail })
    })
    const lines = [`${method} ${target.pathname}${target.search} HTTP/1.0`, `Host: ${target.host}`]
    for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`)
    socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  })
}

/**
 * One request with one real client. `failed` is the client's own verdict:
 * - curl: a non-zero exit (56: connection reset, 18: partial body, 92: HTTP/2 stream not closed cleanly, 28: timeout);
 * - wget: a non-zero exit, except 8 (an error status, not a transport failure) without a read error;
 * - node-http: 'error' on the request or the response, a 'close' before 'end', or an incomplete message;
 * - fetch / undici-h2: fetch() or a body read rejected;
 * - node-http2: an 'error' event, RST_STREAM with a code other than NO_ERROR, or a 'close' before 'end';
 * - raw-1.0: the socket reset (ECONNRESET, or EPIPE/ECONNRESET on a CRLF written after what libuv
 *   reported as the end) or a body shorter than its Content-Length.
 * No client follows redirects; each gives up after 30 s (failed). Node's own clients run in the test
 * process, where libuv can report a reset that arrives with the last data as a clean end: node-http
 * and fetch still fail a chunked or Content-Length body cut short, but could not tell a reset from
 * a FIN on a body delimited by the connection's close (raw-1.0 probes for it, see raw10()).
 */
export async function download (client: ClientKind, url: string, options: DownloadRequestOptions = {}): Promise<ClientResult> {
  const method = options.method ?? 'GET'
  const headers = options.headers ?? {}
  switch (client) {
    case 'node-http': return await nodeHttp(url, method, headers)
    case 'fetch': return await nodeFetch(url, method, headers)
    case 'curl':
    case 'curl-1.0':
    case 'curl-h2c':
    case 'curl-h2': return await curl(client, url, method, headers)
    case 'raw-1.0': return await raw10(url, method, headers)
    case 'wget': return await wget(url, method, headers)
    case 'node-http2': return await nodeHttp2(url, method, headers)
    case 'undici-h2': return await undiciH2(url, method, headers)
    default: throw new Error(`unknown client ${String(client)}`)
  }
}

// ---------------------------------------------------------------------------------------------
// A request the test cancels

function deferred (): { promise: Promise<void>, resolve: () => void } {
  let resolve: () => void = () => {}
  const promise = new Promise<void>((_resolve) => { resolve = _resolve })
  return { promise, resolve }
}

/**
 * Starts a GET and lets the test cancel it when it chooses. http1 / nginx: a raw net socket
 * speaking HTTP/1.1 (cancel = socket.destroy()); h2c / h2: node:http2 (cancel = RST_STREAM CANCEL,
 * then the session closes). A request still open after 30 s cancels itself.
 */
export function openRequest (kind: ServerKind, url: string, headers: Record<string, string> = {}): OpenRequest {
  const target = new URL(url)
  const response = deferred()
  const firstData = deferred()
  let cancel: () => void
  if (kind === 'h2c' || kind === 'h2') {
    const session = http2.connect(target.origin, { rejectUnauthorized: false })
    session.on('error', () => {})
    const req = session.request({ ...headers, ':path': `${target.pathname}${target.search}` }, { endStream: true })
    req.on('error', () => {})
    req.on('response', () => response.resolve())
    req.on('data', () => firstData.resolve())
    cancel = () => {
      if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL)
      session.close()
    }
  } else {
    const socket: Socket = netConnect({ host: target.hostname, port: Number(target.port === '' ? 80 : target.port) })
    socket.on('error', () => {})
    let head = Buffer.alloc(0)
    let inBody = false
    socket.on('data', (chunk: Buffer) => {
      if (inBody) {
        firstData.resolve()
        return
      }
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end < 0) return
      inBody = true
      response.resolve()
      if (head.length > end + 4) firstData.resolve()
    })
    const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`).join('')
    socket.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\nHost: ${target.host}\r\n${extra}\r\n`)
    cancel = () => { socket.destroy() }
  }
  const safety = setTimeout(cancel, TIMEOUT)
  safety.unref()
  return {
    response: response.promise,
    firstData: firstData.promise,
    cancel: () => {
      clearTimeout(safety)
      cancel()
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A download the test watches and steers while it runs

/** What streamDownload() hands back. */
export interface StreamingDownload {
  /** Resolves when the status line and headers / the HEADERS frame arrived, or the request ended; never rejects. */
  response: Promise<void>
  /** Resolves at the first body byte, or when the request ended without one; never rejects. */
  firstData: Promise<void>
  /** Body bytes received so far. */
  received (): number
  /** Stops reading the body (backpressure reaches the server); resume() reads on. */
  pause (): void
  resume (): void
  /** Goes away: the socket destroyed (HTTP/1.1), RST_STREAM CANCEL (HTTP/2). */
  cancel (): void
  /** The whole exchange, with the client's verdict as download()'s node-http / node-http2 give it. */
  result: Promise<ClientResult>
}

/**
 * A GET (or HEAD) whose progress the test follows: the moment the headers and the first byte
 * arrive, the bytes received so far, pause/resume of the reading, cancellation; `result` settles
 * like download() with 'node-http' (http1, nginx; agent: false) or 'node-http2' (h2c, h2). A
 * request still open after 30 s fails itself.
 */
export function streamDownload (kind: ServerKind, url: string, options: DownloadRequestOptions = {}): StreamingDownload {
  const method = options.method ?? 'GET'
  const headers = options.headers ?? {}
  const response = deferred()
  const firstData = deferred()
  const chunks: Buffer[] = []
  let bytes = 0
  let status = 0
  const received: Record<string, string> = {}
  let resolveResult: (result: ClientResult) => void = () => {}
  const result = new Promise<ClientResult>((resolve) => { resolveResult = resolve })
  let done = false
  let timer: NodeJS.Timeout | undefined
  let closeClient: () => void = () => {}
  const finish = (failed: boolean, detail: string): void => {
    if (done) return
    done = true
    clearTimeout(timer)
    response.resolve()
    firstData.resolve()
    closeClient()
    resolveResult({ status, headers: received, body: Buffer.concat(chunks), failed, detail })
  }
  const onData = (chunk: Buffer): void => {
    chunks.push(chunk)
    bytes += chunk.length
    firstData.resolve()
  }
  let pause: () => void
  let resume: () => void
  let cancel: () => void
  if (kind === 'h2c' || kind === 'h2') {
    const target = new URL(url)
    const session = http2.connect(target.origin, { rejectUnauthorized: false })
    closeClient = () => { session.close() }
    let ended = false
    let errorDetail: string | undefined
    session.on('error', (error) => finish(true, `session error: ${describe(error)}`))
    const req = session.request({ ':method': method, ':path': `${target.pathname}${target.search}`, ...headers }, { endStream: true })
    req.on('response', (responseHeaders) => {
      status = Number(responseHeaders[':status'] ?? 0)
      for (const [name, value] of Object.entries(responseHeaders)) {
        if (name.startsWith(':') || value === undefined) continue
        addHeader(received, name, Array.isArray(value) ? value.join(', ') : String(value))
      }
      response.resolve()
    })
    req.on('data', onData)
    req.on('end', () => { ended = true })
    req.on('error', (error) => { errorDetail = describe(error) })
    req.on('close', () => {
      const code = req.rstCode ?? http2.constants.NGHTTP2_NO_ERROR
      if (errorDetail !== undefined) finish(true, `${errorDetail} (rstCode ${code})`)
      else if (code !== http2.constants.NGHTTP2_NO_ERROR) finish(true, `RST_STREAM code ${code}`)
      else if (!ended) finish(true, 'stream closed before its end (premature close)')
      else finish(false, 'end')
    })
    pause = () => { req.pause() }
    resume = () => { req.resume() }
    cancel = () => {
      if (!req.closed) req.close(http2.constants.NGHTTP2_CANCEL)
      session.close()
    }
  } else {
    let res: import('node:http').IncomingMessage | undefined
    let paused = false
    const req = httpRequest(url, { method, headers, agent: false }, (incoming) => {
      res = incoming
      status = incoming.statusCode ?? 0
      for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) addHeader(received, incoming.rawHeaders[i] as string, incoming.rawHeaders[i + 1] as string)
      incoming.on('data', onData)
      if (paused) incoming.pause()
      incoming.on('end', () => finish(!incoming.complete, incoming.complete ? 'end' : 'end before the message was complete'))
      incoming.on('error', (error) => finish(true, describe(error)))
      incoming.on('close', () => finish(true, 'response closed before its end (premature close)'))
      response.resolve()
    })
    req.on('error', (error) => finish(true, describe(error)))
    req.end()
    pause = () => {
      paused = true
      res?.pause()
    }
    resume = () => {
      paused = false
      res?.resume()
    }
    cancel = () => { req.destroy() }
  }
  timer = setTimeout(() => {
    cancel()
    finish(true, `no complete response in ${TIMEOUT_SECONDS} s`)
  }, TIMEOUT)
  return {
    response: response.promise,
    firstData: firstData.promise,
    received: () => bytes,
    pause,
    resume,
    cancel: () => {
      cancel()
      finish(true, 'cancelled by the test')
    },
    result
  }
}
