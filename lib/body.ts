import { pipeline, Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import type { Download } from './download.js'
import { ContentClosed, SizeMismatch } from './errors.js'
import { SizeGuard } from './size-guard.js'

type Chunk = Buffer | string

function byteLength (chunk: Chunk): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
}

interface FirstData {
  /** Everything the content had buffered when its first chunk arrived; null for an empty content. */
  readonly data: Chunk | null
  /** The content had ended by then: the whole of it is in `data`. */
  readonly ended: boolean
}

/* c8 ignore start -- runs on Node 26 and later (see firstData) */
/**
 * `first`, and the chunks buffered after it, `buffered` bytes in all, joined: each taken with
 * read() (read(n) would leave an ended stream's 'end' unscheduled), and no more than was buffered
 * (a source may push again within a read()).
 */
function readBuffered (source: Readable, first: Buffer, buffered: number): Buffer {
  const chunks = [first]
  let taken = first.length
  while (taken < buffered) {
    const chunk = source.read() as Buffer | null
    if (chunk === null) break
    chunks.push(chunk)
    taken += chunk.length
  }
  return Buffer.concat(chunks, taken)
}
/* c8 ignore stop */

/**
 * Waits for a stream's first chunk without committing anything, so an error before the first byte
 * still gets a proper error response. Takes what is buffered, and tells whether the content had
 * already ended by then (Readable schedules its 'end' on the same tick), so a content shorter or
 * longer than declared is known before any header goes out. Rejects with the stream's error, or
 * ContentClosed when it is destroyed without one (the download's owner destroys it when the
 * client goes away).
 */
function firstData (source: Readable): Promise<FirstData> {
  return new Promise((resolve, reject) => {
    let data: Chunk | null = null
    const onReadable = (): void => {
      const buffered = source.readableLength
      data = source.read() as Chunk | null
      if (data === null) return
      // everything buffered: a byte stream's read() returns it all up to Node 24, only its first
      // chunk from Node 26, which the rest then follows (test/http.test.ts, /short-buffered)
      /* c8 ignore next 3 -- runs on Node 26 and later; the coverage gate runs on Node 20 */
      if (Buffer.isBuffer(data) && !source.readableObjectMode && data.length < buffered) {
        data = readBuffered(source, data, buffered)
      }
      source.off('readable', onReadable)
      process.nextTick(() => settle(() => resolve({ data, ended: source.readableEnded })))
    }
    const onEnd = (): void => settle(() => resolve({ data, ended: true }))
    const onError = (error: Error): void => settle(() => reject(error))
    const onClose = (): void => settle(() => reject(source.errored ?? new ContentClosed()))
    let settled = false
    const settle = (then: () => void): void => {
      if (settled) return
      settled = true
      source.off('readable', onReadable).off('end', onEnd).off('error', onError).off('close', onClose)
      then()
    }
    source.on('readable', onReadable).on('end', onEnd).on('error', onError).on('close', onClose)
  })
}

/**
 * The Fastify reply for a download: status, headers, payload; nothing when the reply already went
 * out (Download.answering() says so). A reply with trailers goes chunked (Fastify sets
 * Transfer-Encoding on HTTP/1.1), and a message must not carry both that and a Content-Length
 * (RFC 9112 §6.2).
 */
function answer (download: Download, status: number, headers: Record<string, string>, payload: Buffer | string | Readable): void {
  if (download.answering()) send(download.reply, status, headers, payload)
}

function send (reply: FastifyReply, status: number, headers: Record<string, string>, payload: Buffer | string | Readable): void {
  if (hasTrailers(reply)) delete headers['content-length']
  reply.code(status).headers(headers).send(payload)
}

// Fastify keeps a reply's trailers under a symbol of its own and offers no way to list them.
let kTrailers: symbol | undefined
function hasTrailers (reply: FastifyReply): boolean {
  kTrailers ??= Object.getOwnPropertySymbols(reply).find((symbol) => symbol.description === 'fastify.reply.trailers')
  return kTrailers !== undefined && (reply as unknown as Record<symbol, unknown>)[kTrailers] != null
}

/** Sends content in memory (bytes, or text Node encodes as UTF-8), with the headers. */
export function sendInMemory (download: Download, body: Buffer | string, status: number, headers: Record<string, string>, size: number | undefined): void {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length
  if (size !== undefined && length !== size) throw new SizeMismatch(size, `${length} bytes`)
  answer(download, status, headers, body)
}

/**
 * A response without a body (HEAD, 304, 412, 416, an offloaded file): the file is closed, never
 * streamed. `unsized`: no Content-Length at all (an offloaded answer: the proxy sends the length).
 */
export function sendNoBody (download: Download, status: number, headers: Record<string, string>, unsized = false): void {
  download.closeFile()
  // an empty stream: Fastify would otherwise set Content-Length: 0, or, on its automatic HEAD
  // route, overwrite the download's Content-Length. Unsized, Node is told so (removing the header
  // is how): it frames the empty body as chunked instead of adding `Content-Length: 0` itself
  if (unsized) download.reply.raw.removeHeader('content-length')
  if (unsized || download.reply.request.method === 'HEAD') answer(download, status, headers, Readable.from([]))
  else if (download.answering()) download.reply.code(status).headers(headers).send()
}

/**
 * Sends a stream: committed (headers set, piped by Fastify with backpressure) once its first chunk
 * is in hand. Until then, a failure rejects and nothing of the download has been set on the reply;
 * content that had ended by then is answered like content in memory.
 */
export async function sendStream (download: Download, body: Readable, status: number, headers: Record<string, string>, size: number | undefined): Promise<void> {
  download.watch(body)
  const { data, ended } = await firstData(body)
  if (ended || data === null) {
    // the whole content is in hand; without a declared size it still goes without Content-Length
    if (size !== undefined || data === null) return sendInMemory(download, data ?? Buffer.alloc(0), status, headers, size)
    return answer(download, status, headers, Readable.from([data], { objectMode: false }))
  }
  if (size !== undefined && byteLength(data) >= size) {
    // all the declared bytes are in hand: answer only once the content proves to have ended
    if (byteLength(data) > size || (await firstData(body)).data !== null) throw new SizeMismatch(size, `more than ${size} bytes`)
    return sendInMemory(download, data, status, headers, size)
  }
  // failed or destroyed between the first chunk and now: still nothing committed
  if (body.destroyed) throw body.errored ?? new ContentClosed()
  if (!download.answering()) return
  body.unshift(data)
  const payload = size === undefined ? body : guard(body, size)
  download.commit(payload, headers)
  send(download.reply, status, headers, payload)
}

function guard (source: Readable, size: number): Readable {
  // pipeline destroys the source when the guard is destroyed (client gone) or fails
  return pipeline(source, new SizeGuard(size), () => {})
}
