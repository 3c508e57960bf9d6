// The plugin's exports and registration, as a consumer sees them (through package.json `exports`).
import Fastify, { type FastifyPluginAsync, type FastifyPluginCallback, type FastifyRequest } from 'fastify'
import fastifyDownloadView, {
  fastifyDownloadView as namedFastifyDownloadView,
  type ByteRange,
  type DownloadEvent,
  type DownloadOptions
} from 'fastify-downloadview'
import { describe, expect, test } from 'tstyche'

const app = Fastify()

describe('plugin export', () => {
  test('the default and the named export are the same plugin', () => {
    expect(namedFastifyDownloadView).type.toBe(fastifyDownloadView)
    // callback or async is the implementers' choice; its options are DownloadOptions either way
    expect(fastifyDownloadView).type.toBeAssignableTo<
      FastifyPluginCallback<DownloadOptions> | FastifyPluginAsync<DownloadOptions>
    >()
  })

  test('DownloadOptions is the documented set of options', () => {
    expect<DownloadOptions>().type.toBe<{
      attachment?: boolean
      basename?: string
      mimetype?: string
      charset?: string
      cacheControl?: string
      acceptRanges?: boolean
      maxRanges?: number
      onDownloadEnd?: (event: DownloadEvent) => void
    }>()
  })
})

describe('app.register', () => {
  test('accepts the plugin with or without DownloadOptions', async () => {
    await app.register(fastifyDownloadView)
    await app.register(fastifyDownloadView, { attachment: false })
    await app.register(namedFastifyDownloadView, {
      attachment: true,
      basename: 'report.csv',
      mimetype: 'text/csv',
      charset: 'utf-8',
      cacheControl: 'no-store',
      acceptRanges: false,
      maxRanges: 4,
      onDownloadEnd (event) {
        expect(event.outcome).type.toBe<'complete' | 'aborted' | 'error'>()
        expect(event.ranges).type.toBe<ByteRange[] | undefined>()
        expect(event.request).type.toBe<FastifyRequest>()
      }
    })
    // Fastify's own register options come along with the plugin's
    await app.register(fastifyDownloadView, { prefix: '/downloads', attachment: false })

    expect(app.register).type.toBeCallableWith(fastifyDownloadView, { attachment: false })
    expect(app.register).type.toBeCallableWith(namedFastifyDownloadView, {})
  })

  test('rejects an option of the wrong type', () => {
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { attachment: 'yes' })
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { basename: 5 })
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { cacheControl: 3600 })
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { acceptRanges: 'bytes' })
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { maxRanges: '16' })
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { onDownloadEnd: 'log' })

    // @ts-expect-error No overload matches this call
    void app.register(fastifyDownloadView, { attachment: 'yes' })
  })

  test('rejects an unknown option', () => {
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { download: true })
    expect(app.register).type.not.toBeCallableWith(fastifyDownloadView, { attachment: true, inline: true })

    // @ts-expect-error No overload matches this call
    void app.register(fastifyDownloadView, { attachment: false, contentType: 'text/plain' })
  })
})
