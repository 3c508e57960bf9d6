import t from 'tap'
import { ifRangeMatches, parseRange } from '../lib/http/range.js'

t.test('Range against a 100-byte file (RFC 9110 §14.1.2, §14.2)', async (t) => {
  const table: Array<[string, ReturnType<typeof parseRange>]> = [
    ['bytes=0-9', { start: 0, end: 9 }],
    ['bytes=10-', { start: 10, end: 99 }],
    ['bytes=-10', { start: 90, end: 99 }],
    ['bytes=-1000', { start: 0, end: 99 }],
    ['bytes=90-1000', { start: 90, end: 99 }],
    ['bytes=99-99', { start: 99, end: 99 }],
    ['BYTES=0-0', { start: 0, end: 0 }],
    ['bytes= 5-6 ', { start: 5, end: 6 }],
    ['bytes=0-1,', { start: 0, end: 1 }],
    ['bytes=100-', 'unsatisfiable'],
    ['bytes=100-200', 'unsatisfiable'],
    ['bytes=-0', 'unsatisfiable'],
    ['bytes=5-2', undefined],
    ['bytes=0-1,3-4', undefined],
    ['bytes=0-1,200-300', undefined],
    ['items=0-1', undefined],
    ['bytes', undefined],
    ['bytes=', undefined],
    ['bytes=-', undefined],
    ['bytes=a-b', undefined],
    ['bytes=1-2-3', undefined],
    ['bytes=0x10-', undefined],
    ['bytes=-1.5', undefined],
    ['', undefined]
  ]
  for (const [header, expected] of table) t.same(parseRange(header, 100), expected, JSON.stringify(header))
})

t.test('an empty file ignores every Range: no 206 can describe it, the full 200 does (§14.1.1, §14.2)', async (t) => {
  const table = ['bytes=-1', 'bytes=-5', 'bytes=-0', 'bytes=0-', 'bytes=0-0', 'bytes=5-9', 'bytes=0-0,2-3',
    'bytes=5-2', 'items=0-1', 'bytes=a-b', 'bytes', '']
  for (const header of table) t.equal(parseRange(header, 0), undefined, JSON.stringify(header))
  t.same(parseRange('bytes=-1', 1), { start: 0, end: 0 }, 'a one-byte file is sliced as usual')
  t.equal(parseRange('bytes=1-', 1), 'unsatisfiable')
})

t.test('If-Range (RFC 9110 §13.1.5)', async (t) => {
  const mtime = new Date('2026-01-02T03:04:05.678Z')
  const file = { etag: '"v1"', modifiedTime: mtime }
  t.equal(ifRangeMatches('"v1"', file), true)
  t.equal(ifRangeMatches(' "v1" ', file), true)
  t.equal(ifRangeMatches('"v2"', file), false)
  t.equal(ifRangeMatches('W/"v1"', file), false, 'weak tags never match')
  t.equal(ifRangeMatches('"v1"', { etag: 'W/"v1"' }), false, 'a weak file tag never matches')
  t.equal(ifRangeMatches('"v1"', {}), false)
  t.equal(ifRangeMatches('Fri, 02 Jan 2026 03:04:05 GMT', file), true)
  t.equal(ifRangeMatches('Fri, 02 Jan 2026 03:04:06 GMT', file), false)
  t.equal(ifRangeMatches('Fri, 02 Jan 2026 03:04:05 GMT', { etag: '"v1"' }), false)
  t.equal(ifRangeMatches('not a date', file), false)
})
