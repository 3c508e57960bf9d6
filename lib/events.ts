// Delivery events: once a response to a file is over, what was delivered, not what was asked. One
// event per response, on the `fastify-downloadview:download` diagnostics channel (when it has
// subscribers) and to the onDownloadEnd option in force. Nothing of it is made when no one listens.
import diagnosticsChannel from 'node:diagnostics_channel'
import { constants as http2, type ServerHttp2Stream } from 'node:http2'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Decision } from './http/decide.js'
import { safeBasename } from './http/content-disposition.js'
import type { FileMetadata } from './metadata.js'
import type { ByteRange } from './types.js'

export const DOWNLOAD_CHANNEL = 'fastify-downloadview:download'
const channel = diagnosticsChannel.channel(DOWNLOAD_CHANNEL)

/** What one response to a file delivered. */
export interface DownloadEvent {
  request: FastifyRequest
  /** The cleaned basename Content-Disposition carries, if any. */
  name: string | undefined
  /** The whole file's size, when known. */
  size: number | undefined
  /** 200, 206, 304, 412, 416, or the error response's status. */
  status: number
  /** The ranges a 206 sent. */
  ranges: ByteRange[] | undefined
  /** Body bytes of the download handed to the connection. */
  bytesSent: number
  /**
   * complete: the response finished (on HTTP/2, its stream closed with NO_ERROR); aborted: the
   * client went away first; error: the download failed, before its first byte or after it.
   */
  outcome: 'complete' | 'aborted' | 'error'
  /** For 'error'. */
  error: Error | undefined
  /** The file's last byte was delivered (a complete whole-file 200, or a 206 ending at size - 1): count the download once. */
  reachedEnd: boolean
}

/** Called once per response to a file, when it is over. A throw is logged and changes nothing. */
export type OnDownloadEnd = (event: DownloadEvent) => void

/** Does a download starting now owe an event to anyone? */
export function wanted (onDownloadEnd: OnDownloadEnd | undefined): boolean {
  return onDownloadEnd !== undefined || channel.hasSubscribers
}

type Writer = (this: unknown, chunk?: unknown, ...rest: unknown[]) => unknown

/**
 * One followed download: what was decided, the body bytes handed to the connection (counted where
 * the response is written, not where the content is read), and how it failed, if it did.
 */
export class Delivery {
  #meta: FileMetadata | undefined
  #decision: Decision | undefined
  #bytes = 0
  #counting = false
  #error: Error | undefined

  constructor (readonly reply: FastifyReply, readonly basename: string | undefined, readonly onDownloadEnd: OnDownloadEnd | undefined) {}

  /** The decision is made; from now on body bytes written to the response are the download's. */
  decided (meta: FileMetadata, decision: Decision): void {
    this.#meta = meta
    this.#decision = decision
    this.#count()
  }

  /** The download failed. Before its first byte an error response follows: none of its bytes count. */
  failed (error: Error, answered: boolean): void {
    this.#error = error
    if (answered) {
      this.#counting = false
      this.#bytes = 0
    }
  }

  /** The response is over (its 'close', heard once): the event. */
  end (): void {
    const event = this.#event()
    if (channel.hasSubscribers) channel.publish(event)
    if (this.onDownloadEnd !== undefined) {
      try {
        this.onDownloadEnd(event)
      } catch (error) {
        this.reply.log.error({ err: error }, 'onDownloadEnd failed')
      }
    }
  }

  #event (): DownloadEvent {
    const { reply } = this
    const response = reply.raw
    const meta = this.#meta
    const decision = this.#decision
    const error = this.#error
    const stream = (response as unknown as { stream?: ServerHttp2Stream }).stream
    // Node's HTTP/2 compatibility layer finishes a response on any close: its stream's code tells
    const finished = stream === undefined ? response.writableFinished : response.writableEnded && stream.rstCode === http2.NGHTTP2_NO_ERROR
    const outcome = error !== undefined ? 'error' : finished ? 'complete' : 'aborted'
    const name = this.basename ?? meta?.name
    const ranges = decision?.range !== undefined ? [decision.range] : decision?.ranges?.slice()
    const size = meta?.size
    const last = ranges?.[ranges.length - 1]
    const reachedEnd = outcome === 'complete' && reply.request.method === 'GET' && decision?.body === true && decision.offload !== true &&
      (decision.status === 200 || (last !== undefined && last.end === (size as number) - 1))
    return {
      request: reply.request,
      name: name === undefined ? undefined : safeBasename(name) || undefined,
      size,
      status: error !== undefined || decision === undefined ? response.statusCode : decision.status,
      ranges: decision?.status === 206 ? ranges : undefined,
      bytesSent: this.#bytes,
      outcome,
      error,
      reachedEnd
    }
  }

  /** Counts the body bytes written to the response from now on (its write() and end()). */
  #count (): void {
    this.#counting = true
    const response = this.reply.raw as unknown as { write: Writer, end: Writer }
    const { write, end } = response
    // HTTP/2's compatibility end(chunk) writes the chunk through its own write(): counted once
    let ending = false
    const counted = (chunk: unknown, encoding: unknown): void => {
      if (!this.#counting || ending) return
      // Fastify writes text as UTF-8 (an encoding argument, where given, says otherwise)
      if (typeof chunk === 'string') this.#bytes += Buffer.byteLength(chunk, encoding as BufferEncoding)
      else if (chunk instanceof Uint8Array) this.#bytes += chunk.byteLength
    }
    response.write = function (this: unknown, chunk, ...rest) {
      counted(chunk, rest[0])
      return write.call(this, chunk, ...rest)
    }
    response.end = function (this: unknown, chunk, ...rest) {
      counted(chunk, rest[0])
      ending = true
      try {
        return end.call(this, chunk, ...rest)
      } finally {
        ending = false
      }
    }
  }
}
