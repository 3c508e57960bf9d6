import { constants as http2, type ServerHttp2Stream } from 'node:http2'
import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import type { FastifyReply } from 'fastify'
import type { Delivery } from './events.js'
import type { DownloadFile, OpenContext } from './types.js'

/** The HTTP/2 stream behind a reply, or undefined on HTTP/1.x (Node's compatibility layer). */
function http2Stream (reply: FastifyReply): ServerHttp2Stream | undefined {
  return (reply.raw as unknown as { stream?: ServerHttp2Stream }).stream
}

/** The response can no longer be written: the client went away (or the server dropped it). */
function responseGone (reply: FastifyReply): boolean {
  const stream = http2Stream(reply)
  // an HTTP/2 response has no `destroyed` of its own: its stream has
  return stream === undefined ? reply.raw.destroyed : stream.destroyed || stream.closed
}

/**
 * Ends a response that already sent bytes so that every client sees a failure, never a clean end.
 * HTTP/2: RST_STREAM with INTERNAL_ERROR (RFC 9113 §5.4.2); a NO_ERROR reset reads as complete.
 * HTTP/1.x: a TCP reset. A body without a length ends when the connection closes (RFC 9112 §6.3),
 * so on HTTP/1.0, and behind a proxy speaking HTTP/1.0 to the app, a normal close would read as
 * the whole file; over TLS too, since clients forgive a missing close_notify. A TLS socket cannot
 * be reset itself: the TCP socket under it (Node keeps it as `_parent`) is. Should that ever fail,
 * the connection is still destroyed.
 */
export function resetConnection (reply: FastifyReply, error: Error): void {
  const stream = http2Stream(reply)
  if (stream !== undefined) {
    stream.close(http2.NGHTTP2_INTERNAL_ERROR)
    return
  }
  const socket = reply.request.raw.socket as Partial<Socket> & { _parent?: Socket }
  if (typeof socket.destroy !== 'function') {
    // no connection under the response: light-my-request's `app.inject()`. Destroying the response
    // with the error is how it hears a failure: the inject promise (or its payload stream) rejects.
    reply.raw.destroy(error)
    return
  }
  try {
    (socket._parent ?? socket as Socket).resetAndDestroy()
  } catch {
    // not over a TCP handle after all: destroying it is the best left
  }
  socket.destroy()
}

/**
 * One download's life, owned in one place: the file, whether its content started, and the end of
 * the response for every reason (complete, failed, client gone, payload dropped by a hook, server
 * closing) on HTTP/1.0, HTTP/1.1 and HTTP/2. When the response is over, content that started and
 * did not end is destroyed (an iterator's return() runs, a generator's finally), and a file whose
 * content never started gets close(), once, after any open() still running has settled.
 */
export class Download {
  #file: DownloadFile | undefined
  #content: Readable | undefined
  /** stream() was called, or close() was: the file owes nothing more. */
  #started = false
  /** open() or wasModifiedSince is running. */
  #busy = false
  /** The response is over (closed, for whatever reason). */
  #over: boolean
  #listening = false
  /** The download handed Fastify its answer (the file, or an error). */
  #answered = false
  #committed: Record<string, string> | undefined
  #failed = false
  /** Made for a file with an open(): aborted when the response is over while open() (or a decision) runs. */
  #opening: AbortController | undefined
  /** Someone listens for the download's end (delivery events): what it delivered. */
  delivery: Delivery | undefined

  constructor (readonly reply: FastifyReply) {
    // the client may be gone already (while getFile or a preHandler ran): 'close' would never come
    this.#over = responseGone(reply)
  }

