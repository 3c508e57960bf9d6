import fc from 'fast-check'
import t from 'tap'
import { ContentFile, VirtualFile } from '../lib/index.js'
import { build } from './helpers.js'

// Whatever a client puts in the headers this plugin reads, the answer is never a 5xx and its
// headers stay well-formed.
t.test('malformed conditional and range headers never give a 5xx (property)', async (t) => {
  const { app } = await build()
  const mtime = new Date('2026-01-02T03:04:05Z')
  app.get('/memory', { virtualDownload: true }, () => new ContentFile('0123456789', { name: 'd.txt', etag: 'v1', modifiedTime: mtime }))
  app.get('/stream', { virtualDownload: true }, () => new VirtualFile(['0123456789'], { name: 's.txt', etag: 'W/"v1"', size: 10 }))

  const headerValue = fc.oneof(
    fc.string({ maxLength: 40 }).map((value) => value.replace(/[^\t\x20-\x7e]/g, '')),
    fc.constantFrom('bytes=', 'bytes=-', 'bytes=0-', 'bytes=-0', 'bytes=5-2', 'bytes=0-0,1-1', 'bytes=99999999999999999999-',
      '*', '"v1"', 'W/"v1"', '"v1', 'W/', ',,,', mtime.toUTCString(), 'Fri, 99 Jan 2026 03:04:05 GMT', '0')
  )
  const names = ['range', 'if-range', 'if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since'] as const
  const headers = fc.record(Object.fromEntries(names.map((name) => [name, headerValue])) as Record<typeof names[number], fc.Arbitrary<string>>, { requiredKeys: [] })

  await fc.assert(fc.asyncProperty(headers, fc.constantFrom('/memory', '/stream'), fc.constantFrom('GET', 'HEAD'), async (headers, url, method) => {
    const response = await app.inject({ method: method as 'GET' | 'HEAD', url, headers })
    return response.statusCode < 500 && [200, 206, 304, 412, 416].includes(response.statusCode)
  }), { numRuns: 500 })
  t.pass('500 requests')
})
