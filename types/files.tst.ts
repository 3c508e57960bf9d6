// File wrappers, iterator adapters and the DownloadFile protocol.
import { Readable } from 'node:stream'
import type { FastifyRequest } from 'fastify'
import {
  BytesIteratorIO,
  ContentFile,
  TextIteratorIO,
  VirtualFile,
  type ByteRange,
  type ContentFactory,
  type DownloadFile
} from 'fastify-downloadview'
import { describe, expect, test } from 'tstyche'

function * textLines (): Generator<string, void, unknown> {
  yield 'Hello '
  yield 'world!\n'
}
async function * asyncTextLines (): AsyncGenerator<string, void, unknown> {
  yield 'Hello '
  yield 'world!\n'
}
function * byteChunks (): Generator<Uint8Array> {
  yield new Uint8Array([104, 105])
}
async function * mixedChunks (): AsyncGenerator<Uint8Array | string> {
  yield 'a'
  yield Buffer.from('b')
}

declare const webStream: ReadableStream<Uint8Array>

describe('VirtualFile', () => {
  test('accepts every documented kind of content', () => {
    expect(VirtualFile).type.toBeConstructableWith('Hello world!\n')
    expect(VirtualFile).type.toBeConstructableWith(new Uint8Array([1, 2, 3]))
    expect(VirtualFile).type.toBeConstructableWith(Buffer.from('bytes'))
    expect(VirtualFile).type.toBeConstructableWith(new Blob(['Hello']))
    expect(VirtualFile).type.toBeConstructableWith(new File(['Hello'], 'hello.txt', { type: 'text/plain' }))
    expect(VirtualFile).type.toBeConstructableWith(Readable.from(['Hello']))
    expect(VirtualFile).type.toBeConstructableWith(webStream)
    expect(VirtualFile).type.toBeConstructableWith(['Hello ', 'world'])
    expect(VirtualFile).type.toBeConstructableWith(textLines())
    expect(VirtualFile).type.toBeConstructableWith(asyncTextLines())
    expect(VirtualFile).type.toBeConstructableWith(byteChunks())
    expect(VirtualFile).type.toBeConstructableWith(mixedChunks())
    expect(VirtualFile).type.toBeConstructableWith(new TextIteratorIO(textLines()))
    expect(VirtualFile).type.toBeConstructableWith(new BytesIteratorIO(byteChunks()))
  })

  test('accepts its metadata options', () => {
    expect(VirtualFile).type.toBeConstructableWith('x', {})
    expect(VirtualFile).type.toBeConstructableWith(textLines(), {
      name: 'reports/2026/hello-world.txt',
      size: 13,
      modifiedTime: new Date(),
      etag: 'W/"abc"',
      contentType: 'text/plain',
      charset: 'utf-8',
      wasModifiedSince: (since: Date) => since.getTime() < Date.now()
    })
    expect(VirtualFile).type.toBeConstructableWith('x', { wasModifiedSince: async () => true })
  })

  test('is a DownloadFile with the documented fields', () => {
    const file = new VirtualFile(new TextIteratorIO(asyncTextLines()), { name: 'hello-world.txt' })
    expect(file).type.toBeAssignableTo<DownloadFile>()
    expect(file.name).type.toBe<string | undefined>()
    expect(file.size).type.toBe<number | undefined>()
    expect(file.modifiedTime).type.toBe<Date | undefined>()
    expect(file.acceptsRanges).type.toBe<boolean>()
    expect(file.stream).type.toBeCallableWith()
    expect(file.stream).type.toBeCallableWith({ start: 0, end: 9 })
  })

  test('accepts a content factory, seekable or not, returning any content or a promise of it', () => {
    expect(VirtualFile).type.toBeConstructableWith(() => textLines(), { size: 13, etag: 'v1' })
    expect(VirtualFile).type.toBeConstructableWith(async () => Readable.from(['x']), { size: 1, modifiedTime: new Date() })
    expect(VirtualFile).type.toBeConstructableWith(() => new Blob(['x']))
    expect(VirtualFile).type.toBeConstructableWith((range?: ByteRange) => range === undefined ? 'whole' : 'slice', { size: 5, etag: 'v1', seekable: true })
    const factory: ContentFactory = (range) => Buffer.alloc(range === undefined ? 10 : range.end - range.start + 1)
    expect(VirtualFile).type.toBeConstructableWith(factory, { seekable: true })
    expect(new VirtualFile(factory).acceptsMultipleRanges).type.toBe<boolean>()
    expect(VirtualFile).type.not.toBeConstructableWith(() => 42)
    expect(VirtualFile).type.not.toBeConstructableWith(async () => null)
    expect(VirtualFile).type.not.toBeConstructableWith(() => 'x', { seekable: 'yes' })
    // a factory of a factory is no content
    expect(VirtualFile).type.not.toBeConstructableWith(() => () => 'x')
  })

  test('rejects content that is not text, bytes, a Blob, a stream or an iterable', () => {
    expect(VirtualFile).type.not.toBeConstructableWith(42)
    expect(VirtualFile).type.not.toBeConstructableWith(null)
    expect(VirtualFile).type.not.toBeConstructableWith({ name: 'no-content.txt' })
    expect(VirtualFile).type.not.toBeConstructableWith([1, 2, 3])
    expect(VirtualFile).type.not.toBeConstructableWith()

    // @ts-expect-error No overload matches this call.
    new VirtualFile(42) // eslint-disable-line no-new
  })

  test('rejects wrong options', () => {
    expect(VirtualFile).type.not.toBeConstructableWith('x', { size: '13' })
    expect(VirtualFile).type.not.toBeConstructableWith('x', { modifiedTime: '2026-01-01' })
    expect(VirtualFile).type.not.toBeConstructableWith('x', { encoding: 'latin1' })
  })

  test('rejects misspelled and unknown options (JavaScript gets a TypeError naming them)', () => {
    expect(VirtualFile).type.not.toBeConstructableWith('x', { nmae: 'x.txt' })
    expect(VirtualFile).type.not.toBeConstructableWith('x', { name: 'x.txt', contenType: 'text/plain' })
    expect(VirtualFile).type.not.toBeConstructableWith('x', { seekable: true })
    expect(new VirtualFile('x', { nmae: 'x.txt' })).type.toRaiseError(2769)
    expect(new VirtualFile('x', { name: 'x.txt', etga: '"v1"' })).type.toRaiseError("'etga' does not exist in type 'VirtualFileOptions'")
    expect(VirtualFile).type.toBeConstructableWith('x', { name: undefined, size: undefined })
  })
})

