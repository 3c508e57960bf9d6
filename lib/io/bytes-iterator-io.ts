import { checkOptions, optionChecks } from '../check-options.js'
import { InvalidIteratorItem, describe } from '../errors.js'
import { IteratorReadable, highWaterMarkCheck, type IteratorReadableOptions } from './iterator-readable.js'

export type BytesIteratorIOOptions = IteratorReadableOptions

const OPTIONS = optionChecks<BytesIteratorIOOptions>('BytesIteratorIO', { highWaterMark: highWaterMarkCheck })

function asBuffer (bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/**
 * A byte stream fed by an iterable of bytes (django-downloadview's BytesIteratorIO): small items
 * are gathered into chunks of about highWaterMark bytes, large ones pass through uncopied.
 * Strings are UTF-8 encoded.
 */
export class BytesIteratorIO extends IteratorReadable {
  #parts: Buffer[] = []
  #length = 0

  constructor (iterable: Iterable<Uint8Array | string> | AsyncIterable<Uint8Array | string>, options: BytesIteratorIOOptions = {}) {
    checkOptions(OPTIONS, options)
    super(iterable, options, 'BytesIteratorIO')
  }

  protected gatherItem (item: unknown): number {
    let bytes: Buffer
    if (typeof item === 'string') bytes = Buffer.from(item)
    else if (item instanceof Uint8Array) bytes = asBuffer(item)
    else throw new InvalidIteratorItem('BytesIteratorIO', 'Uint8Array or string', describe(item))
    if (bytes.length > 0) {
      this.#parts.push(bytes)
      this.#length += bytes.length
    }
    return this.#length
  }

  protected takeGathered (): Buffer | null {
    if (this.#length === 0) return null
    const parts = this.#parts
    const chunk = parts.length === 1 ? parts[0] as Buffer : Buffer.concat(parts, this.#length)
    this.#parts = []
    this.#length = 0
    return chunk
  }

  protected largeItem (item: unknown): Buffer | null {
    return item instanceof Uint8Array && item.byteLength >= this.chunkSize ? asBuffer(item) : null
  }
}
