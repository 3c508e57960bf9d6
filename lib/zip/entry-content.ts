// One entry's content on its way into the archive: as a byte stream, its first byte in hand before
// anything of the entry is written, its errors heard (yazl never listens for them), its size checked.
import { finished, Readable } from 'node:stream'
import { ContentClosed, SizeMismatch } from '../errors.js'
import { toBody } from '../files/content.js'
import { SizeGuard } from '../size-guard.js'
import type { StreamContent } from '../types.js'

const ignore = (): void => {}

/** An entry's content as a byte stream; `inMemory`: its bytes were in hand, and checked already. */
export interface EntryStream {
  readonly stream: Readable
  readonly inMemory: boolean
}

/**
 * What an entry's stream() returned, as a byte stream. Content in memory is checked against the
 * declared size at once, before any byte of the entry is written, and streamed in one chunk.
 */
export function entryStream (content: StreamContent, size: number | undefined): EntryStream {
  const body = toBody(content)
  // an error the stream emits between two listeners is still heard (each step listens too)
  if (body instanceof Readable) return { stream: body.on('error', ignore), inMemory: false }
  const bytes = typeof body === 'string' ? Buffer.from(body) : body
  if (size !== undefined && bytes.length !== size) throw new SizeMismatch(size, `${bytes.length} bytes`)
  // not Readable.from(): its async iteration costs more than the small entries it would carry
  const stream = new Readable({
    read () {
      this.push(bytes)
      this.push(null)
    }
  })
  return { stream, inMemory: true }
}

/**
 * Resolves once `stream` has its first bytes in hand (left in it to be read) or has ended empty;
 * rejects with its error, or ContentClosed when it is destroyed first. Before the first entry's
 * first byte, nothing of the archive exists: a failure then is still an error response.
 */
export function firstBytes (stream: Readable): Promise<void> {
  return new Promise((resolve, reject) => {
    let chunk: Buffer | null = null
    const settle = (error?: Error): void => {
      stream.off('readable', onReadable).off('end', onEnd).off('error', onError).off('close', onClose)
      if (chunk !== null) stream.unshift(chunk)
      if (error === undefined) resolve()
      else reject(error)
    }
    const onReadable = (): void => {
      chunk = stream.read() as Buffer | null
      // null: the stream is at its end, which 'end' says next
      if (chunk !== null) settle()
    }
    const onEnd = (): void => { settle() }
    const onError = (error: Error): void => { settle(error) }
    const onClose = (): void => { settle(stream.errored ?? new ContentClosed()) }
    stream.on('readable', onReadable).on('end', onEnd).on('error', onError).on('close', onClose)
  })
}

/**
 * The stream to hand the archive (through a SizeGuard when the entry declares a size), and a
 * promise that settles when the entry's content has ended: it rejects on the content's error, a
 * size lie, or the content destroyed before its end. (Not stream.pipeline(): it makes an
 * AbortController per call, and aborts it, a DOMException and its stack, when done; measured as
 * the largest cost of an archive of small entries.)
 */
export function watched (content: Readable, size: number | undefined): { source: Readable, ended: Promise<void> } {
  const guard = size === undefined ? undefined : new SizeGuard(size)
  const ended = new Promise<void>((resolve, reject) => {
    const done = (error?: Error | null): void => {
      if (error == null) resolve()
      else reject(error)
    }
    if (guard === undefined) return void finished(content, { writable: false }, done)
    // the guard fails with the content (pipe() forwards no error), and settles when it has
    // taken the whole content and found it of the declared size
    finished(content, { writable: false }, (error) => { if (error != null) guard.destroy(error) })
    finished(guard, { readable: false }, done)
    content.pipe(guard)
  })
  return { source: guard ?? content, ended }
}
