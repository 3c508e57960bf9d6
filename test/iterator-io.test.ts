import { once } from 'node:events'
import { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import fc from 'fast-check'
import t from 'tap'
import { BytesIteratorIO } from '../lib/io/bytes-iterator-io.js'
import { TextIteratorIO } from '../lib/io/text-iterator-io.js'

// flowing mode sees the chunks as pushed (read() would join what is buffered)
async function chunksOf (stream: Readable): Promise<Buffer[]> {
  const chunks: Buffer[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk))
  await once(stream, 'end')
  return chunks
}

t.test('TextIteratorIO joins small strings into chunks of about highWaterMark bytes', async (t) => {
  function * rows () {
    for (let i = 0; i < 10000; i++) yield `${i},user${i}@example.com\n`
  }
  const expected = Buffer.from([...rows()].join(''))
  const chunks = await chunksOf(new TextIteratorIO(rows(), { highWaterMark: 16384 }))
  t.same(Buffer.concat(chunks), expected)
  t.ok(chunks.length <= Math.ceil(expected.length / 16384) + 1, `${chunks.length} chunks for ${expected.length} bytes`)
  for (const chunk of chunks.slice(0, -1)) t.ok(chunk.length >= 16384 && chunk.length < 16384 + 64, `chunk of ${chunk.length}`)
})

t.test('the seed example, sync and async', async (t) => {
  function * generateHello () { yield 'Hello '; yield 'world!'; yield '\n' }
  async function * asyncHello () { yield 'Hello '; yield ''; yield 'world!'; yield '\n' }
  t.same(Buffer.concat(await chunksOf(new TextIteratorIO(generateHello()))).toString(), 'Hello world!\n')
  t.same(Buffer.concat(await chunksOf(new TextIteratorIO(asyncHello()))).toString(), 'Hello world!\n')
  t.same(await chunksOf(new TextIteratorIO([])), [], 'empty')
  t.same(Buffer.concat(await chunksOf(new TextIteratorIO(['é']))), Buffer.from('é', 'utf8'))
})

t.test('TextIteratorIO encodings', async (t) => {
  const latin1 = new TextIteratorIO(['caf', 'é'], { encoding: 'ISO-8859-1' })
  t.equal(latin1.charset, 'iso-8859-1')
  t.same(Buffer.concat(await chunksOf(latin1)), Buffer.from([0x63, 0x61, 0x66, 0xe9]))
  const utf16 = new TextIteratorIO(['hi'], { encoding: 'utf16le' })
  t.equal(utf16.charset, 'utf-16le')
  t.same(Buffer.concat(await chunksOf(utf16)), Buffer.from('hi', 'utf16le'))
  t.equal(new TextIteratorIO([]).charset, 'utf-8')
  t.throws(() => new TextIteratorIO([], { encoding: 'base64' }), { message: /TextIteratorIO: unknown text encoding "base64"/ })
})

/** `text` cut into items at the given offsets (UTF-16 units, so a cut may split a surrogate pair). */
function cut (text: string, at: number[]): string[] {
  const offsets = [...new Set(at.map((offset) => offset % (text.length + 1)))].sort((a, b) => a - b)
  const items: string[] = []
  let start = 0
  for (const offset of [...offsets, text.length]) {
    items.push(text.slice(start, offset))
    start = offset
  }
  return items
}

async function * asyncOf (items: string[]): AsyncGenerator<string> {
  yield * items
}

