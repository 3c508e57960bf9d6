// The multipart layout (a pure function: tables) and SlicesReadable (parts cut from sources, one
// pass or one source per part) without HTTP: every way a source can end, fail or be left.
import { PassThrough, Readable } from 'node:stream'
import { text } from 'node:stream/consumers'
import fc from 'fast-check'
import t from 'tap'
import { multipartLayout, newBoundary } from '../lib/http/multipart.js'
import { SlicesReadable, type OpenPart, type Part } from '../lib/io/slices.js'
import { parseByteranges } from './fixtures/byteranges.js'

t.test('the layout of multipart/byteranges, byte for byte (RFC 9110 §14.6, RFC 2046 §5.1.1)', async (t) => {
  // [ranges, size, type, the heads and the tail as text]
  const table: Array<[Array<{ start: number, end: number }>, number, string, string[], string]> = [
    [[{ start: 0, end: 9 }, { start: 90, end: 99 }], 100, 'text/plain; charset=utf-8', [
      '--B\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 0-9/100\r\n\r\n',
      '\r\n--B\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes 90-99/100\r\n\r\n'
    ], '\r\n--B--\r\n'],
    [[{ start: 0, end: 0 }, { start: 5, end: 5 }, { start: 1_000_000, end: 1_999_999 }], 2_000_000, 'application/octet-stream', [
      '--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 0-0/2000000\r\n\r\n',
      '\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 5-5/2000000\r\n\r\n',
      '\r\n--B\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes 1000000-1999999/2000000\r\n\r\n'
    ], '\r\n--B--\r\n']
  ]
  for (const [ranges, size, type, heads, tail] of table) {
    const layout = multipartLayout(ranges, size, type, 'B')
    t.equal(layout.contentType, 'multipart/byteranges; boundary=B')
    t.same(layout.heads.map((head) => head.toString('latin1')), heads)
    t.equal(layout.tail.toString('latin1'), tail)
    t.equal(layout.length, heads.reduce((sum, head) => sum + head.length, 0) + ranges.reduce((sum, { start, end }) => sum + end - start + 1, 0) + tail.length)
  }
  const boundaries = new Set(Array.from({ length: 100 }, newBoundary))
  t.equal(boundaries.size, 100, 'a new boundary per response')
  for (const boundary of boundaries) t.match(boundary, /^[0-9a-f-]{1,70}$/, 'bchars only (RFC 2046 §5.1.1), at most 70')
})

const BYTES = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 0xff))
const ASCII = Buffer.from(Array.from({ length: 5000 }, (_, i) => 32 + (i % 95)))