  /**
   * Hears the response close from the first moment the download waits for something (open(), a
   * decision, a stream). A download answered synchronously (in-memory content, HEAD, 304) has
   * nothing left to release by then, and costs no listener: the small-file path stays lean.
   */
  #listen (): void {
    if (this.#listening) return
    this.#listening = true
    const response = this.reply.raw
    response.once('close', () => {
      this.#over = true
      // only while something awaits: a settled open() needs no abort, and an abort costs a
      // DOMException (stack and all) that every finished path download would otherwise pay
      if (this.#busy) this.#opening?.abort()
      const { delivery } = this
      // a response that finished without the download's answer was sent by someone else
      if (!this.#answered && response.writableFinished) {
        const { reply } = this
        reply.log.warn(`the reply of ${reply.request.method} ${reply.routeOptions.url} was sent before its download: an async handler must \`return reply.virtualDownload(...)\``)
      }
      this.#release()
      delivery?.end()
    })
  }

  /** Delivery events are owed: the response's end is heard from now on, even for an answer in memory. */
  follow (delivery: Delivery): void {
    this.delivery = delivery
    // gone already (while getFile or a preHandler ran): 'close' will not come again
    if (this.#over) delivery.end()
    else this.#listen()
  }

  /**
   * What a file's open() is told: whether the route answers ranges, and a signal aborted when the
   * response is over (the client left) while open() may still wait, e.g. for an upstream's headers.
   */
  openContext (acceptRanges: boolean): OpenContext {
    this.#opening = new AbortController()
    return { acceptRanges, signal: this.#opening.signal }
  }

  /** Takes charge of the file; false when the response is already over (the file got close()). */
  adopt (file: DownloadFile): boolean {
    this.#file = file
    if (this.#over) this.#release()
    return !this.#over
  }

  /**
   * Runs `next` once `value` (open(), a decision that awaits wasModifiedSince) settles. Once the
   * response is over, `next` never runs; a failure, of the promise or of `next`, goes to fail().
   */
  after<T> (value: Promise<T>, next: (value: T) => void): void {
    this.#listen()
    this.#busy = true
    value.then((result) => {
      this.#busy = false
      if (this.#over) return this.#release()
      try {
        next(result)
      } catch (error) {
        this.fail(error)
      }
    }, (error: unknown) => {
      this.#busy = false
      this.fail(error)
    })
  }

  /** stream() is about to be called: close() is no longer owed. */
  start (): void {
    this.#started = true
  }

  /**
   * The content's stream, from the moment it exists: its errors are heard for the whole download
   * (an 'error' without a listener would crash the process), and it is destroyed if the response
   * ends before it does.
   */
  watch (content: Readable): void {
    this.#listen()
    this.#content = content
    content.on('error', (error) => this.#onError(error))
  }

  /**
   * The download's headers are handed to Fastify with `payload` (the content, or a stage it is
   * piped through). From now on a failure either still gets an error response (nothing written
   * yet: the headers are taken back) or resets the connection.
   */
  commit (payload: Readable, headers: Record<string, string>): void {
    this.#committed = headers
    if (payload !== this.#content) payload.on('error', (error) => this.#onError(error))
  }

  /** The content or its payload failed. Before commit, the wait for the first chunk reports it. */
  #onError (error: Error): void {
    const headers = this.#committed
    if (headers === undefined || this.#failed || this.#over) return
    this.#failed = true
    const { reply } = this
    const response = reply.raw
    this.delivery?.failed(error, !response.headersSent)
    if (!response.headersSent) {
      // nothing was written: Fastify's error handler answers, without the download's headers
      for (const name of Object.keys(headers)) {
        reply.removeHeader(name)
        response.removeHeader(name)
      }
      return
    }
    reply.log.error({ err: error }, 'download failed after its first byte; connection reset')
    resetConnection(reply, error)
  }

  /**
   * The download is about to answer: false when the reply already went out, as when an async
   * handler calls reply.virtualDownload() without returning the reply (Fastify answers an empty 200
   * once the handler's promise resolves). The content is released then; the response's close says
   * why, once.
   */
  answering (): boolean {
    if (this.reply.sent) {
      this.#release()
      return false
    }
    this.#answered = true
    return true
  }

  /** An error before anything was committed: Fastify's error handler answers, unless no one listens. */
  fail (error: unknown): void {
    this.#release()
    // a client that left gets no answer and costs no error log
    if (!this.#over && this.answering()) {
      // a thrown value that is no Error (a string, an object) is still a failure, never a payload
      const failure = error instanceof Error ? error : new Error(`the download failed with a non-Error: ${String(error)}`)
      this.delivery?.failed(failure, true)
      this.reply.send(failure)
    }
  }

  /** close() for a file whose content will never start (HEAD, 304, 412, 416); failures are logged. */
  closeFile (): void {
    const file = this.#file
    if (this.#started || file === undefined) return
    this.#started = true
    const logFailure = (error: unknown): void => {
      this.reply.log.error({ err: error }, 'file close() failed')
    }
    try {
      const closing = file.close?.()
      if (closing !== undefined) Promise.resolve(closing).catch(logFailure)
    } catch (error) {
      logFailure(error)
    }
  }

  /** Content that started and did not end is destroyed; an unstarted file is closed once open() settled. */
  #release (): void {
    const content = this.#content
    if (content !== undefined) {
      if (!content.readableEnded) content.destroy()
    } else if (!this.#busy) {
      this.closeFile()
    }
  }
}
