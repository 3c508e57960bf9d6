// The archive's bytes in batches: yazl writes each entry as several small chunks (its local header,
// its data, its data descriptor), and a socket write per chunk costs a system call each: measured
// as most of the time of an archive of small entries over HTTP. Whatever yazl wrote within one turn
// of the event loop goes out as one chunk.
import { Readable } from 'node:stream'

export class Batched extends Readable {
  readonly #source: Readable
  /** The consumer asked for more (_read) and has not said it is full since. */
  #wanted = false
  #scheduled = false

  constructor (source: Readable) {
    super({ highWaterMark: 64 * 1024 })
    this.#source = source
    // paused mode: 'readable' says there are bytes, read() takes all of them at once
    source.on('readable', () => { if (this.#wanted) this.#schedule() })
    source.on('end', () => { this.push(null) })
  }

  override _read (): void {
    this.#wanted = true
    this.#schedule()
  }

  #schedule (): void {
    if (this.#scheduled) return
    this.#scheduled = true
    setImmediate(this.#flush)
  }

  readonly #flush = (): void => {
    this.#scheduled = false
    while (this.#wanted && !this.destroyed) {
      const chunk = this.#source.read() as Buffer | null
      if (chunk === null) return
      this.#wanted = this.push(chunk)
    }
  }

  override _destroy (error: Error | null, callback: (error?: Error | null) => void): void {
    this.#source.destroy()
    callback(error)
  }
}