function * cut (bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

/** The parts of `ranges` from one pass over BYTES in chunks of `size`, laid out with boundary B. */
function onePass (ranges: Array<{ start: number, end: number }>, size: number, source = Readable.from(cut(BYTES, size))): SlicesReadable {
  const layout = multipartLayout(ranges, BYTES.length, 'application/octet-stream', 'B')
  const parts: Part[] = ranges.map(({ start, end }, index) => ({ head: layout.heads[index] as Buffer, length: end - start + 1 }))
  return new SlicesReadable(parts, layout.tail, (index) => ({
    content: source,
    skip: index === 0 ? (ranges[0]?.start ?? 0) : (ranges[index]?.start ?? 0) - (ranges[index - 1]?.end ?? 0) - 1,
    exact: false
  }))
}

async function bytesOf (stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

t.test('property: one pass over a stream cut anywhere gives every part, and stops the stream after the last', async (t) => {
  await fc.assert(fc.asyncProperty(
    fc.uniqueArray(fc.nat(BYTES.length - 1), { minLength: 2, maxLength: 12 }),
    fc.integer({ min: 1, max: 6000 }),
    async (points, size) => {
      points.sort((a, b) => a - b)
      const ranges: Array<{ start: number, end: number }> = []
      for (let i = 0; i + 1 < points.length; i += 2) ranges.push({ start: points[i] as number, end: points[i + 1] as number })
      if (ranges.length === 0) return
      const source = Readable.from(cut(BYTES, size))
      const body = await bytesOf(onePass(ranges, size, source))
      const parts = ranges.length === 1 ? null : parseByteranges('multipart/byteranges; boundary=B', body)
      if (parts === null) return
      for (const [index, part] of parts.entries()) {
        const range = ranges[index] as { start: number, end: number }
        if (part.start !== range.start || !part.body.equals(BYTES.subarray(range.start, range.end + 1))) throw new Error(`part ${index}`)
      }
      if (!source.destroyed) throw new Error('the source was not stopped')
    }
  ), { numRuns: 200 })
  t.pass('200 random part sets and chunkings')
})

t.test('parts from one source each, in memory or streamed, with string chunks', async (t) => {
  const ranges = [{ start: 0, end: 99 }, { start: 1000, end: 1999 }, { start: 4000, end: 4999 }]
  const layout = multipartLayout(ranges, BYTES.length, 'application/octet-stream', 'B')
  const parts = ranges.map(({ start, end }, index) => ({ head: layout.heads[index] as Buffer, length: end - start + 1 }))
  const opened: number[] = []
  const open: OpenPart = (index) => {
    opened.push(index)
    const { start, end } = ranges[index] as { start: number, end: number }
    const slice = BYTES.subarray(start, end + 1)
    if (index === 0) return { content: slice, skip: 0, exact: true }
    if (index === 1) {
      // a stream of text (setEncoding): its strings go out UTF-8 encoded, as Node writes them
      const stream = new PassThrough()
      stream.setEncoding('utf8')
      stream.end(ASCII.subarray(start, end + 1))
      return Promise.resolve({ content: stream, skip: 0, exact: true })
    }
    return { content: slice.toString('latin1').length === slice.length ? Readable.from(cut(slice, 7)) : slice, skip: 0, exact: true }
  }
  const body = await bytesOf(new SlicesReadable(parts, layout.tail, open))
  t.same(opened, [0, 1, 2])
  t.same(parseByteranges('multipart/byteranges; boundary=B', body).map((part) => part.body.equals((part.start === 1000 ? ASCII : BYTES).subarray(part.start, part.end + 1))), [true, true, true])
})

t.test('failures: a source that errs, ends short, goes on, is destroyed by someone else; open() that throws or rejects', async (t) => {
  const part = (length: number): Part => ({ head: Buffer.from('H'), length })
  const failing: Array<[string, () => SlicesReadable, RegExp]> = [
    ['an error', () => new SlicesReadable([part(10)], Buffer.alloc(0), () => ({ content: new Readable({ read () { this.destroy(new Error('broken')) } }), skip: 0, exact: true })), /broken/],
    ['short', () => new SlicesReadable([part(10)], Buffer.alloc(0), () => ({ content: Readable.from([Buffer.alloc(5)]), skip: 0, exact: true })), /declared 10 bytes.*5 bytes for part 1 of 1/],
    ['short, in memory', () => new SlicesReadable([part(10)], Buffer.alloc(0), () => ({ content: Buffer.alloc(5), skip: 0, exact: true })), /5 bytes/],
    ['long, in memory', () => new SlicesReadable([part(10)], Buffer.alloc(0), () => ({ content: Buffer.alloc(11), skip: 0, exact: true })), /11 bytes/],
    ['long', () => new SlicesReadable([part(10)], Buffer.alloc(0), () => ({ content: Readable.from([Buffer.alloc(6), Buffer.alloc(6)]), skip: 0, exact: true })), /more than 10 bytes/],
    ['long, at the end', () => new SlicesReadable([part(10)], Buffer.alloc(0), () => ({ content: Readable.from([Buffer.alloc(10), Buffer.alloc(1)]), skip: 0, exact: true })), /more than 10 bytes/],
    ['skipped past its end', () => new SlicesReadable([part(10)], Buffer.alloc(0), () => ({ content: Readable.from([Buffer.alloc(50)]), skip: 45, exact: false })), /5 bytes/],
    ['destroyed by someone else', () => new SlicesReadable([part(10)], Buffer.alloc(0), () => {
      const source = new Readable({ read () {} })
      source.push(Buffer.alloc(3))
      setImmediate(() => source.destroy())
      return { content: source, skip: 0, exact: true }
    }), /closed before it ended/],
    ['open() throws', () => new SlicesReadable([part(10)], Buffer.alloc(0), () => { throw new Error('cannot open') }), /cannot open/],
    ['open() rejects', () => new SlicesReadable([part(10)], Buffer.alloc(0), async () => { throw new Error('cannot open') }), /cannot open/],
    ['the next part of a source cannot be opened', () => new SlicesReadable([part(2), part(2)], Buffer.alloc(0), (index) => {
      if (index === 1) throw new Error('no second part')
      return { content: Readable.from([Buffer.alloc(10)]), skip: 0, exact: false }
    }), /no second part/]
  ]
  for (const [what, make, message] of failing) {
    await t.rejects(bytesOf(make()), { message }, what)
  }
})

t.test('destroyed while a source is being opened: the source is released when it arrives', async (t) => {
  let resolve: (source: { content: Readable, skip: number, exact: boolean }) => void = () => {}
  const slices = new SlicesReadable([{ head: Buffer.alloc(0), length: undefined }], Buffer.alloc(0), () => new Promise((done) => { resolve = done }))
  slices.resume()
  await new Promise((done) => setImmediate(done))
  slices.destroy()
  // a source whose destruction errs (as an aborted request does): no failure of anyone
  const late = new Readable({ read () {}, destroy (error, callback) { callback(error ?? new Error('aborted')) } })
  resolve({ content: late, skip: 0, exact: true })
  await new Promise((done) => setImmediate(done))
  t.ok(late.destroyed, 'released')
  // in memory: nothing to release
  const memory = new SlicesReadable([{ head: Buffer.alloc(0), length: undefined }], Buffer.alloc(0), async () => ({ content: 'text', skip: 0, exact: true }))
  memory.resume()
  memory.destroy()
  await new Promise((done) => setImmediate(done))
  t.ok(memory.destroyed)
})

t.test('backpressure: a slow reader holds the source back, and gets every byte', async (t) => {
  let pulled = 0
  const source = new Readable({
    read () {
      pulled++
      this.push(pulled > 200 ? null : Buffer.alloc(1024, pulled))
    }
  })
  const slices = new SlicesReadable([{ head: Buffer.from('<'), length: undefined }], Buffer.from('>'), () => ({ content: source, skip: 0, exact: true }))
  slices.once('readable', () => {})
  await new Promise((done) => setTimeout(done, 50))
  // what both streams may buffer (their highWaterMarks: 16 KiB for the source before Node 22, 64 KiB since)
  const buffered = (slices.readableHighWaterMark + source.readableHighWaterMark) / 1024
  t.ok(pulled <= buffered + 2 && pulled < 200, `held back while nobody reads (${pulled} of 200 1 KiB chunks pulled, ${buffered} KiB may wait in buffers)`)
  const body = await text(slices)
  t.equal(body.length, 200 * 1024 + 2)
})

t.test('the less common shapes: text and unsized parts in memory, a part with no byte, a new source after a content that went on', async (t) => {
  const empty = Buffer.alloc(0)
  // [what, parts, tail, open, expected output]
  const table: Array<[string, Part[], Buffer, OpenPart, string]> = [
    ['text in memory, opened asynchronously', [{ head: Buffer.from('<'), length: 3 }], Buffer.from('>'), async () => ({ content: 'abcdef', skip: 2, exact: false }), '<cde>'],
    ['unsized, in memory', [{ head: empty, length: undefined }], empty, () => ({ content: Buffer.from('all of it'), skip: 0, exact: true }), 'all of it'],
    ['unsized, an empty stream: the head still goes out', [{ head: Buffer.from('[head]'), length: undefined }], Buffer.from('[tail]'), () => ({ content: Readable.from([]), skip: 0, exact: true }), '[head][tail]'],
    ['each part from a content of its own that goes on', [{ head: Buffer.from('1:'), length: 2 }, { head: Buffer.from(' 2:'), length: 2 }], empty, (index) => ({ content: Readable.from([Buffer.from(index === 0 ? 'abcdef' : 'uvwxyz')]), skip: 1, exact: false }), '1:bc 2:vw']
  ]
  for (const [what, parts, tail, open, expected] of table) {
    t.equal((await bytesOf(new SlicesReadable(parts, tail, open))).toString(), expected, what)
  }
})
