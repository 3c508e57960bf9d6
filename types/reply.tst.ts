// Declaration merging: reply.virtualDownload(file, options?) on every FastifyReply.
import { Readable } from 'node:stream'
import Fastify, { type FastifyReply } from 'fastify'
import { ContentFile, TextIteratorIO, VirtualFile, type ByteRange, type DownloadFile } from 'fastify-downloadview'
import { describe, expect, test } from 'tstyche'

const app = Fastify()
declare const reply: FastifyReply

class DatabaseFile implements DownloadFile {
  readonly name = 'rows.csv'
  readonly contentType = 'text/csv'
  stream (range?: ByteRange): Iterable<string> {
    return range === undefined ? ['a,b\n'] : []
  }
}

const contentFile = new ContentFile('Hello world!\n', { name: 'hello-world.txt' })
const virtualFile = new VirtualFile(Readable.from(['Hello']), { name: 'hello.txt' })

describe('reply.virtualDownload', () => {
  test('exists on FastifyReply and returns the reply', () => {
    expect<FastifyReply>().type.toHaveProperty('virtualDownload')
    expect(reply.virtualDownload(contentFile)).type.toBe<FastifyReply>()
    expect(reply.virtualDownload(virtualFile, { attachment: false })).type.toBe<FastifyReply>()
  })

  test('accepts file wrappers, Web Blobs and Files, and custom DownloadFiles', () => {
    expect(reply.virtualDownload).type.toBeCallableWith(contentFile)
    expect(reply.virtualDownload).type.toBeCallableWith(virtualFile)
    expect(reply.virtualDownload).type.toBeCallableWith(new VirtualFile(new TextIteratorIO(['a', 'b'])))
    expect(reply.virtualDownload).type.toBeCallableWith(new Blob(['Hello'], { type: 'text/plain' }))
    expect(reply.virtualDownload).type.toBeCallableWith(new File(['Hello'], 'hello.txt'))
    expect(reply.virtualDownload).type.toBeCallableWith(new DatabaseFile())
    expect(reply.virtualDownload).type.toBeCallableWith({ stream: () => 'inline object' })
    expect(reply.virtualDownload).type.toBeCallableWith({ name: 'a.bin', size: 3, stream: () => new Uint8Array(3) })
  })

  test('accepts DownloadOptions as its second argument', () => {
    expect(reply.virtualDownload).type.toBeCallableWith(contentFile, {})
    expect(reply.virtualDownload).type.toBeCallableWith(contentFile, { attachment: false })
    expect(reply.virtualDownload).type.toBeCallableWith(contentFile, {
      attachment: true,
      basename: 'greeting.txt',
      mimetype: 'text/plain',
      charset: 'latin1',
      cacheControl: 'public, max-age=60',
      acceptRanges: false
    })
  })

  test('can be returned from a route handler', () => {
    app.get('/text', (request, reply) =>
      reply.virtualDownload(new ContentFile('Hello world!\n', { name: 'hello-world.txt' })))
    app.get('/blob', async (request, reply) => {
      return reply.virtualDownload(new Blob(['x']), { attachment: false })
    })
    app.get<{ Params: { name: string } }>('/named/:name', (request, reply) => {
      expect(request.params.name).type.toBe<string>()
      return reply.virtualDownload(contentFile, { basename: request.params.name })
    })
  })

  test('rejects what is not a file', () => {
    expect(reply.virtualDownload).type.not.toBeCallableWith('a string')
    expect(reply.virtualDownload).type.not.toBeCallableWith(123)
    expect(reply.virtualDownload).type.not.toBeCallableWith(new Uint8Array(3))
    expect(reply.virtualDownload).type.not.toBeCallableWith({ name: 'no-stream.txt' })
    expect(reply.virtualDownload).type.not.toBeCallableWith({ stream: () => 42 })
    expect(reply.virtualDownload).type.not.toBeCallableWith(null)
    expect(reply.virtualDownload).type.not.toBeCallableWith()

    // @ts-expect-error Argument of type 'string' is not assignable to parameter of type 'Downloadable'
    reply.virtualDownload('a string')
    // @ts-expect-error Argument of type 'number' is not assignable to parameter of type 'Downloadable'
    reply.virtualDownload(123)
  })

  test('rejects wrong options', () => {
    expect(reply.virtualDownload).type.not.toBeCallableWith(contentFile, { attachment: 1 })
    expect(reply.virtualDownload).type.not.toBeCallableWith(contentFile, { basename: null })
    expect(reply.virtualDownload).type.not.toBeCallableWith(contentFile, { download: true })
    expect(reply.virtualDownload).type.not.toBeCallableWith(contentFile, 'inline')

    // @ts-expect-error Type 'number' is not assignable to type 'boolean | undefined'.
    reply.virtualDownload(contentFile, { attachment: 1 })
  })
})
