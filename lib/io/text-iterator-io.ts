import { InvalidIteratorItem, describe } from '../errors.js'
import { textEncoding, type TextEncoding } from '../encoding.js'
import { IteratorReadable, type IteratorReadableOptions } from './iterator-readable.js'

export interface TextIteratorIOOptions extends IteratorReadableOptions {
  /** utf-8 (default), utf-16le, latin1 (iso-8859-1) or ascii. */
  encoding?: string
}

function invalidItem (item: unknown): Error {
  return new InvalidIteratorItem('TextIteratorIO', 'string', describe(item))
}

/**
 * A byte stream fed by an iterable of strings (django-downloadview's TextIteratorIO):
 * small strings are joined and encoded once per chunk of about highWaterMark bytes.
 * Joining an array (not `+=`) leaves no rope cells behind: measured, it halves the heap a long
 * export makes V8 grow (21 instead of 42 MiB of RSS for 1 GiB) for about 4% more time.
 */
export class TextIteratorIO extends IteratorReadable {
  readonly #encoding: TextEncoding
  #parts: string[] = []
  #length = 0

  constructor (iterable: Iterable<string> | AsyncIterable<string>, options: TextIteratorIOOptions = {}) {
    const encoding = textEncoding(options.encoding ?? 'utf-8')
    if (encoding === undefined) throw new TypeError(`TextIteratorIO: unknown text encoding ${JSON.stringify(options.encoding)}`)
    super(iterable, options, 'TextIteratorIO')
    this.#encoding = encoding
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

  protected takeGathered (): Buffer | null {
    if (this.#length === 0) return null
    const chunk = Buffer.from(this.#parts.join(''), this.#encoding.node)
    this.#parts = []
    this.#length = 0
    return chunk
  }

  protected largeItem (): null {
    return null
  }
}
