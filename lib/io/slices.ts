// Slices of content, one after another, each behind a head of its own: the body of a
// multipart/byteranges answer (heads: the parts' header blocks) and the range of a content that
// cannot seek (one part, no head: the bytes before it skipped, the producer stopped after it).
import { Readable } from 'node:stream'
import { ContentClosed, SizeMismatch } from '../errors.js'

export interface Part {
  /** Sent just before the part's first byte (a multipart part's header block); may be empty. */
  readonly head: Buffer
  /** The part's length in bytes; undefined: everything its content has. */
  readonly length: number | undefined
}

/** Where a part's bytes come from. */
export interface PartSource {
  /** Bytes in memory, or a byte stream (the previous part's stream, to read on from where it was). */
  readonly content: Readable | Buffer | string
  /** Bytes of the content to skip before the part's first byte. */
  readonly skip: number
  /**
   * The part is the whole rest of its content, which must end with the part's last byte (more or
   * fewer bytes are a size lie). Otherwise the content may go on: it is destroyed after the last
   * part, its producer stopped there.
   */
  readonly exact: boolean
}

/** The source of part `index`, called once per part, in order, when its turn comes. */
export type OpenPart = (index: number) => PartSource | Promise<PartSource>

const EMPTY = Buffer.alloc(0)
const ignore = (): void => {}

/**
 * A byte stream of `parts` from the sources `open` hands out, then `tail`. Sources are opened
 * lazily, one at a time (a part's source ends or is destroyed before the next one is opened,
 * unless the next part reads on from it), with backpressure: a source is paused while this
 * stream's consumer is full. Nothing is pushed before a part's first byte is in hand (its head
 * goes out with that byte), so a source that fails at once fails this stream before any output.
 * Destroying this stream destroys the source being read, and one being opened when it arrives.
 */
export class SlicesReadable extends Readable {
  readonly #parts: readonly Part[]
  readonly #tail: Buffer
  readonly #open: OpenPart
  #index = -1
  #source: Readable | undefined
  /** A part's source is being opened (a promise): nothing to read until it arrives. */
  #opening = false
  #done = false
  /** The consumer said it is full (push() returned false): sources wait for the next _read(). */
  #full = false
  #exact = true
  #toSkip = 0
  #left = 0
  #taken = 0
  /** The current part's head, until its first byte goes out with it. */
  #head: Buffer | undefined
  /** Bytes of the last chunk read past a part's end, for the next part of the same source. */
  #leftover: Buffer = EMPTY

  constructor (parts: readonly Part[], tail: Buffer, open: OpenPart) {
    // as fs and the iterator streams read: one 64 KiB chunk in hand does not pause the source
    super({ highWaterMark: 64 * 1024 })
    this.#parts = parts
    this.#tail = tail
    this.#open = open
  }