describe('ContentFile', () => {
  test('accepts a string or bytes, with an encoding', () => {
    expect(ContentFile).type.toBeConstructableWith('Hello world!\n')
    expect(ContentFile).type.toBeConstructableWith(new Uint8Array([1, 2, 3]))
    expect(ContentFile).type.toBeConstructableWith(Buffer.from('bytes'), { name: 'bytes.bin' })
    expect(ContentFile).type.toBeConstructableWith('Grüße', {
      name: 'greeting.txt',
      modifiedTime: new Date(),
      etag: '"v1"',
      contentType: 'text/plain',
      encoding: 'latin1'
    })
  })

  test('is a VirtualFile and a DownloadFile', () => {
    const file = new ContentFile('x', { encoding: 'utf-16le' })
    expect(file).type.toBeAssignableTo<VirtualFile>()
    expect(file).type.toBeAssignableTo<DownloadFile>()
  })

  test('rejects streams, iterables and other content', () => {
    expect(ContentFile).type.not.toBeConstructableWith(Readable.from(['Hello']))
    expect(ContentFile).type.not.toBeConstructableWith(textLines())
    expect(ContentFile).type.not.toBeConstructableWith(new Blob(['Hello']))
    expect(ContentFile).type.not.toBeConstructableWith(42)

    // @ts-expect-error Argument of type 'Readable' is not assignable to parameter of type 'string | Uint8Array<ArrayBufferLike>'.
    new ContentFile(Readable.from(['Hello'])) // eslint-disable-line no-new
  })

  test('rejects wrong options (its size is known, its charset is its encoding)', () => {
    expect(ContentFile).type.not.toBeConstructableWith('x', { encoding: 8 })
    expect(ContentFile).type.not.toBeConstructableWith('x', { size: 1 })
    expect(ContentFile).type.not.toBeConstructableWith('x', { charset: 'utf-8' })
    expect(ContentFile).type.not.toBeConstructableWith('x', { wasModifiedSince: () => true })
  })

  test('rejects misspelled options', () => {
    expect(ContentFile).type.not.toBeConstructableWith('x', { nmae: 'x.txt' })
    expect(ContentFile).type.not.toBeConstructableWith('x', { name: 'x.txt', encodign: 'latin1' })
    expect(new ContentFile('x', { nmae: 'x.txt' })).type.toRaiseError("'nmae' does not exist in type 'ContentFileOptions'")
    expect(ContentFile).type.toBeConstructableWith('x', { name: undefined, encoding: undefined })
  })
})

