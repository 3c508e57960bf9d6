import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import t from 'tap'
import { toBody, toBuffer } from '../lib/files/content.js'
import { ContentFile } from '../lib/files/content-file.js'
import { toDownloadFile } from '../lib/files/to-download-file.js'
import { VirtualFile } from '../lib/files/virtual-file.js'
import { BytesIteratorIO } from '../lib/io/bytes-iterator-io.js'
import { TextIteratorIO } from '../lib/io/text-iterator-io.js'
import { SizeGuard } from '../lib/size-guard.js'
import type { StreamContent } from '../lib/types.js'

async function bytesOf (content: StreamContent): Promise<Buffer> {
  const body = toBody(content)
  if (Buffer.isBuffer(body)) return body
  const chunks: Buffer[] = []
  for await (const chunk of body) chunks.push(Buffer.from(chunk as Buffer))
  return Buffer.concat(chunks)
}

t.test('VirtualFile over in-memory content: size known, ranges served, read any number of times', async (t) => {
  const file = new VirtualFile('Hello wörld!\n', { name: 'hello.txt', etag: 'v1' })
  t.equal(file.size, 14)
  t.equal(file.acceptsRanges, true)
  t.equal(file.name, 'hello.txt')
  t.equal(file.etag, 'v1')
  t.equal((await bytesOf(file.stream())).toString(), 'Hello wörld!\n')
  t.equal((await bytesOf(file.stream({ start: 0, end: 4 }))).toString(), 'Hello')
  t.equal((await bytesOf(file.stream())).toString(), 'Hello wörld!\n', 'again')
  const bytes = new VirtualFile(new Uint8Array([1, 2, 3]), { size: 99 })
  t.equal(bytes.size, 3, 'the real size wins over a declared one')
  t.same([...await bytesOf(bytes.stream({ start: 1, end: 2 }))], [2, 3])
  t.equal(bytes.etag, undefined)
  file.close()
})

t.test('VirtualFile over a Blob or a File', async (t) => {
  const blob = new Blob(['0123456789'], { type: 'text/plain' })
  const file = new VirtualFile(blob)
  t.equal(file.size, 10)
  t.equal(file.contentType, 'text/plain')
  t.equal(file.acceptsRanges, true)
  t.equal((await bytesOf(file.stream({ start: 2, end: 4 }))).toString(), '234')
  t.equal((await bytesOf(file.stream())).toString(), '0123456789')
  t.equal(new VirtualFile(new Blob(['x'])).contentType, undefined, 'an empty Blob type says nothing')

  const lastModified = Date.UTC(2026, 0, 2)
  const webFile = new File(['{}'], 'data.json', { type: 'application/json', lastModified })
  const lent = new VirtualFile(webFile)
  t.equal(lent.name, 'data.json')
  t.same(lent.modifiedTime, new Date(lastModified))
  const overridden = new VirtualFile(webFile, { name: 'other.json', contentType: 'text/plain', modifiedTime: new Date(0) })
  t.equal(overridden.name, 'other.json')
  t.equal(overridden.contentType, 'text/plain')
  t.same(overridden.modifiedTime, new Date(0))
})

t.test('VirtualFile over a stream or an iterator: read once, no ranges, size only when declared', async (t) => {
  const file = new VirtualFile(Readable.from(['a', 'b']), { size: 2 })
  t.equal(file.size, 2)
  t.equal(file.acceptsRanges, false)
  t.equal((await bytesOf(file.stream())).toString(), 'ab')
  t.throws(() => file.stream(), { code: 'FST_DOWNLOADVIEW_CONTENT_CONSUMED' })

  const gen = new VirtualFile((function * () { yield 'x' })())
  t.equal(gen.size, undefined)
  t.equal((await bytesOf(gen.stream())).toString(), 'x')

  const text = new VirtualFile(new TextIteratorIO(['é'], { encoding: 'latin1' }))
  t.equal(text.charset, 'iso-8859-1', 'a TextIteratorIO lends its charset')
  t.equal(new VirtualFile(new TextIteratorIO([]), { charset: 'utf-8' }).charset, 'utf-8')

  const wasModifiedSince = (): boolean => false
  t.equal(new VirtualFile([], { wasModifiedSince }).wasModifiedSince, wasModifiedSince)
  t.throws(() => new VirtualFile(42 as unknown as string), { code: 'FST_DOWNLOADVIEW_INVALID_FILE', message: /VirtualFile content: number/ })
  t.throws(() => new VirtualFile(null as unknown as string), { message: /null/ })
})

t.test('close() releases content that was never read', async (t) => {
  const readable = Readable.from(['a'])
  const file = new VirtualFile(readable)
  file.close()
  t.ok(readable.destroyed)
  t.throws(() => file.stream(), { code: 'FST_DOWNLOADVIEW_CONTENT_CONSUMED' })
  file.close()

  let cancelled = false
  new VirtualFile(new ReadableStream({ cancel () { cancelled = true } })).close()
  await new Promise((resolve) => setImmediate(resolve))
  t.ok(cancelled)

  let returned = 0
  function * gen () { try { yield 'a' } finally { returned++ } }
  const started = gen()
  started.next()
  new VirtualFile(started).close()
  t.equal(returned, 1, 'a started generator runs its finally')
  async function * agen () { try { yield 'a' } finally { returned++ } }
  const astarted = agen()
  await astarted.next()
  new VirtualFile(astarted).close()
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(returned, 2)
  new VirtualFile(['an', 'array']).close()
})

