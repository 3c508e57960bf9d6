import { Readable } from 'node:stream'
import { integer } from '../check-options.js'

const DEFAULT_HIGH_WATER_MARK = 64 * 1024
/** An async source's gathered bytes wait at most this long for more, so a slow source is not held up. */
const FLUSH_DELAY_MS = 10
/**
 * Chunks a sync iterator produces in a row before the event loop gets a turn. A consumer that never
 * pushes back (a fast client: the socket takes every write at once) would otherwise keep the
 * stream reading the iterator in one go, and the server answering nothing else meanwhile.
 */
const SYNC_BURST = 16

export interface IteratorReadableOptions {
  /** About how many bytes each chunk holds, and how far the reader runs ahead (default 64 KiB). */
  highWaterMark?: number | undefined
}

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>

function iteratorOf (iterable: Iterable<unknown> | AsyncIterable<unknown>, reader: string): { iterator: AnyIterator, async: boolean } {
  if (iterable !== null && typeof iterable === 'object') {
    if (Symbol.asyncIterator in iterable) return { iterator: iterable[Symbol.asyncIterator](), async: true }
    if (Symbol.iterator in iterable) return { iterator: iterable[Symbol.iterator](), async: false }
  }
  throw new TypeError(`${reader} expects an iterable or an async iterable`)
}

/** Checks the highWaterMark option: the subclasses check their options (checkOptions) before super(). */
export const highWaterMarkCheck = integer(1, 'a positive integer')

/**
 * The pull loop shared by TextIteratorIO and BytesIteratorIO: a byte Readable that takes items
 * from an iterator only when the consumer asks (_read), gathers small items into chunks of about
 * highWaterMark bytes, and calls the iterator's return() when destroyed early, so a generator's
 * `finally` runs when a client goes away.
 *
 * Subclasses say how an item is gathered (`gatherItem`), how the gathered items become one chunk
 * (`takeGathered`), and which items pass through whole (`largeItem`).
 */
export abstract class IteratorReadable extends Readable {
  readonly #iterator: AnyIterator
  readonly #async: boolean
  /** The size a chunk is gathered to (the highWaterMark). */
  protected readonly chunkSize: number
  #pulling = false
  #finished = false
  #flushTimer: NodeJS.Timeout | undefined
  #burst = 0

  protected constructor (iterable: Iterable<unknown> | AsyncIterable<unknown>, options: IteratorReadableOptions, reader: string) {
    const highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK
    super({ highWaterMark })
    const { iterator, async } = iteratorOf(iterable, reader)
    this.#iterator = iterator
    this.#async = async
    this.chunkSize = highWaterMark
  }

  /** Gather one item; returns how many bytes (or characters) are gathered so far. Throws on a bad item. */
  protected abstract gatherItem (item: unknown): number
  /** The gathered items as one chunk, or null when nothing is gathered; clears the gathering. */
  protected abstract takeGathered (): Buffer | null
  /** An item too big to gather with others, to pass through as is, or null. */
  protected abstract largeItem (item: unknown): Buffer | null

  override _read (): void {
    if (this.#pulling) return
    if (this.#async) void this.#pullAsync()
    else if (++this.#burst < SYNC_BURST) this.#pullSync()
    else {
      // a turn for the rest of the server, then on
      this.#burst = 0
      this.#pulling = true
      setImmediate(() => {
        this.#pulling = false
        if (!this.destroyed) this.#pullSync()
      })
    }
  }

  #pullSync (): void {
    try {
      if (this.gatherSync(this.#iterator as Iterator<unknown>)) this.#end()
      else this.#pushGathered()
    } catch (error) {
      this.#finished = true
      this.destroy(error as Error)
    }
  }

  /**
   * Pulls items of a sync iterator until a chunk is ready (false) or the iterator is done (true).
   * TextIteratorIO replaces it with a tighter loop: this is the hot path of a CSV export.
   */
  protected gatherSync (iterator: Iterator<unknown>): boolean {
    for (;;) {
      const result = iterator.next()
      if (result.done === true) return true
      if (this.#gather(result.value)) return false
    }
  }

  async #pullAsync (): Promise<void> {
    this.#pulling = true
    const iterator = this.#iterator as AsyncIterator<unknown>
    try {
      for (;;) {
        const result = await iterator.next()
        if (this.destroyed) return
        if (result.done === true) return this.#end()
        if (this.#gather(result.value)) return this.#pushGathered()
      }
    } catch (error) {
      this.#finished = true
      this.destroy(error as Error)
    } finally {
      this.#pulling = false
    }
  }

  /** Gather an item; true once a chunk is ready to be pushed (a large item is pushed at once). */
  #gather (item: unknown): boolean {
    const large = this.largeItem(item)
    if (large !== null) {
      this.#pushGathered()
      this.push(large)
      return true
    }
    const gathered = this.gatherItem(item)
    if (gathered >= this.chunkSize) return true
    // items of an async source may come slowly: do not hold the first of them back for long
    if (this.#async && gathered > 0 && this.#flushTimer === undefined) {
      this.#flushTimer = setTimeout(() => this.#pushGathered(), FLUSH_DELAY_MS)
    }
    return false
  }

  #pushGathered (): void {
    clearTimeout(this.#flushTimer)
    this.#flushTimer = undefined
    const gathered = this.takeGathered()
    if (gathered !== null) this.push(gathered)
  }

  #end (): void {
    this.#finished = true
    this.#pushGathered()
    this.push(null)
  }

  override _destroy (error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#flushTimer)
    if (this.#finished || this.#iterator.return === undefined) return callback(error)
    this.#finished = true
    let returned: unknown
    try {
      returned = this.#iterator.return()
    } catch (returnError) {
      return callback(error ?? returnError as Error)
    }
    if (returned instanceof Promise) {
      returned.then(() => callback(error), (returnError: unknown) => callback(error ?? returnError as Error))
    } else {
      callback(error)
    }
  }
}