describe('TextIteratorIO', () => {
  test('accepts sync and async iterables of strings', () => {
    expect(TextIteratorIO).type.toBeConstructableWith(textLines())
    expect(TextIteratorIO).type.toBeConstructableWith(asyncTextLines())
    expect(TextIteratorIO).type.toBeConstructableWith(['a', 'b'])
    expect(TextIteratorIO).type.toBeConstructableWith(new Set(['a']))
    expect(TextIteratorIO).type.toBeConstructableWith(textLines(), { encoding: 'latin1', highWaterMark: 16 * 1024 })
  })

  test('is a Node Readable', () => {
    const io = new TextIteratorIO(asyncTextLines())
    expect(io).type.toBeAssignableTo<Readable>()
    expect(io).type.toBeAssignableTo<NodeJS.ReadableStream>()
    expect(io.pipe).type.toBeCallableWith(process.stdout)
  })

  test('rejects iterables of anything but strings, and wrong options', () => {
    expect(TextIteratorIO).type.not.toBeConstructableWith(byteChunks())
    expect(TextIteratorIO).type.not.toBeConstructableWith([1, 2])
    expect(TextIteratorIO).type.not.toBeConstructableWith('not an iterable of strings', 'utf-8')
    expect(TextIteratorIO).type.not.toBeConstructableWith(42)
    expect(TextIteratorIO).type.not.toBeConstructableWith(textLines(), { highWaterMark: '64k' })
    expect(TextIteratorIO).type.not.toBeConstructableWith(textLines(), { encoding: true })
    expect(TextIteratorIO).type.not.toBeConstructableWith(textLines(), { encodng: 'latin1' })
    expect(TextIteratorIO).type.not.toBeConstructableWith(textLines(), { highwatermark: 1024 })
    expect(new TextIteratorIO(textLines(), { encodng: 'latin1' })).type.toRaiseError("'encodng' does not exist in type 'TextIteratorIOOptions'")
  })
})

