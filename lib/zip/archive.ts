// One archive being produced: entries taken one at a time, each opened, streamed into the ZIP and
// ended before the next is taken; and the end of it all, whatever ends it (the last entry, a
// failure, the client gone).
import type { Readable } from 'node:stream'
import { setImmediate as nextTurn } from 'node:timers/promises'
import type { FastifyRequest } from 'fastify'
import { readMetadata } from '../metadata.js'
import type { DownloadFile, OpenContext } from '../types.js'
import { checkEntry, type CheckedEntry } from './entries.js'
import { entryStream, firstBytes, watched } from './entry-content.js'
import { YazlWriter } from './yazl-writer.js'

/** Where an archive's entries come from. */
export type EntrySource =
  /** Checked by the ZipFile's constructor, each with the size the archive's length was predicted with (if it was). */
  | { readonly checked: readonly CheckedEntry[], readonly sizes: ReadonlyArray<number | undefined> }
  /** Pulled one at a time, each checked when taken. */
  | { readonly iterable: Iterable<unknown> | AsyncIterable<unknown> }

export interface ArchiveOptions {
  readonly request: FastifyRequest
  readonly compress: boolean
  /** Each entry's time when its file has no modifiedTime. */
  readonly modifiedTime: Date
}

/** Entries produced between two turns of the event loop. */
const YIELD_EVERY = 16

type Pull = () => IteratorResult<unknown> | Promise<IteratorResult<unknown>>

/**
 * The archive's bytes, produced as they are read. A failure destroys the stream with its error (an
 * error response before its first byte, a cut connection after); the stream destroyed before its
 * end (the client gone) destroys the entry being read, calls the iterator's return() and closes the
 * entries that will not be streamed.
 */
export function archiveStream (source: EntrySource, options: ArchiveOptions): Readable {
  return new Archive(source, options).output
}

class Archive {
  readonly #writer = new YazlWriter()
  readonly output = this.#writer.output
  readonly #source: EntrySource
  readonly #options: ArchiveOptions
  /** Aborted when the archive ends early: tells an entry's open() to stop waiting. */
  readonly #controller = new AbortController()
  #iterator: Iterator<unknown> | AsyncIterator<unknown> | undefined
  /** The entry taken and not streamed yet; `#opening` while its open() runs. */
  #pending: DownloadFile | undefined
  #opening = false
  /** The content being read into the archive. */
  #content: Readable | undefined
  /** The next entry of a checked list. */
  #index = 0
  #over = false

  constructor (source: EntrySource, options: ArchiveOptions) {
    this.#source = source
    this.#options = options
    this.output.once('close', () => { this.#end() })
    this.#run().catch((error: unknown) => { this.#end(error as Error) })
  }

  async #run (): Promise<void> {
    const pull = this.#puller()
    const context: OpenContext = { acceptRanges: false, signal: this.#controller.signal }
    for (let index = 0; ; index++) {
      // the event loop runs between entries, whatever the client's pace: a fast client never
      // pushes back, and an archive of in-memory entries would otherwise hold the server (every
      // 16 entries: each turn is a batch of bytes for the socket, lib/zip/batched.ts)
      if (index % YIELD_EVERY === YIELD_EVERY - 1) await nextTurn()
      if (this.#over) return
      const taken = await pull()
      if (taken.done === true) break
      const { name, file } = 'checked' in this.#source ? taken.value as CheckedEntry : checkEntry(taken.value, index)
      this.#pending = file
      if (this.#over) return this.#closePending()
      if (file.open !== undefined) {
        this.#opening = true
        try {
          await file.open(this.#options.request, context)
        } finally {
          this.#opening = false
          // over while open() ran (it settled either way): closed now, as a download's file is
          if (this.#over) this.#closePending()
        }
        if (this.#over) return
      }
      await this.#stream(name, file, index)
    }
    this.#iterator = undefined
    this.#writer.end()
  }

  /** Streams an opened entry into the archive; resolves when its content has ended. */
  async #stream (name: string, file: DownloadFile, index: number): Promise<void> {
    const meta = readMetadata(file)
    // the size the archive's length was computed with, declared before open(), is the one that counts
    const size = ('checked' in this.#source ? this.#source.sizes[index] : undefined) ?? meta.size
    this.#pending = undefined
    const { stream: content, inMemory } = entryStream(file.stream(), size)
    this.#content = content
    // content in memory cannot fail any more, nor lie about its size
    if (!inMemory) await firstBytes(content)
    const { source, ended } = watched(content, inMemory ? undefined : size)
    this.#writer.add(name, source, { mtime: meta.modifiedTime ?? this.#options.modifiedTime, compress: this.#options.compress })
    await ended
    this.#content = undefined
  }

  /** The next entry, from the checked list or pulled from the iterator. */
  #puller (): Pull {
    const source = this.#source
    if ('checked' in source) {
      const { checked } = source
      return () => this.#index < checked.length
        ? { done: false, value: checked[this.#index++] }
        : { done: true, value: undefined }
    }
    const { iterable } = source
    const iterator = Symbol.asyncIterator in iterable ? iterable[Symbol.asyncIterator]() : iterable[Symbol.iterator]()
    this.#iterator = iterator
    return async () => {
      try {
        return await iterator.next()
      } catch (error) {
        // an iterator that failed is done: no return() owed
        this.#iterator = undefined
        throw error
      }
    }
  }

  /** The archive is over: complete (nothing left to do), failed (`error`), or left early. */
  #end (error?: Error): void {
    if (this.#over) return
    this.#over = true
    const output = this.output
    if (output.readableEnded) return
    this.#controller.abort()
    this.#content?.destroy()
    const iterator = this.#iterator
    this.#iterator = undefined
    if (iterator?.return !== undefined) this.#settle(() => iterator.return?.())
    // an entry whose open() still runs is closed once it settles (#run sees the archive over)
    if (!this.#opening) this.#closePending()
    if ('checked' in this.#source) {
      for (const { file } of this.#source.checked.slice(this.#index)) this.#settle(() => file.close?.())
    }
    if (error !== undefined) output.destroy(error)
  }

  #closePending (): void {
    const file = this.#pending
    this.#pending = undefined
    if (file !== undefined) this.#settle(() => file.close?.())
  }

  /** Runs a clean-up step (close(), return()); a failure is logged and changes nothing. */
  #settle (step: () => unknown): void {
    const log = (error: unknown): void => { this.#options.request.log.error({ err: error }, 'ZIP entry clean-up failed') }
    try {
      Promise.resolve(step()).catch(log)
    } catch (error) {
      log(error)
    }
  }
}
