import type { FastifyReply } from 'fastify'
import { sendInMemory, sendNoBody, sendStream } from './body.js'
import { Download } from './download.js'
import { Delivery, wanted } from './events.js'
import { toBody } from './files/content.js'
import { toDownloadFile } from './files/to-download-file.js'
import { decide, type Decision } from './http/decide.js'
import { responseHeaders } from './http/headers.js'
import { multipartLayout, newBoundary } from './http/multipart.js'
import { readMetadata, type FileMetadata } from './metadata.js'
import type { DownloadPlan } from './options.js'
import { multipartBody } from './parts.js'
import type { DownloadFile } from './types.js'

/**
 * The one core behind every entry point:
 * file -> open() -> decide (412 / 304 / 416 / 206 / 200, HEAD) -> headers -> body,
 * or close() instead of a body. Synchronous until something awaits (open, wasModifiedSince, a stream).
 * The Download owns the end of it all: whatever happens, started content is destroyed or the file closed.
 */
export function serve (reply: FastifyReply, input: unknown, plan: DownloadPlan): FastifyReply {
  const download = new Download(reply)
  try {
    const file = toDownloadFile(input)
    // delivery events: followed only when someone listens
    if (wanted(plan.onDownloadEnd)) download.follow(new Delivery(reply, plan.basename, plan.onDownloadEnd))
    if (!download.adopt(file)) return reply
    // a file without open() costs no context: the in-memory path stays lean
    const opened = file.open === undefined ? undefined : file.open(reply.request, download.openContext(plan.acceptRanges))
    if (opened instanceof Promise) download.after(opened, () => respond(download, file, plan))
    else respond(download, file, plan)
  } catch (error) {
    download.fail(error)
  }
  return reply
}

function respond (download: Download, file: DownloadFile, plan: DownloadPlan): void {
  const meta = readMetadata(file)
  const decision = decide(download.reply.request, meta, file, plan)
  if (decision instanceof Promise) download.after(decision, (decision) => send(download, file, meta, decision, plan))
  else send(download, file, meta, decision, plan)
}

function send (download: Download, file: DownloadFile, meta: FileMetadata, decision: Decision, plan: DownloadPlan): void {
  download.delivery?.decided(meta, decision)
  const headers = responseHeaders(plan, meta, decision)
  if (!decision.body) return sendNoBody(download, decision.status, headers, decision.offload)
  const { range, ranges } = decision
  download.start()
  if (ranges !== undefined) {
    // multipart/byteranges: its layout, hence its type and exact length, before any byte is read
    const layout = multipartLayout(ranges, meta.size as number, headers['content-type'] as string, newBoundary())
    headers['content-type'] = layout.contentType
    headers['content-length'] = String(layout.length)
    // no size guard: the body checks every part's length itself, and its closing delimiter goes
    // out only once the last part proved whole, so a lying part never looks like a complete answer
    return void sendStream(download, multipartBody(file, ranges, layout), 206, headers, undefined).catch((error: unknown) => download.fail(error))
  }
  const body = toBody(file.stream(range))
  const size = range === undefined ? meta.size : range.end - range.start + 1
  // content in memory is answered synchronously; a stream waits for its first chunk
  if (typeof body === 'string' || Buffer.isBuffer(body)) sendInMemory(download, body, decision.status, headers, size)
  else sendStream(download, body, decision.status, headers, size).catch((error: unknown) => download.fail(error))
}
