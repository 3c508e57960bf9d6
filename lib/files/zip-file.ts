// Many files as one ZIP, streamed: each entry opened and read only when its turn comes (yazl writes
// the format, lib/zip/ feeds it). With stored entries of known sizes, given as an array, the
// archive's exact length is known before any entry is read.
import type { Readable } from 'node:stream'
import type { FastifyRequest } from 'fastify'
import { anyString, boolean, checkOptions, optionChecks, validDate } from '../check-options.js'
import { ContentConsumed, InvalidOption, SerializedFile, describe } from '../errors.js'
import type { DownloadFile } from '../types.js'
import { archiveStream, type EntrySource } from '../zip/archive.js'
import { checkEntry, type ZipEntry } from '../zip/entries.js'
import { predictLength } from '../zip/yazl-writer.js'

export type { ZipEntry } from '../zip/entries.js'

export interface ZipFileOptions {
  /** The archive's name, e.g. 'bundle.zip' (its basename is the client-side name). */
  name?: string | undefined
  /** Deflate the entries (default false: stored, and the archive's length known when it can be). */
  compress?: boolean | undefined
  /** Last-Modified of the archive, and the time of each entry whose file has no modifiedTime. */
  modifiedTime?: Date | undefined
  etag?: string | undefined
}

const OPTIONS = optionChecks<ZipFileOptions>('ZipFile', {
  name: anyString,
  compress: boolean,
  modifiedTime: validDate,
  etag: anyString
})

const isSize = (size: unknown): size is number => Number.isSafeInteger(size) && (size as number) >= 0

/**
 * A ZIP archive of `entries` ({ name, file }, in an array, an iterable or an async iterable),
 * streamed entry after entry: an entry's open(request) is awaited and its content read only when
 * the entry before it has ended. Never offers ranges. Serves one response, like stream content.
 */
export class ZipFile implements DownloadFile {
  readonly name: string | undefined
  /** Known when the entries are an array of stored files that all declare their size. */
  readonly size: number | undefined
  readonly modifiedTime: Date | undefined
  readonly etag: string | undefined
  readonly contentType = 'application/zip'
  readonly acceptsRanges = false
  readonly #source: EntrySource
  readonly #compress: boolean
  /** Every entry's time when its file has none: the archive's modifiedTime, else when it was made. */
  readonly #entryTime: Date
  #request: FastifyRequest | undefined
  #consumed = false

  constructor (entries: Iterable<ZipEntry> | AsyncIterable<ZipEntry>, options: ZipFileOptions = {}) {
    checkOptions(OPTIONS, options)
    this.name = options.name
    this.modifiedTime = options.modifiedTime
    this.etag = options.etag
    this.#compress = options.compress === true
    this.#entryTime = options.modifiedTime ?? new Date()
    if (Array.isArray(entries)) {
      // an array is checked whole, here: a refused name is the caller's TypeError
      const checked = (entries as readonly unknown[]).map(checkEntry)
      const sizes = checked.map(({ file }) => isSize(file.size) ? file.size : undefined)
      this.#source = { checked, sizes }
      this.size = this.#compress || sizes.includes(undefined)
        ? undefined
        : predictLength(checked.map(({ name }, index) => ({ name, size: sizes[index] as number })))
    } else if (entries !== null && typeof entries === 'object' && (Symbol.iterator in entries || Symbol.asyncIterator in entries)) {
      this.#source = { iterable: entries }
      this.size = undefined
    } else {
      throw new InvalidOption('ZipFile entries', `must be an array, an iterable or an async iterable of { name, file }, got ${describe(entries)}`)
    }
  }

  /** Keeps the request: each entry's open() is handed it when the entry's turn comes. */
  open (request: FastifyRequest): void {
    this.#request = request
  }

  stream (): Readable {
    const request = this.#request
    if (this.#consumed) throw new ContentConsumed('ZipFile')
    if (request === undefined) throw new TypeError('ZipFile.stream() before open(request): its entries are opened with the request')
    this.#consumed = true
    return archiveStream(this.#source, { request, compress: this.#compress, modifiedTime: this.#entryTime })
  }

  /**
   * No body is sent (HEAD, 304, an error): every entry of an array is closed (none was opened),
   * releasing the content it holds; an iterator given as the entries gets return().
   */
  async close (): Promise<void> {
    if (this.#consumed) return
    this.#consumed = true
    const source = this.#source
    const steps: Array<() => unknown> = 'checked' in source
      ? source.checked.map(({ file }) => () => file.close?.())
      : [() => (source.iterable as Partial<AsyncIterator<unknown>>).return?.()]
    const results = await Promise.allSettled(steps.map(async (step) => await step()))
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected')
    if (failed !== undefined) throw failed.reason
  }

  /** Never JSON (see VirtualFile.toJSON). */
  toJSON (): never {
    throw new SerializedFile(this.constructor.name)
  }
}