t.test('a surrogate pair split across a chunk boundary is not corrupted (RFC 3629 §3)', async (t) => {
  const text = '📄'.repeat(1e5)
  const items = cut(text, Array.from({ length: Math.ceil(text.length / 101) }, (_, i) => i * 101))
  const body = Buffer.concat(await chunksOf(new TextIteratorIO(items)))
  t.equal(body.length, 400000)
  t.notOk(body.toString().includes('\uFFFD'), 'no replacement character')
  t.ok(body.equals(Buffer.from(text)))

  // a chunk ending with a high surrogate keeps it for the next one
  const chunks = await chunksOf(new TextIteratorIO(['a\uD83D', '\uDCC4b'], { highWaterMark: 2 }))
  t.same(chunks.map(String), ['a', '📄b'])
  // UTF-16LE encodes each half on its own: nothing kept back
  const utf16 = await chunksOf(new TextIteratorIO(['a\uD83D', '\uDCC4b'], { encoding: 'utf-16le', highWaterMark: 2 }))
  t.same(utf16.map((chunk) => chunk.length), [4, 4])
  t.ok(Buffer.concat(utf16).equals(Buffer.from('a📄b', 'utf16le')))
  // a highWaterMark of 1 gathers two units: a kept-back half is never a chunk alone
  const one = await chunksOf(new TextIteratorIO(['\uD83D', '', '\uDCC4', '\uD83D', '\uDCC4'], { highWaterMark: 1 }))
  t.same(Buffer.concat(one), Buffer.from('📄📄'))
})

t.test('a lone surrogate is U+FFFD, as Buffer.from makes it, even at the very end', async (t) => {
  const table: Array<[string[], number | undefined]> = [
    [['ab\uD83D'], undefined],
    [['\uD83D'], undefined],
    [['\uD83D'], 1],
    [['\uD83D', '\uD83D'], 2],
    [['\uD83D', 'x', '\uDCC4'], 2],
    [['\uDCC4', '\uD83D'], 1],
    [['x\uD83D', ''], 2]
  ]
  for (const [items, highWaterMark] of table) {
    const expected = Buffer.from(items.join(''))
    t.same(Buffer.concat(await chunksOf(new TextIteratorIO(items, { highWaterMark }))), expected, `${JSON.stringify(items)}, highWaterMark ${String(highWaterMark)}`)
    t.same(Buffer.concat(await chunksOf(new TextIteratorIO(asyncOf(items), { highWaterMark }))), expected, `async ${JSON.stringify(items)}`)
  }
})

t.test('a slow async source flushed between the halves of a pair', async (t) => {
  async function * slow (items: string[]): AsyncGenerator<string> {
    for (const item of items) {
      yield item
      // longer than the flush delay: what is gathered is pushed before the next item
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
  }
  const chunks = await chunksOf(new TextIteratorIO(slow(['a\uD83D', '\uDCC4', '\uD83D', '', '\uDCC4z'])))
  t.same(chunks.map(String), ['a', '📄', '📄z'])
  t.same(Buffer.concat(await chunksOf(new TextIteratorIO(slow(['x', '\uD83D'])))), Buffer.from('x\uD83D'))
})

t.test('property: the bytes are Buffer.from(text), however the text is cut and chunked', async (t) => {
  const unit = fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
    { weight: 4, arbitrary: fc.integer({ min: 0x10000, max: 0x10ffff }).map((code) => String.fromCodePoint(code)) },
    { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)) },
    { weight: 2, arbitrary: fc.constantFrom('a', ',', '\n', 'é') }
  )
  const highWaterMark = fc.oneof(fc.integer({ min: 1, max: 16 }), fc.integer({ min: 17, max: 70000 }))
  await fc.assert(fc.asyncProperty(
    fc.string({ unit, maxLength: 400 }), fc.array(fc.nat(), { maxLength: 60 }), highWaterMark,
    fc.constantFrom('utf-8', 'utf-16le', 'latin1', 'ascii'), fc.boolean(),
    async (text, at, highWaterMark, encoding, async) => {
      const items = cut(text, at)
      const stream = new TextIteratorIO(async ? asyncOf(items) : items, { highWaterMark, encoding })
      const body = Buffer.concat(await chunksOf(stream))
      return body.equals(Buffer.from(text, encoding === 'utf-8' ? 'utf8' : encoding as BufferEncoding))
    }), { numRuns: 1000 })
  t.pass('1000 texts')
})