describe('BytesIteratorIO', () => {
  test('accepts sync and async iterables of Uint8Array or string', () => {
    expect(BytesIteratorIO).type.toBeConstructableWith(byteChunks())
    expect(BytesIteratorIO).type.toBeConstructableWith(mixedChunks())
    expect(BytesIteratorIO).type.toBeConstructableWith(textLines())
    expect(BytesIteratorIO).type.toBeConstructableWith([Buffer.from('a'), 'b'])
    expect(BytesIteratorIO).type.toBeConstructableWith(webStream)
    expect(BytesIteratorIO).type.toBeConstructableWith(byteChunks(), { highWaterMark: 1024 })
  })

  test('is a Node Readable', () => {
    expect(new BytesIteratorIO(byteChunks())).type.toBeAssignableTo<Readable>()
  })

  test('rejects iterables of other items, and wrong options', () => {
    expect(BytesIteratorIO).type.not.toBeConstructableWith([1, 2, 3])
    expect(BytesIteratorIO).type.not.toBeConstructableWith(42)
    expect(BytesIteratorIO).type.not.toBeConstructableWith(byteChunks(), { encoding: 'utf-8' })
    expect(BytesIteratorIO).type.not.toBeConstructableWith(byteChunks(), { highWaterMark: '1k' })
    expect(BytesIteratorIO).type.not.toBeConstructableWith(byteChunks(), { highWatermark: 1024 })
    expect(new BytesIteratorIO(byteChunks(), { highWatermark: 1024 })).type.toRaiseError("'highWatermark' does not exist in type 'IteratorReadableOptions'")
  })
})

describe('DownloadFile', () => {
  test('a class with only stream() implements it', () => {
    class StreamOnly implements DownloadFile {
      stream (): string {
        return 'Hello'
      }
    }
    expect(new StreamOnly()).type.toBeAssignableTo<DownloadFile>()
    expect({ stream: () => new Uint8Array(0) }).type.toBeAssignableTo<DownloadFile>()
  })

  test('a full implementation with the optional lifecycle compiles', () => {
    class RemoteFile implements DownloadFile {
      name?: string
      size?: number
      modifiedTime?: Date
      etag?: string
      contentType?: string
      charset?: string
      readonly acceptsRanges = true
      readonly acceptsMultipleRanges = true
      async open (request: FastifyRequest): Promise<void> {
        this.name = request.url
        this.size = 3
      }

      wasModifiedSince (since: Date): boolean {
        return since.getTime() < 0
      }

      close (): void {}
      stream (range?: ByteRange): AsyncIterable<Uint8Array> {
        return (async function * () {
          yield new Uint8Array(range === undefined ? 3 : range.end - range.start + 1)
        })()
      }
    }
    expect(new RemoteFile()).type.toBeAssignableTo<DownloadFile>()
  })

  test('stream() may return every documented shape', () => {
    expect({ stream: () => 'text' }).type.toBeAssignableTo<DownloadFile>()
    expect({ stream: () => Buffer.from('bytes') }).type.toBeAssignableTo<DownloadFile>()
    expect({ stream: () => Readable.from(['x']) }).type.toBeAssignableTo<DownloadFile>()
    expect({ stream: () => webStream }).type.toBeAssignableTo<DownloadFile>()
    expect({ stream: () => textLines() }).type.toBeAssignableTo<DownloadFile>()
    expect({ stream: () => mixedChunks() }).type.toBeAssignableTo<DownloadFile>()
    expect({ stream: () => new TextIteratorIO(['x']) }).type.toBeAssignableTo<DownloadFile>()
  })

  test('close() may be sync or async', () => {
    expect({ stream: () => 'x', close: () => {} }).type.toBeAssignableTo<DownloadFile>()
    expect({ stream: () => 'x', close: async () => {} }).type.toBeAssignableTo<DownloadFile>()
    expect<{ stream: () => string, close: () => Promise<number> }>().type.not.toBeAssignableTo<DownloadFile>()
  })

  test('ByteRange is inclusive start and end', () => {
    expect<ByteRange>().type.toBe<{ start: number, end: number }>()
  })

  test('rejects objects without stream(), or with a wrong field', () => {
    expect<{ name: string }>().type.not.toBeAssignableTo<DownloadFile>()
    expect<{ stream: () => number }>().type.not.toBeAssignableTo<DownloadFile>()
    expect<{ stream: () => string, size: string }>().type.not.toBeAssignableTo<DownloadFile>()
    expect<{ stream: () => string, modifiedTime: number }>().type.not.toBeAssignableTo<DownloadFile>()
    expect<{ stream: (range: string) => string }>().type.not.toBeAssignableTo<DownloadFile>()
  })
})
