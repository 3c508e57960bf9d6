import type { FastifyReply } from 'fastify'
import { ClientGone, emptyStream, sendInMemory, sendStream } from './body.js'
import { toBody } from './files/content.js'
import { toDownloadFile } from './files/to-download-file.js'
import { decide, type Decision } from './http/decide.js'
import { responseHeaders } from './http/headers.js'
import { readMetadata, type FileMetadata } from './metadata.js'
import type { DownloadPlan } from './options.js'
import type { DownloadFile } from './types.js'

/**
 * The one core behind every entry point:
 * file -> open() -> decide (412 / 304 / 416 / 206 / 200, HEAD) -> headers -> body,
 * or close() instead of a body. Synchronous until something awaits (open, wasModifiedSince, a stream).
 */
export function serve (reply: FastifyReply, input: unknown, plan: DownloadPlan): FastifyReply {
  const download = new Download(reply, plan)
  try {
    const file = download.file = toDownloadFile(input)
    const opened = file.open?.(reply.request)
    if (opened instanceof Promise) {
      opened.then(() => download.respond(), (error: unknown) => download.fail(error))
    } else {
      download.respond()
    }
  } catch (error) {
    download.fail(error)
  }
  return reply
}

/** One download in flight: which file, and whether its content was started (else it gets close()). */
class Download {
  file: DownloadFile | undefined
  #started = false

  constructor (readonly reply: FastifyReply, readonly plan: DownloadPlan) {}

  respond (): void {
    try {
      const file = this.file as DownloadFile
      const meta = readMetadata(file)
      const decision = decide(this.reply.request, meta, file, this.plan.acceptRanges)
      if (decision instanceof Promise) {
        decision.then((decision) => this.send(file, meta, decision)).catch((error: unknown) => this.fail(error))
      } else {
        this.send(file, meta, decision)
      }
    } catch (error) {
      this.fail(error)
    }
  }

  send (file: DownloadFile, meta: FileMetadata, decision: Decision): void {
    const headers = responseHeaders(this.plan, meta, decision)
    if (!decision.body) return this.answerWithoutBody(decision.status, headers)
    if (this.reply.raw.destroyed) throw new ClientGone('the client went away')
    const { range } = decision
    this.#started = true
    const body = toBody(file.stream(range))
    const size = range === undefined ? meta.size : range.end - range.start + 1
    // content in memory is answered synchronously; a stream waits for its first chunk
    if (typeof body === 'string' || Buffer.isBuffer(body)) sendInMemory(this.reply, body, decision.status, headers, size)
    else sendStream(this.reply, body, decision.status, headers, size).catch((error: unknown) => this.fail(error))
  }

  answerWithoutBody (status: number, headers: Record<string, string>): void {
    this.close()
    const reply = this.reply.code(status).headers(headers)
    // Fastify's automatic HEAD route would overwrite Content-Length for an empty payload
    if (this.reply.request.method === 'HEAD') reply.send(emptyStream())
    else reply.send()
  }

  fail (error: unknown): void {
    try {
      this.close()
    } catch (closeError) {
      this.reply.log.error({ err: closeError }, 'file close() failed')
    }
    // a client that left gets no answer and costs no error log
    if (!(error instanceof ClientGone) && !this.reply.raw.destroyed) this.reply.send(error)
  }

  close (): void {
    if (this.#started || this.file === undefined) return
    this.#started = true
    this.file.close?.()
  }
}
