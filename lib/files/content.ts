import { Readable } from 'node:stream'
import { InvalidFile, describe } from '../errors.js'
import { BytesIteratorIO } from '../io/bytes-iterator-io.js'
import type { StreamContent } from '../types.js'

/** Bytes as a Buffer, without copying. */
export function toBuffer (bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * What a wrapper's stream() returned, as what goes on the wire: content in memory stays a string
 * (UTF-8) or a Buffer, sent with the headers; everything else becomes a Node Readable of bytes.
 * Web streams, iterables and object-mode Readables (such as Readable.from) go through
 * BytesIteratorIO, whose destroy() cancels them (return()): their items are gathered into byte
 * chunks and empty items are no data. (Node 20 also corrupts object-mode strings piped into an
 * HTTP/2 response.)
 */
export function toBody (content: StreamContent): Buffer | string | Readable {
  if (typeof content === 'string') return content
  if (content instanceof Uint8Array) return toBuffer(content)
  if (content instanceof Readable) return content.readableObjectMode ? new BytesIteratorIO(content) : content
  if (content !== null && typeof content === 'object' && (Symbol.asyncIterator in content || Symbol.iterator in content)) {
    return new BytesIteratorIO(content as AsyncIterable<Uint8Array | string>)
  }
  throw new InvalidFile(`stream() returning ${describe(content)}`)
}
