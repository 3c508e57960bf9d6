import t from 'tap'
import { responseHeaders, typeAndDisposition } from '../lib/http/headers.js'
import { readMetadata } from '../lib/metadata.js'
import { resolvePlan } from '../lib/options.js'
import type { DownloadFile } from '../lib/types.js'

const mtime = new Date('2026-01-02T03:04:05Z')
const file = readMetadata({ name: 'reports/r.csv', size: 100, modifiedTime: mtime, etag: 'v1', acceptsRanges: true, stream: () => '' })
const plan = resolvePlan({ cacheControl: 'private, max-age=60' })

t.test('headers per decision', async (t) => {
  t.same(responseHeaders(plan, file, { status: 200, body: true }), {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': 'attachment; filename="r.csv"',
    'content-length': '100',
    'accept-ranges': 'bytes',
    'last-modified': 'Fri, 02 Jan 2026 03:04:05 GMT',
    etag: '"v1"',
    'cache-control': 'private, max-age=60'
  })
  t.same(responseHeaders(plan, file, { status: 206, range: { start: 10, end: 19 }, body: true }), {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': 'attachment; filename="r.csv"',
    'content-length': '10',
    'content-range': 'bytes 10-19/100',
    'accept-ranges': 'bytes',
    'last-modified': 'Fri, 02 Jan 2026 03:04:05 GMT',
    etag: '"v1"',
    'cache-control': 'private, max-age=60'
  })
  t.same(responseHeaders(plan, file, { status: 304, body: false }), {
    'last-modified': 'Fri, 02 Jan 2026 03:04:05 GMT',
    etag: '"v1"',
    'cache-control': 'private, max-age=60'
  })
  t.same(responseHeaders(plan, file, { status: 416, body: false }), { 'content-range': 'bytes */100', 'accept-ranges': 'bytes' })
  t.same(responseHeaders(plan, file, { status: 412, body: false }), {})
  t.same(responseHeaders(resolvePlan({ acceptRanges: false }), file, { status: 200, body: true })['accept-ranges'], undefined)
})

t.test('only the headers the file supplies', async (t) => {
  const bare = readMetadata({ stream: () => '' })
  t.same(responseHeaders(resolvePlan({}), bare, { status: 200, body: true }), {
    'content-type': 'application/octet-stream',
    'content-disposition': 'attachment'
  })
})

t.test('content type and disposition precedence', async (t) => {
  const meta = (fields: Partial<DownloadFile>) => readMetadata({ stream: () => '', ...fields })
  const table: Array<[object, Partial<DownloadFile>, string, string]> = [
    [{}, { name: 'a.json' }, 'application/json; charset=utf-8', 'attachment; filename="a.json"'],
    [{}, { name: 'a.json', charset: 'utf-16le' }, 'application/json; charset=utf-16le', 'attachment; filename="a.json"'],
    [{}, { name: 'a.bin', contentType: 'text/plain' }, 'text/plain; charset=utf-8', 'attachment; filename="a.bin"'],
    [{ mimetype: 'text/csv' }, { name: 'a.bin', contentType: 'text/plain' }, 'text/csv; charset=utf-8', 'attachment; filename="a.bin"'],
    [{ charset: 'iso-8859-1' }, { name: 'a.txt', charset: 'utf-8' }, 'text/plain; charset=iso-8859-1', 'attachment; filename="a.txt"'],
    [{ basename: 'b.png' }, { name: 'a.txt' }, 'image/png', 'attachment; filename="b.png"'],
    [{ attachment: false }, { name: 'x/y/a.txt' }, 'text/plain; charset=utf-8', 'inline; filename="a.txt"'],
    [{ mimetype: 'image/png' }, {}, 'image/png', 'attachment'],
    [{}, { name: 'evil\r\n.txt' }, 'text/plain; charset=utf-8', 'attachment; filename="evil__.txt"']
  ]
  for (const [options, fields, type, disposition] of table) {
    t.same(typeAndDisposition(resolvePlan(options), meta(fields)), [type, disposition], JSON.stringify([options, fields]))
  }
})

t.test('bad file content types and charsets fail before any header', async (t) => {
  t.throws(() => typeAndDisposition(resolvePlan({}), readMetadata({ contentType: 'text/plain\r\nX: 1', stream: () => '' })), { message: /Invalid file contentType/ })
  t.throws(() => typeAndDisposition(resolvePlan({}), readMetadata({ charset: 'a b', stream: () => '' })), { message: /Invalid file charset/ })
})

t.test('the per-plan cache computes once and stays bounded', async (t) => {
  const plan = resolvePlan({})
  const a = typeAndDisposition(plan, readMetadata({ name: 'a.txt', stream: () => '' }))
  t.equal(typeAndDisposition(plan, readMetadata({ name: 'a.txt', stream: () => '' })), a, 'same array: cached')
  t.same(typeAndDisposition(plan, readMetadata({ name: 'a.txt', contentType: 'text/html', stream: () => '' })), ['text/html; charset=utf-8', 'attachment; filename="a.txt"'], 'same name, another type: recomputed')
  t.same(typeAndDisposition(plan, readMetadata({ name: 'a.txt', charset: 'utf-16le', stream: () => '' }))[0], 'text/plain; charset=utf-16le')
  for (let i = 0; i < 1500; i++) typeAndDisposition(plan, readMetadata({ name: `${i}.txt`, stream: () => '' }))
  t.ok(plan.headerCache.size <= 1000)
})
