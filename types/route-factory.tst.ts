// virtualDownloadRoute({ url, getFile, ...DownloadOptions, ...RouteOptions }): a RouteOptions for app.route().
import type { Http2ServerRequest } from 'node:http2'
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify'
import {
  ContentFile,
  FileNotFound,
  VirtualFile,
  virtualDownloadRoute,
  type DownloadFile
} from 'fastify-downloadview'
import { describe, expect, test } from 'tstyche'

const app = Fastify()

async function * rows (): AsyncGenerator<string> {
  yield 'id,name\n'
  yield '1,Ada\n'
}

const customFile: DownloadFile = { name: 'custom.txt', stream: () => 'custom' }

describe('virtualDownloadRoute', () => {
  test('returns RouteOptions usable in app.route()', () => {
    const route = virtualDownloadRoute({
      url: '/report.csv',
      getFile: async (request, reply) => new VirtualFile(rows(), { name: 'report.csv' })
    })
    expect(route).type.toBe<RouteOptions>()
    app.route(route)
    expect(app.route).type.toBeCallableWith(route)
  })

  test('accepts DownloadOptions and other RouteOptions at the top level', () => {
    app.route(virtualDownloadRoute({
      url: '/report.csv',
      getFile: async () => new VirtualFile(rows(), { name: 'report.csv' }),
      attachment: true,
      basename: 'report-2026.csv',
      mimetype: 'text/csv',
      charset: 'utf-8',
      cacheControl: 'private, max-age=60',
      acceptRanges: false,
      method: ['GET', 'POST'],
      schema: { querystring: { type: 'object', properties: { q: { type: 'string' } } } },
      logLevel: 'warn',
      config: { anything: true }
    }))
    app.route(virtualDownloadRoute({ url: '/inline', getFile: () => new ContentFile('x'), attachment: false, method: 'GET' }))
  })

  test('getFile receives a typed request and reply, and the instance as this', () => {
    virtualDownloadRoute<{ Params: { id: string }, Querystring: { download?: '1' } }>({
      url: '/files/:id',
      getFile (request, reply) {
        expect(this).type.toBe<FastifyInstance>()
        expect(request).type.toBe<FastifyRequest<{ Params: { id: string }, Querystring: { download?: '1' } }>>()
        expect(request.params.id).type.toBe<string>()
        expect(request.query.download).type.toBe<'1' | undefined>()
        expect(reply).type.toBe<FastifyReply<{ Params: { id: string }, Querystring: { download?: '1' } }>>()
        return new ContentFile(request.params.id, { name: `${request.params.id}.txt` })
      }
    })
    // the route generic is inferred from an annotated request
    virtualDownloadRoute({
      url: '/files/:id',
      getFile: (request: FastifyRequest<{ Params: { id: string } }>) => new ContentFile(request.params.id)
    })
    // without a generic, params are unknown, as in Fastify
    virtualDownloadRoute({
      url: '/files/:id',
      getFile: (request) => {
        expect(request.params).type.toBe<unknown>()
        return null
      }
    })
  })

  test('getFile may return a file, a Blob, null or undefined, or a Promise of those', () => {
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/a', getFile: () => new ContentFile('x') })
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/a', getFile: () => new VirtualFile(rows()) })
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/a', getFile: () => customFile })
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/a', getFile: () => new Blob(['x']) })
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/a', getFile: () => new File(['x'], 'x.txt') })
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/a', getFile: () => null })
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/a', getFile: () => undefined })
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/a', getFile: async () => new ContentFile('x') })
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/a', getFile: async () => new Blob(['x']) })
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/a', getFile: async () => null })
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/a', getFile: () => Promise.resolve(undefined) })
    expect(virtualDownloadRoute).type.toBeCallableWith({
      url: '/a',
      getFile: async (request: FastifyRequest) => {
        if (request.headers['x-missing'] !== undefined) throw new FileNotFound()
        return Math.random() > 0.5 ? customFile : null
      }
    })
  })

  test('rejects a missing url or getFile', () => {
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a' })
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ getFile: () => null })
    expect(virtualDownloadRoute).type.not.toBeCallableWith({})
    expect(virtualDownloadRoute).type.not.toBeCallableWith()

    // @ts-expect-error Property 'getFile' is missing
    virtualDownloadRoute({ url: '/a' })
    // @ts-expect-error Property 'url' is missing
    virtualDownloadRoute({ getFile: () => null })
  })

  test('rejects a getFile that returns something other than a file', () => {
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a', getFile: () => 'a string' })
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a', getFile: () => 42 })
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a', getFile: async () => ({ name: 'no-stream.txt' }) })
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a', getFile: new ContentFile('not a function') })
  })

  test('rejects wrong or unknown options', () => {
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a', getFile: () => null, attachment: 'yes' })
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a', getFile: () => null, basename: 5 })
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a', getFile: () => null, cacheControl: 60 })
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a', getFile: () => null, method: 200 })
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a', getFile: () => null, inline: true })
    // the factory builds the handler and the virtualDownload option itself
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a', getFile: () => null, handler: () => null })
    expect(virtualDownloadRoute).type.not.toBeCallableWith({ url: '/a', getFile: () => null, virtualDownload: true })

    // @ts-expect-error Type 'string' is not assignable to type 'boolean | undefined'.
    virtualDownloadRoute({ url: '/a', getFile: () => null, attachment: 'yes' })
  })
})

describe('virtualDownloadRoute, answering without a file', () => {
  test('getFile may answer itself and return the reply', () => {
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/moved', getFile: (request: FastifyRequest, reply: FastifyReply) => reply.redirect('/elsewhere') })
    expect(virtualDownloadRoute).type.toBeCallableWith({ url: '/denied', getFile: async (request: FastifyRequest, reply: FastifyReply) => reply.code(403).send('no') })
  })

  test('hooks in the factory options see the route generic too', () => {
    virtualDownloadRoute<{ Params: { id: string } }>({
      url: '/files/:id',
      preHandler: async (request) => {
        expect(request.params.id).type.toBe<string>()
      },
      getFile: (request) => new ContentFile(request.params.id)
    })
  })
})

describe('virtualDownloadRoute, on every server type Fastify has', () => {
  test('HTTP/2 (cleartext and TLS), HTTPS and a custom logger: the route fits the app it is handed to', () => {
    const h2c = Fastify({ http2: true })
    h2c.route(virtualDownloadRoute({
      url: '/a',
      getFile: (request) => {
        expect(request.raw).type.toBe<Http2ServerRequest>()
        return new ContentFile('x')
      }
    }))
    const h2 = Fastify({ http2: true, https: { key: 'k', cert: 'c' } })
    h2.route(virtualDownloadRoute({ url: '/a', getFile: () => new ContentFile('x') }))
    const https = Fastify({ https: { key: 'k', cert: 'c' } })
    https.route(virtualDownloadRoute({ url: '/a', getFile: () => new ContentFile('x') }))
    const logger: FastifyBaseLogger & { audit: (line: string) => void } = Object.assign(Object.create(null) as FastifyBaseLogger, { audit: (line: string) => { void line } })
    const logged = Fastify({ loggerInstance: logger })
    logged.route(virtualDownloadRoute({ url: '/a', getFile: (request) => new ContentFile(request.url) }))
  })

  test('a route typed for one server does not fit another', () => {
    const http1Route = virtualDownloadRoute({ url: '/a', getFile: () => new ContentFile('x') })
    expect(Fastify({ http2: true }).route).type.not.toBeCallableWith(http1Route)
  })
})