t.test('a wrong item errors the stream with a message naming its type', async (t) => {
  await t.rejects(chunksOf(new TextIteratorIO(['ok', 42 as unknown as string])), { code: 'FST_DOWNLOADVIEW_INVALID_ITEM', message: 'TextIteratorIO expects string items, got number' })
  await t.rejects(chunksOf(new TextIteratorIO([Buffer.from('x') as unknown as string])), { message: /got an instance of Buffer/ })
  async function * asyncItems (): AsyncGenerator<string> { yield 'ok'; yield 7 as unknown as string }
  await t.rejects(chunksOf(new TextIteratorIO(asyncItems())), { message: 'TextIteratorIO expects string items, got number' })
  await t.rejects(chunksOf(new BytesIteratorIO([{} as Uint8Array])), { message: 'BytesIteratorIO expects Uint8Array or string items, got an instance of Object' })
  await t.rejects(chunksOf(new BytesIteratorIO([Object.create(null) as Uint8Array])), { message: /got an object/ })
  await t.rejects(chunksOf(new BytesIteratorIO([null as unknown as Uint8Array])), { message: /got null/ })
})

t.test('bad constructor arguments', async (t) => {
  t.throws(() => new TextIteratorIO(42 as unknown as string[]), { message: 'TextIteratorIO expects an iterable or an async iterable' })
  t.throws(() => new BytesIteratorIO(null as unknown as Uint8Array[]), { message: 'BytesIteratorIO expects an iterable or an async iterable' })
  t.throws(() => new BytesIteratorIO('abc' as unknown as Uint8Array[]), { message: /iterable/ })
  // options: every case is in constructor-options.test.ts
  t.throws(() => new TextIteratorIO([], { highWaterMark: 0 }), {
    code: 'FST_DOWNLOADVIEW_INVALID_OPTION',
    message: 'Invalid option "TextIteratorIO.highWaterMark": must be a positive integer, got 0'
  })
  t.throws(() => new BytesIteratorIO([], { highWaterMark: 1.5 }), { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: /"BytesIteratorIO.highWaterMark": .* got 1.5$/ })
})

t.test('errors of the iterator become stream errors', async (t) => {
  function * failing () { yield 'a'; throw new Error('sync boom') }
  async function * failingAsync () { yield 'a'; throw new Error('async boom') }
  await t.rejects(chunksOf(new TextIteratorIO(failing())), { message: 'sync boom' })
  await t.rejects(chunksOf(new TextIteratorIO(failingAsync())), { message: 'async boom' })
})

t.test('items are pulled only on demand (backpressure)', async (t) => {
  let pulled = 0
  function * counted () {
    for (let i = 0; i < 1_000_000; i++) { pulled++; yield 'x'.repeat(100) }
  }
  const stream = new TextIteratorIO(counted(), { highWaterMark: 1000 })
  await new Promise((resolve) => setImmediate(resolve))
  t.equal(pulled, 0, 'nothing before a read')
  stream.read(0)
  await new Promise((resolve) => setImmediate(resolve))
  t.ok(pulled > 0 && pulled <= 30, `a paused reader lets it run only about highWaterMark ahead (${pulled} items)`)
  stream.destroy()
})

t.test('destroy calls return(): a generator\'s finally runs', async (t) => {
  let finallyRan = 0
  function * rows () {
    try { for (;;) yield 'row\n' } finally { finallyRan++ }
  }
  async function * asyncRows () {
    try { for (;;) yield 'row\n' } finally { finallyRan++ }
  }
  for (const stream of [new TextIteratorIO(rows(), { highWaterMark: 16 }), new TextIteratorIO(asyncRows(), { highWaterMark: 16 })]) {
    stream.read(0)
    await once(stream, 'readable')
    stream.destroy()
    await once(stream, 'close')
  }
  t.equal(finallyRan, 2)
})

