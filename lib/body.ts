import type { ServerResponse } from 'node:http'
import { pipeline, Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import { ContentClosed, SizeMismatch } from './errors.js'
import { SizeGuard } from './size-guard.js'

/** The client went away before the download started: nothing to answer, nothing to log. */
export class ClientGone extends Error {}

type Chunk = Buffer | string

function byteLength (chunk: Chunk): number {
  return typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
}

/**
 * Waits for a stream's next chunk (null at its end) without committing anything, so an error
 * before the first byte can still get a proper error response. With `keep`, the chunk stays in the
 * stream, put back before the stream could emit 'end'. Rejects with the stream's error,
 * ContentClosed when it is destroyed without one, or ClientGone when the response closes first
 * (the stream is destroyed then).
 */
export function nextChunk (source: Readable, response: ServerResponse, keep: boolean): Promise<Chunk | null> {
  return new Promise((resolve, reject) => {
    const onReadable = (): void => {
      const chunk = source.read() as Chunk | null
      if (chunk === null) return
      if (keep) source.unshift(chunk)
      settle(() => resolve(chunk))
    }
    const onEnd = (): void => settle(() => resolve(null))
    const onError = (error: Error): void => settle(() => reject(error))
    const onClose = (): void => settle(() => reject(new ContentClosed()))
    const onResponseClose = (): void => settle(() => {
      source.destroy()
      reject(new ClientGone('the client went away'))
    })
    const settle = (then: () => void): void => {
      source.off('readable', onReadable).off('end', onEnd).off('error', onError).off('close', onClose)
      response.off('close', onResponseClose)
      then()
    }
    source.on('readable', onReadable).on('end', onEnd).on('error', onError).on('close', onClose)
    response.on('close', onResponseClose)
  })
}

/** Sends content in memory (bytes, or text Node encodes as UTF-8), with the headers. */
export function sendInMemory (reply: FastifyReply, body: Buffer | string, status: number, headers: Record<string, string>, size: number | undefined): void {
  const length = typeof body === 'string' ? Buffer.byteLength(body) : body.length
  if (size !== undefined && length !== size) throw new SizeMismatch(size, `${length} bytes`)
  reply.code(status).headers(headers).send(body)
}

/**
 * Sends a stream: committed (headers set, piped by Fastify with backpressure) once its first chunk
 * is in hand. Until then, a failure rejects and nothing of the download has been set on the reply.
 */
export async function sendStream (reply: FastifyReply, body: Readable, status: number, headers: Record<string, string>, size: number | undefined): Promise<void> {
  try {
    const first = await nextChunk(body, reply.raw, true)
    if (first === null) {
      if (size !== undefined && size !== 0) throw new SizeMismatch(size, '0 bytes')
      reply.code(status).headers(headers).send(Buffer.alloc(0))
      return
    }
    if (size !== undefined && byteLength(first) >= size) {
      // all the declared bytes are in hand: answer only once the content proves to have ended
      const all = body.read() as Chunk
      if (byteLength(all) > size || await nextChunk(body, reply.raw, false) !== null) {
        throw new SizeMismatch(size, `more than ${size} bytes`)
      }
      reply.code(status).headers(headers).send(typeof all === 'string' ? Buffer.from(all) : all)
      return
    }
  } catch (error) {
    body.destroy()
    throw error
  }
  commit(reply, size === undefined ? body : guard(body, size), status, headers)
}

function guard (source: Readable, size: number): Readable {
  // pipeline destroys the source when the guard is destroyed (client gone) or fails
  return pipeline(source, new SizeGuard(size), () => {})
}

function commit (reply: FastifyReply, payload: Readable, status: number, headers: Record<string, string>): void {
  payload.on('error', (error) => {
    const response = reply.raw
    if (response.headersSent) {
      // Fastify destroys the connection: the client sees a truncated response, never a clean end
      reply.log.error({ err: error }, 'download failed after its first byte; connection closed')
      return
    }
    // nothing was written yet: Fastify's error handler answers, without the download's headers
    for (const name of Object.keys(headers)) {
      reply.removeHeader(name)
      response.removeHeader(name)
    }
  })
  reply.code(status).headers(headers).send(payload)
}

/** A body for HEAD: Fastify's automatic HEAD route keeps Content-Length for a stream payload only. */
export function emptyStream (): Readable {
  return Readable.from([])
}
