import { Transform, type TransformCallback } from 'node:stream'
import { SizeMismatch } from './errors.js'

/**
 * Passes exactly `size` bytes or fails. The chunk that completes the size is held back until the
 * source ends, so a client never receives a complete-looking body from content that then turns
 * out longer than declared; the failure destroys the connection instead.
 */
export class SizeGuard extends Transform {
  readonly #size: number
  #remaining: number
  #held: Buffer | null = null

  constructor (size: number) {
    super()
    this.#size = size
    this.#remaining = size
  }

  // strings written to a Transform arrive as Buffers (decodeStrings)
  override _transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const length = chunk.length
    if (length === 0) return callback()
    if (length > this.#remaining) {
      return callback(new SizeMismatch(this.#size, `more than ${this.#size} bytes`))
    }
    this.#remaining -= length
    if (this.#remaining > 0) return callback(null, chunk)
    this.#held = chunk
    callback()
  }

  override _flush (callback: TransformCallback): void {
    if (this.#remaining > 0) return callback(new SizeMismatch(this.#size, `${this.#size - this.#remaining} bytes`))
    callback(null, this.#held)
  }
}
