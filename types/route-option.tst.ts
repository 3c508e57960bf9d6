// The `virtualDownload` route option (declaration merging on RouteShorthandOptions / RouteOptions):
// the route's handler is getFile, its (awaited) return value is the file.
import Fastify, { type RouteOptions, type RouteShorthandOptions } from 'fastify'
import { ContentFile, TextIteratorIO, VirtualFile, type DownloadOptions } from 'fastify-downloadview'
import { describe, expect, test } from 'tstyche'

const app = Fastify()

function * generateHello (): Generator<string> {
  yield 'Hello '
  yield 'world!\n'
}

const getFile = async (): Promise<VirtualFile> =>
  new VirtualFile(new TextIteratorIO(generateHello()), { name: 'hello-world.txt' })

describe('virtualDownload route option', () => {
  test('is declared on RouteShorthandOptions and RouteOptions', () => {
    expect<RouteShorthandOptions>().type.toHaveProperty('virtualDownload')
    expect<RouteOptions>().type.toHaveProperty('virtualDownload')
    expect<NonNullable<RouteShorthandOptions['virtualDownload']>>().type.toBe<boolean | DownloadOptions>()
  })

  test('accepts true, false and DownloadOptions in the shorthand methods', () => {
    app.get('/defaults', { virtualDownload: true }, getFile)
    app.get('/generated', { virtualDownload: { attachment: false } }, async (request) =>
      new VirtualFile(new TextIteratorIO(generateHello()), { name: 'hello-world.txt' }))
    app.get('/plain', { virtualDownload: false }, async () => 'not a download')
    app.post('/upload-receipt', { virtualDownload: { basename: 'receipt.txt', cacheControl: 'no-store' } }, () =>
      new ContentFile('ok'))
    app.get<{ Params: { id: string } }>('/files/:id', { virtualDownload: { mimetype: 'text/csv' } }, async (request) => {
      expect(request.params.id).type.toBe<string>()
      return null
    })

    expect(app.get).type.toBeCallableWith('/x', { virtualDownload: true }, getFile)
    expect(app.get).type.toBeCallableWith('/x', { virtualDownload: { attachment: false } }, getFile)
    expect(app.get).type.toBeCallableWith('/x', { virtualDownload: { basename: 'x.txt' } }, getFile)
  })

  test('works in app.route()', () => {
    app.route({ method: 'GET', url: '/route', virtualDownload: true, handler: getFile })
    app.route({
      method: ['GET', 'POST'],
      url: '/route-options',
      virtualDownload: { attachment: false, charset: 'utf-8', acceptRanges: false },
      handler: async () => new Blob(['Hello'])
    })

    expect(app.route).type.toBeCallableWith({ method: 'GET', url: '/x', virtualDownload: { attachment: false }, handler: getFile })
  })

  test('rejects a wrong option', () => {
    expect(app.get).type.not.toBeCallableWith('/x', { virtualDownload: { basename: 5 } }, getFile)
    expect(app.get).type.not.toBeCallableWith('/x', { virtualDownload: { attachment: 'no' } }, getFile)
    expect(app.get).type.not.toBeCallableWith('/x', { virtualDownload: { basename: 'x.txt', inline: true } }, getFile)
    expect(app.get).type.not.toBeCallableWith('/x', { virtualDownload: 'yes' }, getFile)
    expect(app.get).type.not.toBeCallableWith('/x', { virtualDownload: 1 }, getFile)

    // @ts-expect-error Type 'number' is not assignable to type 'string'.
    app.get('/x', { virtualDownload: { basename: 5 } }, getFile)
  })

  test('rejects a wrong option in app.route()', () => {
    expect(app.route).type.not.toBeCallableWith({ method: 'GET', url: '/x', virtualDownload: { basename: 5 }, handler: getFile })
    expect(app.route).type.not.toBeCallableWith({ method: 'GET', url: '/x', virtualDownload: 'inline', handler: getFile })

    // @ts-expect-error Type 'number' is not assignable to type 'string'.
    app.route({ method: 'GET', url: '/x', virtualDownload: { basename: 5 }, handler: getFile })
  })
})
