import { anyString, checkOptions, optionChecks } from '../check-options.js'
import { InvalidIteratorItem, describe } from '../errors.js'
import { UTF8, textEncoding, type TextEncoding } from '../encoding.js'
import { IteratorReadable, highWaterMarkCheck, type IteratorReadableOptions } from './iterator-readable.js'

export interface TextIteratorIOOptions extends IteratorReadableOptions {
  /** utf-8 (default), utf-16le, latin1 (iso-8859-1) or ascii. */
  encoding?: string | undefined
}

// UTF-16 high (leading) surrogates, U+D800 to U+DBFF (RFC 2781 §2.2)
const HIGH_SURROGATE_FIRST = 0xd800
const HIGH_SURROGATE_LAST = 0xdbff

const OPTIONS = optionChecks<TextIteratorIOOptions>('TextIteratorIO', { encoding: anyString, highWaterMark: highWaterMarkCheck })

function invalidItem (item: unknown): Error {
  return new InvalidIteratorItem('TextIteratorIO', 'string', describe(item))
}

/**
 * A byte stream fed by an iterable of strings (django-downloadview's TextIteratorIO):
 * small strings are joined and encoded once per chunk of about highWaterMark bytes.
 * Joining an array (not `+=`) leaves no rope cells behind: measured, it halves the heap a long
 * export makes V8 grow (21 instead of 42 MiB of RSS for 1 GiB) for about 4% more time.
 *
 * A chunk never ends between the two halves of a surrogate pair: in UTF-8 a surrogate encodes
 * only as part of its pair (RFC 3629 §3), and a high surrogate encoded alone would be U+FFFD.
 * So a chunk whose text ends with a high surrogate keeps it back for the next chunk; one that
 * ends the content unpaired is encoded as Buffer.from encodes it, U+FFFD. UTF-16LE, latin1 and
 * ascii encode each UTF-16 unit on its own: nothing is kept back for them.
 */
export class TextIteratorIO extends IteratorReadable {
  readonly #encoding: TextEncoding
  /** Does a high surrogate at the end of a chunk wait for its pair (UTF-8 only)? */
  readonly #pairs: boolean
  #parts: string[] = []
  /** UTF-16 units gathered, a kept-back high surrogate included. */
  #length = 0

  constructor (iterable: Iterable<string> | AsyncIterable<string>, options: TextIteratorIOOptions = {}) {
    checkOptions(OPTIONS, options)
    const encoding = textEncoding(options.encoding ?? 'utf-8')
    if (encoding === undefined) throw new TypeError(`TextIteratorIO: unknown text encoding ${JSON.stringify(options.encoding)}`)
    // a chunk is gathered to two units at least: a kept-back high surrogate is never a chunk alone
    // (a chunk taken with nothing to push would stall the stream)
    super(iterable, options.highWaterMark === 1 ? { ...options, highWaterMark: 2 } : options, 'TextIteratorIO')
    this.#encoding = encoding
    this.#pairs = encoding === UTF8
  }

  /** The charset the bytes are in, e.g. 'utf-8'. */
  get charset (): string {
    return this.#encoding.charset
  }

  protected gatherItem (item: unknown): number {
    if (typeof item !== 'string') throw invalidItem(item)
    this.#parts.push(item)
    this.#length += item.length
    return this.#length
  }

  // the generic loop over gatherItem, inlined: a row costs one push
  protected override gatherSync (iterator: Iterator<unknown>): boolean {
    const parts = this.#parts
    const chunkSize = this.chunkSize
    let length = this.#length
    try {
      for (;;) {
        const result = iterator.next()
        if (result.done === true) return true
        const item = result.value
        if (typeof item !== 'string') throw invalidItem(item)
        parts.push(item)
        length += item.length
        if (length >= chunkSize) return false
      }
    } finally {
      this.#length = length
    }
  }

  // one char code looked at per chunk: a trailing high surrogate waits for the next chunk
  protected takeGathered (): Buffer | null {
    const length = this.#length
    if (length === 0) return null
    const text = this.#parts.join('')
    const last = text.charCodeAt(length - 1)
    if (this.#pairs && last >= HIGH_SURROGATE_FIRST && last <= HIGH_SURROGATE_LAST) {
      this.#parts = [String.fromCharCode(last)]
      this.#length = 1
      // a full chunk holds two units at least (see the constructor); the flush of a slow async
      // source, or the end, may find the high surrogate alone: nothing to push yet (push(null)
      // lets go of it at the end)
      return length === 1 ? null : Buffer.from(text.slice(0, -1), this.#encoding.node)
    }
    this.#parts = []
    this.#length = 0
    return Buffer.from(text, this.#encoding.node)
  }

  /** The end of the content (null) lets go of a high surrogate still waiting for its pair: U+FFFD. */
  override push (chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null && this.#length !== 0) {
      super.push(Buffer.from(this.#parts.join(''), this.#encoding.node))
      this.#parts = []
      this.#length = 0
    }
    return super.push(chunk, encoding)
  }

  protected largeItem (): null {
    return null
  }
}
