import type { FastifyRequest } from 'fastify'
import t from 'tap'
import { decide } from '../lib/http/decide.js'
import { readMetadata } from '../lib/metadata.js'
import type { DownloadFile } from '../lib/types.js'

const mtime = new Date('2026-01-02T03:04:05Z')
const DATE = mtime.toUTCString()
const OLD = 'Thu, 01 Jan 2026 00:00:00 GMT'

function request (method: string, headers: Record<string, string> = {}): FastifyRequest {
  return { method, headers } as unknown as FastifyRequest
}

const rangeable: DownloadFile = { size: 100, etag: '"v1"', modifiedTime: mtime, acceptsRanges: true, stream: () => '' }
const stream: DownloadFile = { etag: '"v1"', stream: () => '' }
const empty: DownloadFile = { size: 0, etag: '"v0"', modifiedTime: mtime, acceptsRanges: true, stream: () => '' }
const multiple: DownloadFile = { ...rangeable, size: 1000, acceptsMultipleRanges: true }

t.test('decision table', async (t) => {
  // [method, headers, file, acceptRanges, expected]
  // acceptRanges, or a number: maxRanges (ranges accepted)
  const table: Array<[string, Record<string, string>, DownloadFile, boolean | number, object]> = [
    ['GET', {}, rangeable, true, { status: 200, body: true }],
    ['HEAD', {}, rangeable, true, { status: 200, body: false }],
    ['GET', { range: 'bytes=0-9' }, rangeable, true, { status: 206, range: { start: 0, end: 9 }, body: true }],
    ['GET', { range: 'bytes=0-9' }, rangeable, false, { status: 200, body: true }],
    ['GET', { range: 'bytes=0-9' }, stream, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=0-9' }, { ...stream, acceptsRanges: true }, true, { status: 200, body: true }],
    ['HEAD', { range: 'bytes=0-9' }, rangeable, true, { status: 200, body: false }],
    ['GET', { range: 'bytes=200-' }, rangeable, true, { status: 416, body: false }],
    // several ranges: closer than 80 bytes, one range; apart, multipart where the file can, else 200
    ['GET', { range: 'bytes=0-1,5-6' }, rangeable, true, { status: 206, range: { start: 0, end: 6 }, body: true }],
    ['GET', { range: 'bytes=0-1,90-99' }, rangeable, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=0-1,200-300' }, rangeable, true, { status: 206, range: { start: 0, end: 1 }, body: true }],
    ['GET', { range: 'bytes=900-,0-1' }, multiple, true, { status: 206, ranges: [{ start: 0, end: 1 }, { start: 900, end: 999 }], body: true }],
    ['GET', { range: 'bytes=900-,0-1' }, multiple, 1, { status: 200, body: true }],
    ['GET', { range: 'bytes=0-1' }, multiple, 1, { status: 206, range: { start: 0, end: 1 }, body: true }],
    ['GET', { range: 'bytes=900-,0-1', 'if-range': '"v0"' }, multiple, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=2000-,3000-' }, multiple, true, { status: 416, body: false }],
    ['HEAD', { range: 'bytes=900-,0-1' }, multiple, true, { status: 200, body: false }],
    ['GET', { range: 'bytes=0-9', 'if-range': '"v1"' }, rangeable, true, { status: 206, range: { start: 0, end: 9 }, body: true }],
    ['GET', { range: 'bytes=0-9', 'if-range': '"v0"' }, rangeable, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=0-9', 'if-range': DATE }, rangeable, true, { status: 206, range: { start: 0, end: 9 }, body: true }],
    ['GET', { range: 'bytes=0-9', 'if-range': OLD }, rangeable, true, { status: 200, body: true }],
    ['GET', { 'if-none-match': '"v1"' }, rangeable, true, { status: 304, body: false }],
    ['HEAD', { 'if-none-match': '"v1"' }, rangeable, true, { status: 304, body: false }],
    ['GET', { 'if-none-match': '*' }, stream, true, { status: 304, body: false }],
    ['GET', { 'if-none-match': '"v0"', range: 'bytes=0-0' }, rangeable, true, { status: 206, range: { start: 0, end: 0 }, body: true }],
    ['GET', { 'if-modified-since': DATE }, rangeable, true, { status: 304, body: false }],
    ['GET', { 'if-modified-since': DATE }, stream, true, { status: 200, body: true }],
    ['GET', { 'if-match': '"v0"' }, rangeable, true, { status: 412, body: false }],
    ['GET', { 'if-unmodified-since': OLD }, rangeable, true, { status: 412, body: false }],
    ['GET', { 'if-match': '"v1"', range: 'bytes=0-0' }, rangeable, true, { status: 206, range: { start: 0, end: 0 }, body: true }],
    ['POST', {}, rangeable, true, { status: 200, body: true }],
    ['POST', { 'if-none-match': '"v1"' }, rangeable, true, { status: 412, body: false }],
    ['POST', { 'if-none-match': '"v0"' }, rangeable, true, { status: 200, body: true }],
    ['POST', { 'if-modified-since': DATE }, rangeable, true, { status: 200, body: true }],
    ['POST', { range: 'bytes=0-0' }, rangeable, true, { status: 200, body: true }],
    // an empty file: a range of nothing has no 206, every Range gets the full, empty 200 (RFC 9110 §14.1.1)
    ['GET', { range: 'bytes=-1' }, empty, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=0-0' }, empty, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=0-' }, empty, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=5-9' }, empty, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=-0' }, empty, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=0-0,2-3' }, empty, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=9-5' }, empty, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=-1', 'if-range': '"v0"' }, empty, true, { status: 200, body: true }],
    ['GET', { range: 'bytes=-1', 'if-none-match': '"v0"' }, empty, true, { status: 304, body: false }],
    ['HEAD', { range: 'bytes=-1' }, empty, true, { status: 200, body: false }]
  ]
  for (const [method, headers, file, acceptRanges, expected] of table) {
    const options = typeof acceptRanges === 'number' ? { acceptRanges: true, maxRanges: acceptRanges } : { acceptRanges, maxRanges: 16 }
    t.same(decide(request(method, headers), readMetadata(file), file, options), expected, `${method} ${JSON.stringify(headers)} ${JSON.stringify(options)}`)
  }
})

t.test('an asynchronous wasModifiedSince is awaited, with the file as this', async (t) => {
  const seen: unknown[] = []
  const file: DownloadFile = {
    stream: () => '',
    async wasModifiedSince (this: DownloadFile, since: Date) {
      seen.push(this, since)
      return false
    }
  }
  const decision = decide(request('GET', { 'if-modified-since': DATE }), readMetadata(file), file, { acceptRanges: true, maxRanges: 16 })
  t.ok(decision instanceof Promise)
  t.same(await decision, { status: 304, body: false })
  t.equal(seen[0], file)
  t.same(seen[1], mtime)
  t.same(await decide(request('GET', { 'if-unmodified-since': DATE }), readMetadata(file), file, { acceptRanges: true, maxRanges: 16 }), { status: 200, body: true })
})
