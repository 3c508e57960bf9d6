// On-disk files: reply.pathDownload(), the pathDownload route option, pathDownloadRoute(), and the
// plugin's path defaults and offload option, as a consumer sees them.
import type { IncomingMessage, ServerResponse } from 'node:http'
import Fastify, { type FastifyReply, type FastifyRequest, type RawServerDefault, type RouteOptions } from 'fastify'
import fastifyDownloadView, {
  pathDownloadRoute,
  type FastifyDownloadViewOptions,
  type OffloadOptions,
  type PathDownloadOptions
} from 'fastify-downloadview'
import { describe, expect, test } from 'tstyche'

const app = Fastify()

describe('plugin options', () => {
  test('take path defaults and offload rules', async () => {
    await app.register(fastifyDownloadView, {
      attachment: true,
      root: '/srv/files',
      dotfiles: 'deny',
      etag: false,
      lastModified: true,
      maxAge: '1d',
      immutable: true,
      offload: {
        server: 'nginx',
        rules: [{ source: '/srv/files', destination: '/protected-files' }],
        nginx: { limitRate: 1_000_000, buffering: false, expires: 'off', charset: 'utf-8' }
      }
    })
    await app.register(fastifyDownloadView, { offload: { server: 'apache', rules: [{ source: '/srv', destination: '/srv' }] } })
    await app.register(fastifyDownloadView, { maxAge: 60_000, offload: undefined })
    expect<FastifyDownloadViewOptions['offload']>().type.toBe<OffloadOptions | undefined>()
  })

  test('reject a server, a dotfiles rule or a rule that does not exist', () => {
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { offload: { server: 'iis', rules: [] } })
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { dotfiles: 'hide' })
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { offload: { server: 'nginx', rules: [{ source: '/srv' }] } })
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { offload: { server: 'nginx', rules: [], nginx: { limitRate: '1m' } } })
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { maxAge: true })
  })
})

describe('reply.pathDownload', () => {
  test('takes a path and PathDownloadOptions, and returns the reply', () => {
    app.get('/report', (request, reply) => reply.pathDownload('/srv/files/report.pdf'))
    app.get<{ Params: { name: string } }>('/files/:name', async (request, reply) =>
      reply.pathDownload(request.params.name, { root: '/srv/files', attachment: false, maxAge: 3_600_000, offload: false }))
    expect<FastifyReply['pathDownload']>().type.toBe<(path: string, options?: PathDownloadOptions) => FastifyReply>()
  })

  test('rejects a non-string path and wrong options', () => {
    expect<FastifyReply['pathDownload']>().type.not.toBeCallableWith(42)
    expect<FastifyReply['pathDownload']>().type.not.toBeCallableWith(new URL('file:///srv/a.txt'))
    expect<FastifyReply['pathDownload']>().type.not.toBeCallableWith('a.txt', { root: 1 })
    expect<FastifyReply['pathDownload']>().type.not.toBeCallableWith('a.txt', { immutable: 'yes' })
    expect<FastifyReply['pathDownload']>().type.not.toBeCallableWith('a.txt', { nmae: 'x' })
  })
})

describe('the pathDownload route option', () => {
  test('is true or PathDownloadOptions; the handler returns the path', () => {
    app.get('/a', { pathDownload: true }, async () => '/srv/files/a.txt')
    app.get<{ Params: { name: string } }>('/files/:name', { pathDownload: { root: '/srv/files', dotfiles: 'allow' } }, async (request) => {
      expect(request.params.name).type.toBe<string>()
      return request.params.name
    })
    expect<RouteOptions['pathDownload']>().type.toBe<boolean | PathDownloadOptions | undefined>()
    expect(app.get).type.not.toBeCallableWith('/x', { pathDownload: 'yes' }, async () => 'a.txt')
    expect(app.get).type.not.toBeCallableWith('/x', { pathDownload: { dotfiles: 'hide' } }, async () => 'a.txt')
  })
})

describe('pathDownloadRoute', () => {
  test('returns RouteOptions; getPath sees the route generic and returns a path', () => {
    const route = pathDownloadRoute<{ Params: { name: string } }>({
      url: '/files/:name',
      root: '/srv/files',
      maxAge: '1d',
      getPath: (request) => {
        expect(request).type.toBe<FastifyRequest<{ Params: { name: string } }>>()
        return request.params.name
      }
    })
    app.route(route)
    expect(route).type.toBe<RouteOptions<RawServerDefault, IncomingMessage, ServerResponse, { Params: { name: string } }>>()
  })

  test('getPath may return a path, null, undefined, the reply, or a Promise of those', () => {
    expect(pathDownloadRoute).type.toBeCallableWith({ url: '/a', getPath: () => 'a.txt' })
    expect(pathDownloadRoute).type.toBeCallableWith({ url: '/a', getPath: async () => 'a.txt' })
    expect(pathDownloadRoute).type.toBeCallableWith({ url: '/a', getPath: () => null })
    expect(pathDownloadRoute).type.toBeCallableWith({ url: '/a', getPath: async () => undefined })
    expect(pathDownloadRoute).type.toBeCallableWith({ url: '/a', getPath: (request: FastifyRequest, reply: FastifyReply) => reply.redirect('/b') })
  })

  test('rejects another return, a missing getPath and wrong options', () => {
    expect(pathDownloadRoute).type.not.toBeCallableWith({ url: '/a', getPath: () => 42 })
    expect(pathDownloadRoute).type.not.toBeCallableWith({ url: '/a', getPath: () => new Blob(['x']) })
    expect(pathDownloadRoute).type.not.toBeCallableWith({ url: '/a' })
    expect(pathDownloadRoute).type.not.toBeCallableWith({ url: '/a', getPath: () => 'a', dotfiles: 'hide' })
    expect(pathDownloadRoute).type.not.toBeCallableWith({ url: '/a', getPath: () => 'a', handler: () => null })
    expect(pathDownloadRoute).type.not.toBeCallableWith({ url: '/a', getPath: () => 'a', pathDownload: true })
  })

  test('compiles on an HTTP/2 server', () => {
    const h2 = Fastify({ http2: true })
    h2.route(pathDownloadRoute({ url: '/a', root: '/srv', getPath: (request) => request.url }))
  })
})
