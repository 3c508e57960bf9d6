// FileNotFound and contentDisposition.
import Fastify from 'fastify'
import { FileNotFound, contentDisposition, virtualDownloadRoute } from 'fastify-downloadview'
import { describe, expect, test } from 'tstyche'

describe('FileNotFound', () => {
  test('is constructible without arguments and typed as a 404', () => {
    expect(FileNotFound).type.toBeConstructableWith()
    const error = new FileNotFound()
    expect(error).type.toBeAssignableTo<Error>()
    expect(error.statusCode).type.toBe<404>()
    expect(error.code).type.toBe<'FST_DOWNLOADVIEW_FILE_NOT_FOUND'>()
    expect(error.message).type.toBe<string>()
  })

  test('can be thrown from getFile', () => {
    Fastify().route(virtualDownloadRoute({
      url: '/missing',
      getFile: async () => {
        throw new FileNotFound()
      }
    }))
  })

  test('takes no message arguments', () => {
    expect(FileNotFound).type.not.toBeConstructableWith('missing.txt')
  })
})

describe('contentDisposition', () => {
  test('builds a header string from an optional name and type', () => {
    expect(contentDisposition()).type.toBe<string>()
    expect(contentDisposition('hello-world.txt')).type.toBe<string>()
    expect(contentDisposition('résumé.pdf', { type: 'inline' })).type.toBe<string>()
    expect(contentDisposition(undefined, { type: 'attachment' })).type.toBe<string>()
    expect(contentDisposition).type.toBeCallableWith('a.txt', {})
  })

  test('rejects another type or a non-string name', () => {
    expect(contentDisposition).type.not.toBeCallableWith('a.txt', { type: 'form-data' })
    expect(contentDisposition).type.not.toBeCallableWith('a.txt', { type: true })
    expect(contentDisposition).type.not.toBeCallableWith(42)
    expect(contentDisposition).type.not.toBeCallableWith('a.txt', 'inline')

    // @ts-expect-error Type '"form-data"' is not assignable to type '"attachment" | "inline" | undefined'.
    contentDisposition('a.txt', { type: 'form-data' })
  })
})
