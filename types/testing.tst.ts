// assertDownloadResponse from 'fastify-downloadview/testing': nothing for an inject() response, a
// Promise for a fetch Response; only the documented expectations.
import Fastify from 'fastify'
import { assertDownloadResponse, type DownloadExpectations } from 'fastify-downloadview/testing'
import { describe, expect, test } from 'tstyche'

const app = Fastify()

describe('assertDownloadResponse', () => {
  test('returns void for an inject() response and a Promise for a fetch Response', async () => {
    const injected = await app.inject('/report.csv')
    expect(assertDownloadResponse(injected, { basename: 'report.csv' })).type.toBe<void>()
    const fetched = await fetch('http://127.0.0.1:3000/report.csv')
    expect(assertDownloadResponse(fetched, { content: 'a,b\n' })).type.toBe<Promise<void>>()
  })

  test('takes the documented expectations, each optional', () => {
    expect<DownloadExpectations>().type.toBe<{
      basename?: string | undefined
      content?: string | Uint8Array | undefined
      mimeType?: string | undefined
      contentType?: string | undefined
      attachment?: boolean | undefined
    }>()
    expect(assertDownloadResponse).type.not.toBeCallableWith({ statusCode: 200 }, {})
    expect(assertDownloadResponse).type.not.toBeCallableWith(new Response('x'), { filename: 'x' })
    expect(assertDownloadResponse).type.not.toBeCallableWith(new Response('x'), { attachment: 'yes' })
  })
})
