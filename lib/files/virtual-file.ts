import { Readable } from 'node:stream'
import { anyString, checkOptions, func, integer, optionChecks, validDate } from '../check-options.js'
import { ContentConsumed, InvalidFile, SerializedFile, describe } from '../errors.js'
import type { ByteRange, DownloadFile, StreamContent } from '../types.js'
import { TextIteratorIO } from '../io/text-iterator-io.js'
import { toBuffer } from './content.js'

/** What a VirtualFile can wrap: whatever stream() may return, or a Blob. */
export type VirtualContent = StreamContent | Blob

export interface VirtualFileOptions {
  name?: string | undefined
  /** Declared size of stream or iterator content; ignored for strings, bytes and Blobs, whose size is known. */
  size?: number | undefined
  modifiedTime?: Date | undefined
  etag?: string | undefined
  contentType?: string | undefined
  charset?: string | undefined
  wasModifiedSince?: ((since: Date) => boolean | Promise<boolean>) | undefined
}

const OPTIONS = optionChecks<VirtualFileOptions>('VirtualFile', {
  name: anyString,
  size: integer(0, 'a non-negative integer'),
  modifiedTime: validDate,
  etag: anyString,
  contentType: anyString,
  charset: anyString,
  wasModifiedSince: func
})

/**
 * Options a subclass (ContentFile) has checked already, as their own class: VirtualFile does not
 * check them again (ContentFile is built per request on the small-file path). Not exported by the
 * package.
 * @internal
 */
export class CheckedOptions implements VirtualFileOptions {
  constructor (
    readonly name: string | undefined,
    readonly modifiedTime: Date | undefined,
    readonly etag: string | undefined,
    readonly contentType: string | undefined,
    readonly charset: string | undefined
  ) {}
}

const SMALL_BLOB = 64 * 1024

async function * readWhole (blob: Blob): AsyncGenerator<Uint8Array> {
  yield new Uint8Array(await blob.arrayBuffer())
}

/**
 * A file that does not live on disk (django-downloadview's VirtualFile): content in memory, a Blob,
 * a stream or an iterator, plus the metadata that makes it a download. In-memory and Blob content
 * is served any number of times and in ranges; a stream or an iterator is read at most once.
 */
export class VirtualFile implements DownloadFile {
  readonly name: string | undefined
  readonly size: number | undefined
  readonly modifiedTime: Date | undefined
  readonly etag: string | undefined
  readonly contentType: string | undefined
  readonly charset: string | undefined
  readonly acceptsRanges: boolean
  readonly wasModifiedSince: ((since: Date) => boolean | Promise<boolean>) | undefined
  /** Text content, sent as is (Node encodes it as UTF-8); encoded only when a range is asked. */
  readonly #text: string | undefined
  #bytes: Buffer | undefined
  readonly #blob: Blob | undefined
  #once: Exclude<VirtualContent, Uint8Array | string | Blob> | undefined
  #consumed = false

  constructor (content: VirtualContent, options: VirtualFileOptions = {}) {
    if (!(options instanceof CheckedOptions)) checkOptions(OPTIONS, options)
    // every field is assigned, in one order, whatever the content: one object shape for the hot path
    let { name, size, modifiedTime, contentType, charset } = options
    if (typeof content === 'string') {
      this.#text = content
      size = Buffer.byteLength(content)
    } else if (content instanceof Uint8Array) {
      this.#bytes = toBuffer(content)
      size = this.#bytes.length
    } else if (content instanceof Blob) {
      this.#blob = content
      size = content.size
      contentType ??= content.type === '' ? undefined : content.type
      if (content instanceof File) {
        name ??= content.name
        modifiedTime ??= new Date(content.lastModified)
      }
    } else if (content !== null && typeof content === 'object' &&
      (content instanceof Readable || Symbol.asyncIterator in content || Symbol.iterator in content)) {
      this.#once = content
      // a TextIteratorIO knows the charset it encodes to
      if (content instanceof TextIteratorIO) charset ??= content.charset
    } else {
      throw new InvalidFile(`VirtualFile content: ${describe(content)}`)
    }
    this.name = name
    this.size = size
    this.modifiedTime = modifiedTime
    this.etag = options.etag
    this.contentType = contentType
    this.charset = charset
    this.acceptsRanges = this.#once === undefined
    this.wasModifiedSince = options.wasModifiedSince
  }

  stream (range?: ByteRange): StreamContent {
    if (this.#text !== undefined) {
      if (range === undefined) return this.#text
      this.#bytes ??= Buffer.from(this.#text)
    }
    if (this.#bytes !== undefined) return range === undefined ? this.#bytes : this.#bytes.subarray(range.start, range.end + 1)
    if (this.#blob !== undefined) {
      const blob = range === undefined ? this.#blob : this.#blob.slice(range.start, range.end + 1)
      // one chunk's worth is read in one go: a Web stream costs more than the bytes
      return blob.size <= SMALL_BLOB ? readWhole(blob) : blob.stream()
    }
    const content = this.#once
    if (content === undefined || this.#consumed) throw new ContentConsumed()
    this.#consumed = true
    this.#once = undefined
    return content
  }

  /**
   * A file never becomes JSON: a route with the virtualDownload option defined before the plugin
   * was registered (`app.register` not awaited) would otherwise answer the wrapper's fields.
   */
  toJSON (): never {
    throw new SerializedFile(this.constructor.name)
  }

  /** Releases stream or iterator content that will not be read: destroy(), cancel() or return(). */
  close (): void {
    const content = this.#once
    this.#once = undefined
    this.#consumed = true
    if (content === undefined) return
    if (content instanceof Readable) content.destroy()
    else if (content instanceof ReadableStream) content.cancel().catch(() => {})
    else {
      const iterator = content as Partial<AsyncIterator<unknown>>
      if (typeof iterator.return === 'function') Promise.resolve(iterator.return()).catch(() => {})
    }
  }
}
