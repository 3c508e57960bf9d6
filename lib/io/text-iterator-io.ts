import { InvalidIteratorItem, describe } from '../errors.js'
import { textEncoding, type TextEncoding } from '../encoding.js'
import { IteratorReadable, type IteratorReadableOptions } from './iterator-readable.js'

export interface TextIteratorIOOptions extends IteratorReadableOptions {
  /** utf-8 (default), utf-16le, latin1 (iso-8859-1) or ascii. */
  encoding?: string
}

/**
 * A byte stream fed by an iterable of strings (django-downloadview's TextIteratorIO):
 * small strings are joined and encoded once per chunk of about highWaterMark bytes.
 */
export class TextIteratorIO extends IteratorReadable {
  readonly #encoding: TextEncoding
  #text = ''

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
    if (typeof item !== 'string') throw new InvalidIteratorItem('TextIteratorIO', 'string', describe(item))
    // V8 concatenates into a rope; Buffer.from flattens it once per chunk.
    this.#text += item
    return this.#text.length
  }

  protected takeGathered (): Buffer | null {
    if (this.#text === '') return null
    const chunk = Buffer.from(this.#text, this.#encoding.node)
    this.#text = ''
    return chunk
  }

  protected largeItem (): null {
    return null
  }
}
