// lib/zip/batched.ts: yazl's small writes of one turn go out joined, a large chunk goes out in
// slices of it (views of the same memory, not copies), the consumer's backpressure reaches the
// source, and destroying the batches destroys the source.
import { PassThrough } from 'node:stream'
import { setImmediate as nextTurn } from 'node:timers/promises'
import t from 'tap'
import { Batched } from '../lib/zip/batched.js'

const BATCH = 64 * 1024

/** Everything `stream` gives, chunk by chunk, until it ends. */
async function chunks (stream: Batched): Promise<Buffer[]> {
  const seen: Buffer[] = []
  for await (const chunk of stream) seen.push(chunk as Buffer)
  return seen
}

t.test('small writes of one turn go out as one chunk', async (t) => {
  const source = new PassThrough()
  const batched = new Batched(source)
  const writes = Array.from({ length: 50 }, (_, i) => Buffer.from(`header ${i};`))
  for (const write of writes) source.write(write)
  source.end()
  const seen = await chunks(batched)
  t.same(Buffer.concat(seen), Buffer.concat(writes), 'the same bytes, in order')
  t.equal(seen.length, 1, `50 writes, ${seen.length} chunk(s)`)
})

t.test('a large chunk goes out in slices of at most 64 KiB, views of its memory', async (t) => {
  const source = new PassThrough({ highWaterMark: 2 * 1024 * 1024 })
  const batched = new Batched(source)
  const large = Buffer.alloc(1024 * 1024 + 100, 7)
  source.write(Buffer.from('local header'))
  source.write(large)
  source.write(Buffer.from('data descriptor'))
  source.end()
  const seen = await chunks(batched)
  t.same(Buffer.concat(seen), Buffer.concat([Buffer.from('local header'), large, Buffer.from('data descriptor')]), 'the same bytes, in order')
  t.ok(seen.every((chunk) => chunk.length <= BATCH), `no chunk over 64 KiB (${seen.map((chunk) => chunk.length).join(', ')})`)
  const views = seen.filter((chunk) => chunk.buffer === large.buffer)
  t.ok(views.length >= 14, `${views.length} of ${seen.length} chunks are slices of the large chunk, not copies`)
})

t.test('a consumer that does not read holds the source back', async (t) => {
  const source = new PassThrough({ highWaterMark: 16 * 1024 })
  const batched = new Batched(source)
  let offered = 0
  const offer = (): void => {
    // as yazl writes: while the source says it has room
    while (source.writableLength < source.writableHighWaterMark && offered < 200) {
      source.write(Buffer.alloc(16 * 1024))
      offered++
    }
  }
  // Batched is asked once for data (its consumer is ready), then never read
  batched.read(0)
  for (let turn = 0; turn < 20; turn++) {
    offer()
    await nextTurn()
  }
  t.ok(batched.readableLength <= batched.readableHighWaterMark + BATCH, `Batched holds ${batched.readableLength} bytes`)
  t.ok(offered < 200, `the source took ${offered} writes of 16 KiB, not all 200`)
  batched.destroy()
  await nextTurn()
  t.ok(source.destroyed, 'destroying the batches destroys the source')
})