  override _read (): void {
    this.#full = false
    try {
      while (this.#source === undefined && !this.#opening && !this.#done) {
        if (!this.#nextPart()) return
      }
      if (!this.#opening) this.#source?.resume()
    } catch (error) {
      this.destroy(error as Error)
    }
  }

  /** Opens the next part (or ends); false when the consumer is full or a source is awaited. */
  #nextPart (): boolean {
    const index = ++this.#index
    if (index === this.#parts.length) {
      this.#done = true
      this.push(this.#tail.length > 0 ? this.#tail : null)
      if (this.#tail.length > 0) this.push(null)
      return false
    }
    const opened = this.#open(index)
    if (!(opened instanceof Promise)) return this.#start(opened)
    this.#opening = true
    opened.then((source) => {
      this.#opening = false
      if (this.destroyed) return release(source.content)
      if (this.#start(source)) this._read()
    }, (error: unknown) => {
      this.#opening = false
      this.destroy(error as Error)
    })
    return false
  }

  /** Starts a part from its source; false when the consumer is full or the source streams. */
  #start ({ content, skip, exact }: PartSource): boolean {
    const { head, length } = this.#parts[this.#index] as Part
    if (!(content instanceof Readable)) {
      const bytes = typeof content === 'string' ? Buffer.from(content) : content
      const end = length === undefined ? bytes.length : skip + length
      if (bytes.length < end || (exact && bytes.length !== end)) throw this.#mismatch(bytes.length - skip)
      return this.#push(head.length > 0 ? Buffer.concat([head, bytes.subarray(skip, end)]) : bytes.subarray(skip, end))
    }
    this.#head = head
    this.#toSkip = skip
    this.#left = length ?? Infinity
    this.#taken = 0
    this.#exact = exact
    if (content !== this.#source) {
      // a source of its own: the previous one (a content that went on) is done with, and what
      // was read past its part is not this source's
      const previous = this.#source
      this.#detach()
      previous?.destroy()
      this.#leftover = EMPTY
      this.#source = content
      content.on('data', this.#onData).on('end', this.#onEnd).on('error', this.#onError).on('close', this.#onClose)
    }
    const leftover = this.#leftover
    this.#leftover = EMPTY
    if (leftover.length > 0) this.#onData(leftover)
    return false
  }

  readonly #onData = (chunk: Buffer | string): void => {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    while (data.length > 0) {
      if (this.#toSkip > 0) {
        const skipped = Math.min(this.#toSkip, data.length)
        this.#toSkip -= skipped
        data = data.subarray(skipped)
        continue
      }
      if (this.#left === 0) {
        // an exact part's content goes on past its end: a size lie
        if (this.#exact) return void this.destroy(this.#mismatch(`more than ${this.#taken}`))
        this.#leftover = data
        break
      }
      const taken = data.length <= this.#left ? data : data.subarray(0, this.#left)
      this.#left -= taken.length
      this.#taken += taken.length
      data = data.subarray(taken.length)
      const head = this.#head
      this.#head = undefined
      if (!this.#push(head === undefined || head.length === 0 ? taken : Buffer.concat([head, taken]))) this.#source?.pause()
    }
    // a part of a content that goes on is over with its last byte; an exact one waits for the end
    if (this.#left === 0 && !this.#exact) this.#partDone()
  }

  readonly #onEnd = (): void => {
    // the content ended: the part must be complete (an unsized part is, whatever it held)
    if (this.#left !== 0 && this.#left !== Infinity) return void this.destroy(this.#mismatch(this.#taken))
    this.#detach()
    this.#partDone()
  }

  readonly #onError = (error: Error): void => { this.destroy(error) }

  readonly #onClose = (): void => {
    // destroyed by someone else before it ended
    if (this.#source !== undefined && !this.#source.readableEnded) this.destroy(this.#source.errored ?? new ContentClosed())
  }

  /** The current part is complete: its head goes out even if it held no byte, then the next part. */
  #partDone (): void {
    const head = this.#head
    this.#head = undefined
    if (head !== undefined && head.length > 0) this.#push(head)
    const source = this.#source
    // the last part of a content that goes on: its producer is stopped here
    if (source !== undefined && this.#index === this.#parts.length - 1) {
      this.#detach()
      source.destroy()
    }
    if (this.#source !== undefined) {
      // the next part reads on from the same source: opened now, so the leftover is not lost
      this.#source.pause()
      this.#nextPartOfSource()
      return
    }
    // a full consumer calls _read() when it wants more
    if (!this.#full) this._read()
  }

  /** The part after a part of a content that goes on: its source must be that content again. */
  #nextPartOfSource (): void {
    const source = this.#source
    try {
      this.#nextPart()
    } catch (error) {
      this.destroy(error as Error)
      return
    }
    if (this.#source === source && !this.destroyed && !this.#full && !this.#opening) source?.resume()
  }

  #push (chunk: Buffer): boolean {
    const more = this.push(chunk)
    if (!more) this.#full = true
    return more
  }

  #detach (): void {
    const source = this.#source
    if (source === undefined) return
    this.#source = undefined
    source.off('data', this.#onData).off('end', this.#onEnd).off('error', this.#onError).off('close', this.#onClose)
    // an error the source still emits (its abort, once destroyed) is no failure of this stream
    source.on('error', ignore)
  }

  #mismatch (taken: number | string): Error {
    const { length } = this.#parts[this.#index] as Part
    return new SizeMismatch(length as number, `${taken} bytes for part ${this.#index + 1} of ${this.#parts.length}`)
  }

  override _destroy (error: Error | null, callback: (error?: Error | null) => void): void {
    const source = this.#source
    this.#detach()
    source?.destroy()
    callback(error)
  }
}

/** Content opened for a stream destroyed meanwhile: released at once. */
function release (content: Readable | Buffer | string): void {
  if (content instanceof Readable) content.on('error', ignore).destroy()
}