t.test('ContentFile encodes strings and names the charset', async (t) => {
  const file = new ContentFile('Hello world!\n', { name: 'hello-world.txt' })
  t.equal(file.size, 13)
  t.equal(file.charset, 'utf-8')
  t.equal(file.acceptsRanges, true)
  const latin = new ContentFile('café', { encoding: 'latin1' })
  t.equal(latin.size, 4)
  t.equal(latin.charset, 'iso-8859-1')
  t.same([...await bytesOf(latin.stream())], [0x63, 0x61, 0x66, 0xe9])
  t.equal(new ContentFile(new Uint8Array([1, 2])).size, 2)
  t.throws(() => new ContentFile('x', { encoding: 'hex' }), { message: /ContentFile: unknown encoding "hex"; use one of utf8, utf-8/ })
  t.throws(() => new ContentFile(5 as unknown as string), { message: 'ContentFile: content must be a string or a Uint8Array' })
})

t.test('toDownloadFile accepts wrappers, custom objects and Blobs', async (t) => {
  const custom = { stream: () => 'x' }
  t.equal(toDownloadFile(custom), custom)
  t.ok(toDownloadFile(new Blob(['x'])) instanceof VirtualFile)
  for (const bad of [null, undefined, 'text', 42, {}, { stream: 'nope' }]) {
    t.throws(() => toDownloadFile(bad), { code: 'FST_DOWNLOADVIEW_INVALID_FILE', statusCode: 500 }, String(bad))
  }
  t.throws(() => toDownloadFile(new Map()), { message: /got an instance of Map/ })
})

t.test('toBody: every content kind', async (t) => {
  t.equal(toBody('é'), 'é', 'text stays text: Node encodes it as UTF-8')
  const buffer = Buffer.from('x')
  t.equal(toBuffer(buffer), buffer)
  const u8 = new Uint8Array([1, 2, 3, 4]).subarray(1, 3)
  t.same([...toBuffer(u8)], [2, 3])
  const readable = new Readable({ read () { this.push(null) } })
  t.equal(toBody(readable), readable, 'a byte stream goes as it is')
  t.ok(toBody(Readable.from(['a'])) instanceof BytesIteratorIO, 'object-mode items are gathered into bytes')
  t.ok(toBody(['a']) instanceof BytesIteratorIO)
  t.ok(toBody(new ReadableStream()) instanceof BytesIteratorIO)
  t.equal((await bytesOf((async function * () { yield 'as'; yield new Uint8Array([121, 110, 99]) })())).toString(), 'async')
  t.throws(() => toBody(42 as unknown as string), { message: /stream\(\) returning number/ })
  t.throws(() => toBody(null as unknown as string), { message: /null/ })
})

t.test('SizeGuard passes exactly the declared bytes, holding the last chunk back', async (t) => {
  async function run (chunks: Array<Buffer | string>, size: number): Promise<{ out: string[], error?: Error }> {
    const out: string[] = []
    const sink = new Writable({ write (chunk: Buffer, _encoding, callback) { out.push(chunk.toString()); callback() } })
    try {
      await pipeline(Readable.from(chunks), new SizeGuard(size), sink)
      return { out }
    } catch (error) {
      return { out, error: error as Error }
    }
  }
  t.same(await run(['ab', 'cd'], 4), { out: ['ab', 'cd'] })
  t.same(await run(['ab', '', 'cd'], 4), { out: ['ab', 'cd'] })
  const short = await run(['ab'], 4)
  t.match(short.error, { code: 'FST_DOWNLOADVIEW_SIZE_MISMATCH', message: 'The file declared 4 bytes, but its content produced 2 bytes' })
  const long = await run(['ab', 'cd', 'e'], 4)
  t.match(long.error, { message: 'The file declared 4 bytes, but its content produced more than 4 bytes' })
  t.same(long.out, ['ab'], 'the chunk completing the size never left')
  const over = await run(['abcdef'], 4)
  t.same(over.out, [])
  t.ok(over.error)
  t.same(await run(['é'], 2), { out: ['é'] }, 'strings count in bytes')
})

t.test('a large Blob is streamed, a small one read in one go', async (t) => {
  const big = Buffer.alloc(200 * 1024, 7)
  big[150000] = 9
  const file = new VirtualFile(new Blob([big]))
  t.same(await bytesOf(file.stream()), big)
  t.same(await bytesOf(file.stream({ start: 100, end: 150000 })), big.subarray(100, 150001))
  t.same([...await bytesOf(file.stream({ start: 150000, end: 150000 }))], [9])
})
