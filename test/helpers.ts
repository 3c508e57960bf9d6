import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import Fastify, { type FastifyInstance } from 'fastify'
import fastifyDownloadView, { type DownloadOptions } from '../lib/index.js'

export interface LogLine {
  level: number
  msg: string
  reqId?: string
  err?: { message: string, code?: string }
}

export const ERROR = 50

/** A Fastify app with the plugin registered and every log line captured. */
export async function build (options: DownloadOptions = {}): Promise<{ app: FastifyInstance, logs: LogLine[] }> {
  const logs: LogLine[] = []
  const app = Fastify({
    logger: { level: 'info', stream: { write: (line: string) => { logs.push(JSON.parse(line) as LogLine) } } }
  })
  await app.register(fastifyDownloadView, options)
  return { app, logs }
}

/** Listens on 127.0.0.1, an ephemeral port; returns the base URL. */
export async function listen (app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return `http://127.0.0.1:${address.port}`
}

export interface RawResponse {
  status: number
  headers: IncomingHttpHeaders
  body: Buffer
  /** Set when the response did not end cleanly (the connection was cut). */
  error?: Error
}

/** A real HTTP request with node:http; a truncated response resolves with `error` set. */
export function get (url: string, options: { method?: string, headers?: Record<string, string> } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // before the response, a request error rejects; after it, it is the response's failure
    let fail: (error: Error) => void = reject
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      const done = (error?: Error): void => {
        const response: RawResponse = { status: res.statusCode as number, headers: res.headers, body: Buffer.concat(chunks) }
        if (error !== undefined) response.error = error
        resolve(response)
      }
      fail = done
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => done())
      res.on('error', done)
    })
    req.on('error', (error) => fail(error))
    req.end()
  })
}

/** Resolves once `check` holds, polling on the event loop; fails after `tries` polls. */
export async function eventually (check: () => boolean, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (check()) return
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error('condition never held')
}

/** Resolves once `read()` stops changing for `quiet` polls in a row, with its last value. */
export async function settled (read: () => number, quiet = 20, tries = 1000): Promise<number> {
  let last = read()
  let same = 0
  for (let i = 0; i < tries && same < quiet; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10))
    const now = read()
    same = now === last ? same + 1 : 0
    last = now
  }
  return last
}

/** Bytes that differ at every offset (a truncated or reordered body cannot pass for the good one). */
export function pattern (size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size)
  let x = seed
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    bytes[i] = x >>> 24
  }
  return bytes
}
