import { Readable } from 'node:stream'
import { anyString, boolean, checkOptions, func, integer, optionChecks, validDate } from '../check-options.js'
import { ContentConsumed, InvalidFile, InvalidOption, SerializedFile, describe } from '../errors.js'
import type { ByteRange, DownloadFile, StreamContent } from '../types.js'
import { TextIteratorIO } from '../io/text-iterator-io.js'
import { SlicesReadable, type PartSource } from '../io/slices.js'
import { kOnePass } from '../metadata.js'
import { toBody, toBuffer } from './content.js'

/** What a VirtualFile can wrap: whatever stream() may return, or a Blob. */
export type VirtualContent = StreamContent | Blob

/**
 * Content produced afresh for each response that sends a body. Called with no argument, unless
 * the file is `seekable`: then with the range to produce (undefined for the whole file).
 */
export type ContentFactory = (range?: ByteRange) => VirtualContent | Promise<VirtualContent>

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

/** The options of a VirtualFile whose content is a factory. */
export interface FactoryFileOptions extends VirtualFileOptions {
  /** The factory produces the range it is handed (undefined: the whole file); default false. */
  seekable?: boolean | undefined
}

const OPTIONS = optionChecks<FactoryFileOptions>('VirtualFile', {
  name: anyString,
  size: integer(0, 'a non-negative integer'),
  modifiedTime: validDate,
  etag: anyString,
  contentType: anyString,
  charset: anyString,
  wasModifiedSince: func,
  seekable: boolean
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
const EMPTY = Buffer.alloc(0)

/** A factory's content, as stream() content (a Blob streamed); a promise of it when it is one. */
function produce (factory: ContentFactory, range: ByteRange | undefined): StreamContent | Promise<StreamContent> {
  const content = range === undefined ? factory() : factory(range)
  return content instanceof Promise ? content.then(streamable) : streamable(content)
}

function streamable (content: VirtualContent): StreamContent {
  return content instanceof Blob ? content.stream() : content
}

/**
 * Content that is still a promise, as a stream of it once it settles (a rejection fails the stream
 * before any byte). Content that arrives for a stream destroyed before it was read is released.
 */
function settled (content: StreamContent | Promise<StreamContent>): StreamContent {
  if (!(content instanceof Promise)) return content
  // handled from now on: the stream reports a rejection when it is read, and only then
  content.catch(() => {})
  let read = false
  const stream = new SlicesReadable([{ head: EMPTY, length: undefined }], EMPTY, () => {
    read = true
    return content.then((whole) => ({ content: toBody(whole), skip: 0, exact: true }))
  })
  stream.once('close', () => {
    if (!read) content.then(release, () => {})
  })
  return stream
}

/** Releases content that will not be read: destroy(), cancel() or return(). */
function release (content: StreamContent): void {
  if (content instanceof Readable) content.destroy()
  else if (content instanceof ReadableStream) content.cancel().catch(() => {})
  else if (typeof content === 'object') {
    const iterator = content as Partial<AsyncIterator<unknown>>
    if (typeof iterator.return === 'function') Promise.resolve(iterator.return()).catch(() => {})
  }
}

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
  readonly acceptsMultipleRanges: boolean
  readonly wasModifiedSince: ((since: Date) => boolean | Promise<boolean>) | undefined
  /** Text content, sent as is (Node encodes it as UTF-8); encoded only when a range is asked. */
  readonly #text: string | undefined
  #bytes: Buffer | undefined
  readonly #blob: Blob | undefined
  #once: Exclude<VirtualContent, Uint8Array | string | Blob> | undefined
  readonly #factory: ContentFactory | undefined
  readonly #seekable: boolean
  #consumed = false

  /** Content produced afresh per response; resumable with a size and an etag or a modifiedTime. */
  constructor (content: ContentFactory, options?: FactoryFileOptions)
  constructor (content: VirtualContent, options?: VirtualFileOptions)
  constructor (content: VirtualContent | ContentFactory, options: FactoryFileOptions = {}) {
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
    } else if (typeof content === 'function') {
      this.#factory = content
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
    this.wasModifiedSince = options.wasModifiedSince
    this.#seekable = options.seekable === true
    if (this.#seekable && this.#factory === undefined) throw new InvalidOption('VirtualFile.seekable', 'only content given as a factory (a function) can be seekable')
    // a factory answers ranges only with a size and a validator: If-Range makes resuming safe only
    // when the bytes of one validator are always the same bytes
    this.acceptsRanges = this.#factory === undefined
      ? this.#once === undefined
      : size !== undefined && (options.etag !== undefined || modifiedTime !== undefined)
    this.acceptsMultipleRanges = this.acceptsRanges
  }

  /**
   * A factory that cannot seek, for a multipart answer: its content produced once, the parts cut
   * from it (a method of the class, not of each file: the in-memory path keeps its object shape).
   */
  [kOnePass] (): (() => StreamContent | Promise<StreamContent>) | undefined {
    const factory = this.#factory
    return factory === undefined || this.#seekable ? undefined : () => produce(factory, undefined)
  }

  stream (range?: ByteRange): StreamContent {
    const factory = this.#factory
    if (factory !== undefined) {
      // seekable, or the whole file: the factory's content is the answer
      if (this.#seekable || range === undefined) return settled(produce(factory, this.#seekable ? range : undefined))
      // the range of content that cannot seek: produced when first read, the bytes before the
      // range skipped, the producer stopped after it
      const open = (whole: StreamContent): PartSource => ({ content: toBody(whole), skip: range.start, exact: false })
      return new SlicesReadable([{ head: EMPTY, length: range.end - range.start + 1 }], EMPTY, () => {
        const produced = produce(factory, undefined)
        return produced instanceof Promise ? produced.then(open) : open(produced)
      })
    }
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
    if (content === undefined || this.#consumed) throw new ContentConsumed('VirtualFile')
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
    if (content !== undefined) release(content)
  }
}
