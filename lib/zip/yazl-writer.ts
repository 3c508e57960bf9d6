// yazl 3.3 as this package uses it: entries added one at a time, each one a byte stream stored or
// deflated behind a data descriptor, and the traps of that version worked around in one place:
// 1. end()'s size prediction adds a ZIP64 end of central directory (76 bytes) as soon as the central
//    directory reaches 0xffff bytes, while the writer adds it only past 4 GiB (or 65,535 entries):
//    an archive whose central directory is that large is ended with `forceZip64Format`, which
//    makes both agree (readers follow the ZIP64 records; `unzip -t`, Python and bsdtar do).
// 2. Each entry added or finished rescans every entry before it (O(n²): ~20 s for 65,536 entries):
//    finished entries are kept aside while the archive streams, and handed back before end(),
//    which writes the central directory from them. This reaches into yazl's `entries` and each
//    entry's `state`; test/zip-writer.test.ts fails if a yazl release changes them, and
//    package.json pins yazl exactly (3.3.1, no range) so a release cannot arrive unseen.
// 3. `addReadStreamLazy` never listens for its stream's 'error': the caller watches every stream
//    it hands over (lib/zip/entry-content.ts).
// 4. @types/yazl types end()'s callback without the size it is called with, and end()'s options
//    as all required: typed here as yazl 3.3.1 defines them.
import type { Readable } from 'node:stream'
import { ZipFile as Yazl } from 'yazl'
import { Batched } from './batched.js'

/** yazl's end(), as its source defines it. */
type End = (options: { forceZip64Format?: boolean }, calculatedTotalSizeCallback?: (totalSize: number) => void) => void

/** What this module reads of yazl's internals (trap 2). */
interface YazlInternals {
  entries: Array<{ state: number }>
}

/** yazl's Entry.FILE_DATA_DONE: its data and data descriptor are written. */
const FILE_DATA_DONE = 3
/** A central directory record without its name: 46 fixed bytes, and yazl's 9-byte timestamp field. */
const CENTRAL_RECORD = 46 + 9
/** Where yazl's prediction starts counting a ZIP64 end of central directory (trap 1). */
const PREDICTED_ZIP64 = 0xffff

/** The options of one entry. */
export interface EntryOptions {
  readonly mtime: Date
  readonly compress: boolean
}

/**
 * An archive being written: `add()` an entry when the previous one's content has ended, then
 * `end()`. Its bytes come out of `output`, with backpressure from it to the entry being read.
 */
export class YazlWriter {
  readonly #zip = new Yazl()
  readonly output: Readable
  /** Entries written whole, kept out of yazl's list until end() (trap 2). */
  readonly #written: Array<{ state: number }> = []
  /** The central directory's size, but for ZIP64 extra fields (which only archives past 4 GiB have). */
  #central = 0

  constructor () {
    this.output = new Batched(this.#zip.outputStream as Readable)
  }

  /** Adds an entry; yazl writes its local header, then reads `content`, once the entries before it are written. */
  add (name: string, content: Readable, { mtime, compress }: EntryOptions): void {
    const { entries } = this.#zip as unknown as YazlInternals
    while (entries[0]?.state === FILE_DATA_DONE) this.#written.push(entries.shift() as { state: number })
    this.#central += CENTRAL_RECORD + Buffer.byteLength(name)
    // yazl keeps each entry's function until the archive ends: it lets go of the stream, which
    // would otherwise stay in memory with every entry's buffers
    let stream: Readable | undefined = content
    this.#zip.addReadStreamLazy(name, { mtime, compress }, (callback) => {
      callback(null, stream as Readable)
      stream = undefined
    })
  }

  /** No more entries: the central directory follows the last one. */
  end (): void {
    const zip = this.#zip as unknown as YazlInternals
    zip.entries = [...this.#written, ...zip.entries]
    this.#written.length = 0
    endArchive(this.#zip, this.#central)
  }
}

function endArchive (zip: Yazl, central: number, sized?: (totalSize: number) => void): void {
  (zip.end as unknown as End).call(zip, { forceZip64Format: central >= PREDICTED_ZIP64 }, sized)
}

/**
 * The exact length of an archive of stored entries of these names and sizes, as yazl writes it,
 * without reading any entry: yazl predicts it from entries it is never handed the content of.
 */
export function predictLength (entries: ReadonlyArray<{ readonly name: string, readonly size: number }>): number | undefined {
  const zip = new Yazl()
  let central = 0
  // yazl asks the first entry for its stream at once: it never gets one, nothing is written
  const never = (): void => {}
  for (const { name, size } of entries) {
    central += CENTRAL_RECORD + Buffer.byteLength(name)
    zip.addReadStreamLazy(name, { size, compress: false }, never)
  }
  let length: number | undefined
  // every size is known: the prediction is made at once, within end()
  endArchive(zip, central, (totalSize) => { length = totalSize })
  return length
}
