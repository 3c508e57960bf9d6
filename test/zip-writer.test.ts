// lib/zip/yazl-writer.ts against yazl itself: what this package relies on in yazl 3.3 (its
// entries' internal states, end()'s size callback) and the traps it works around (the prediction
// 76 bytes too large past a 64 KiB central directory). A yazl release that fixes or changes them
// fails here first.
import { Readable, finished } from 'node:stream'
import t from 'tap'
import { ZipFile as Yazl } from 'yazl'
import { YazlWriter, predictLength } from '../lib/zip/yazl-writer.js'
import { eventually } from './helpers.js'
import { readsBack } from './zip-readers.js'

type Entry = { name: string, content: Buffer }

const entries = (count: number, pad: number): Entry[] =>
  Array.from({ length: count }, (_, i) => ({ name: `${String(i).padStart(pad, '0')}.bin`, content: Buffer.alloc(i % 7, i) }))

/** The archive YazlWriter writes of `list`, each entry added when the previous one's content ended. */
async function write (list: Entry[], compress = false): Promise<Buffer> {
  const writer = new YazlWriter()
  const chunks: Buffer[] = []
  writer.output.on('data', (chunk: Buffer) => chunks.push(chunk))
  const ended = new Promise((resolve) => writer.output.on('end', resolve))
  for (const { name, content } of list) {
    const stream = Readable.from([content], { objectMode: false })
    const done = new Promise((resolve) => finished(stream, resolve))
    writer.add(name, stream, { mtime: new Date(0), compress })
    await done
  }
  writer.end()
  await ended
  return Buffer.concat(chunks)
}

/** yazl's own prediction and archive, without the workaround (end() without forceZip64Format). */
async function plainYazl (list: Entry[]): Promise<{ predicted: number, written: number }> {
  const zip = new Yazl()
  let written = 0
  zip.outputStream.on('data', (chunk: Buffer) => { written += chunk.length })
  const ended = new Promise((resolve) => zip.outputStream.on('end', resolve))
  for (const { name, content } of list) zip.addReadStreamLazy(name, { size: content.length, compress: false }, (callback) => callback(null, Readable.from([content], { objectMode: false })))
  let predicted = -1
  const end = zip.end as unknown as (options: object, callback: (size: number) => void) => void
  end.call(zip, {}, (size) => { predicted = size })
  await ended
  return { predicted, written }
}

t.test('yazl 3.3\'s trap: predicted 76 bytes too large past a 64 KiB central directory', async (t) => {
  const small = await plainYazl(entries(10, 8))
  t.equal(small.predicted, small.written, 'a small central directory: the prediction is right')
  const trap = await plainYazl(entries(1000, 64))
  t.equal(trap.predicted - trap.written, 76, 'a 123 KB central directory, 1,000 entries, under 4 GiB: 76 bytes too many (a ZIP64 end record and locator it never writes)')
})

t.test('predictLength() is the length YazlWriter writes, below, at and past the trap', async (t) => {
  for (const [count, pad] of [[0, 1], [1, 1], [10, 8], [480, 64], [1000, 64], [2000, 8]] as const) {
    const list = entries(count, pad)
    const archive = await write(list)
    t.equal(predictLength(list.map(({ name, content }) => ({ name, size: content.length }))), archive.length, `${count} entries, names of ${pad + 4} bytes: ${archive.length} bytes`)
  }
  const list = entries(1000, 64)
  await readsBack(t, await write(list), list.map(({ name, content }) => ({ name, content })))
})

t.test('what YazlWriter reaches into: yazl\'s entries and their states, end()\'s size callback', async (t) => {
  const zip = new Yazl()
  const internals = zip as unknown as { entries: Array<{ state: number }> }
  zip.outputStream.resume()
  const stream = Readable.from([Buffer.from('abc')], { objectMode: false })
  zip.addReadStreamLazy('a.txt', (callback) => callback(null, stream))
  t.ok(Array.isArray(internals.entries), 'entries is an array')
  t.equal(internals.entries.length, 1)
  await new Promise((resolve) => finished(stream, resolve))
  t.equal(internals.entries[0]?.state, 2, 'an entry being written: FILE_DATA_IN_PROGRESS (2)')
  await eventually(() => internals.entries[0]?.state !== 2)
  t.equal(internals.entries[0]?.state, 3, 'a written entry\'s state is FILE_DATA_DONE (3)')
  let size: unknown
  const end = zip.end as unknown as (options: object, callback: (size: number) => void) => void
  end.call(zip, {}, (total) => { size = total })
  t.equal(size, -1, 'a streamed entry without a declared size: -1, no prediction')
  const sized = new Yazl()
  sized.addReadStreamLazy('a.txt', { size: 3, compress: false }, () => {})
  const sizedEnd = sized.end as unknown as (options: object, callback: (size: number) => void) => void
  sizedEnd.call(sized, {}, (total) => { size = total })
  t.equal(typeof size, 'number', 'end()\'s callback gets the size, at once (@types/yazl types it without one)')
})

t.test('YazlWriter: deflated entries, and many entries in linear time', async (t) => {
  const text = Buffer.from('a compressible line\n'.repeat(1000))
  const deflated = await write([{ name: 'a.txt', content: text }], true)
  t.ok(deflated.length < text.length / 10, `deflated: ${deflated.length} bytes for ${text.length}`)
  await readsBack(t, deflated, [{ name: 'a.txt', content: text }], { method: 8 })
  // yazl rescans its entries per entry (O(n²)): the writer keeps the written ones aside
  const list = entries(20_000, 5)
  const started = process.hrtime.bigint()
  const archive = await write(list)
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  t.equal(archive.length, predictLength(list.map(({ name, content }) => ({ name, size: content.length }))), `20,000 entries: ${archive.length} bytes in ${seconds.toFixed(2)} s`)
})