t.test('destroy of a finished or return-less iterator, and a throwing return()', async (t) => {
  const done = new TextIteratorIO(['a'])
  await chunksOf(done)
  t.ok(done.destroyed)

  const plain: Iterator<string> & Iterable<string> = { next: () => ({ done: false, value: 'a' }), [Symbol.iterator] () { return this } }
  const noReturn = new TextIteratorIO(plain, { highWaterMark: 4 })
  noReturn.read(0)
  noReturn.destroy()
  await once(noReturn, 'close')

  const badReturn: Iterator<string> & Iterable<string> = {
    next: () => ({ done: false, value: 'a' }),
    return: () => { throw new Error('return failed') },
    [Symbol.iterator] () { return this }
  }
  const bad = new TextIteratorIO(badReturn, { highWaterMark: 4 })
  bad.read(0)
  bad.destroy()
  const [error] = await once(bad, 'error')
  t.equal((error as Error).message, 'return failed')

  const badAsync: AsyncIterator<string> & AsyncIterable<string> = {
    next: async () => ({ done: false, value: 'a' }),
    return: async () => { throw new Error('async return failed') },
    [Symbol.asyncIterator] () { return this }
  }
  const badA = new TextIteratorIO(badAsync, { highWaterMark: 4 })
  badA.read(0)
  await once(badA, 'readable')
  badA.destroy(new Error('first'))
  const [first] = await once(badA, 'error')
  t.equal((first as Error).message, 'first', 'the original error wins')
  const badA2 = new TextIteratorIO(badAsync, { highWaterMark: 4 })
  badA2.read(0)
  await once(badA2, 'readable')
  badA2.destroy()
  const [second] = await once(badA2, 'error')
  t.equal((second as Error).message, 'async return failed')
})

t.test('destroyed while an async pull is pending: nothing more is pushed', async (t) => {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  async function * slow () {
    await gate
    yield 'late'
  }
  const stream = new TextIteratorIO(slow())
  stream.read(0)
  stream.destroy()
  release()
  await once(stream, 'close')
  t.equal(stream.readableLength, 0)
})

t.test('BytesIteratorIO gathers small chunks and passes large ones through uncopied', async (t) => {
  const large = new Uint8Array(70000).fill(7)
  const view = new Uint8Array(large.buffer, 1000, 65536)
  const source = [Buffer.from('ab'), 'cd', new Uint8Array([101, 102]), new Uint8Array(0), view, large, 'tail']
  const chunks = await chunksOf(new BytesIteratorIO(source))
  t.same(chunks.map((chunk) => chunk.length), [6, 65536, 70000, 4])
  t.equal(chunks[1]?.buffer, large.buffer, 'a view is passed without copying')
  t.equal(chunks[1]?.byteOffset, 1000)
  t.equal(chunks[2]?.buffer, large.buffer)
  t.equal(Buffer.concat(chunks).subarray(0, 6).toString(), 'abcdef')
})

t.test('BytesIteratorIO over a Web ReadableStream cancels it on destroy', async (t) => {
  let cancelled = false
  const web = new ReadableStream<Uint8Array>({
    pull (controller) { controller.enqueue(new Uint8Array(1024)) },
    cancel () { cancelled = true }
  })
  const stream = new BytesIteratorIO(web, { highWaterMark: 4096 })
  stream.read(0)
  await once(stream, 'readable')
  stream.destroy()
  await once(stream, 'close')
  t.ok(cancelled)
  t.ok(stream instanceof Readable)
})

t.test('an async source\'s first items are not held back waiting for a full chunk', async (t) => {
  let firstChunkSeen: () => void = () => {}
  const seen = new Promise<void>((resolve) => { firstChunkSeen = resolve })
  async function * slow () {
    yield 'first'
    // would never resolve if 'first' waited for 64 KiB of company
    await seen
    yield 'second'
  }
  const stream = new TextIteratorIO(slow())
  const chunks: string[] = []
  stream.on('data', (chunk: Buffer) => {
    chunks.push(chunk.toString())
    firstChunkSeen()
  })
  await once(stream, 'end')
  t.same(chunks, ['first', 'second'])
})

t.test('a sync iterator read by a consumer that never pushes back still lets the event loop turn', async (t) => {
  for (const make of [
    (items: Iterable<string>) => new TextIteratorIO(items),
    (items: Iterable<string>) => new BytesIteratorIO(items)
  ]) {
    const order: string[] = []
    function * items (): Generator<string> {
      setImmediate(() => order.push('immediate'))
      for (let i = 0; i < 200; i++) yield 'x'.repeat(65_536)
      order.push('produced')
    }
    // takes every chunk at once: the stream alone decides when to stop reading
    const sink = new Writable({ write (chunk, encoding, callback) { callback() } })
    await pipeline(make(items()), sink)
    t.same(order, ['immediate', 'produced'], 'the immediate ran before the iterator was through')
  }
})
