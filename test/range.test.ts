import t from 'tap'
import { ifRangeMatches, parseRanges } from '../lib/http/range.js'

/** One range, as the tables below expect it. */
function parseRange (header: string, size: number): { start: number, end: number } | 'unsatisfiable' | undefined {
  const ranges = parseRanges(header, size, 16)
  if (ranges === undefined || ranges === 'unsatisfiable') return ranges
  return ranges.length === 1 ? ranges[0] : undefined
}

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
    ['bytes=0-1,3-4', { start: 0, end: 4 }],
    ['bytes=0-1,200-300', { start: 0, end: 1 }],
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

t.test('several ranges against a 10,000-byte file (RFC 9110 §14.1.1, §14.2, §14.6)', async (t) => {
  // [header, maxRanges, expected]
  const table: Array<[string, number, ReturnType<typeof parseRanges>]> = [
    // apart by 80 bytes or more: separate parts, ascending whatever the order sent
    ['bytes=0-9,90-99', 16, [{ start: 0, end: 9 }, { start: 90, end: 99 }]],
    ['bytes=90-99,0-9', 16, [{ start: 0, end: 9 }, { start: 90, end: 99 }]],
    ['bytes=-10,0-0', 16, [{ start: 0, end: 0 }, { start: 9990, end: 9999 }]],
    // fewer than 80 bytes between them (79), or overlapping, or adjacent: coalesced
    ['bytes=0-9,89-99', 16, [{ start: 0, end: 99 }]],
    ['bytes=0-50,10-20', 16, [{ start: 0, end: 50 }]],
    ['bytes=0-9,10-19', 16, [{ start: 0, end: 19 }]],
    ['bytes=0-9,5-200,300-400,1000-', 16, [{ start: 0, end: 200 }, { start: 300, end: 400 }, { start: 1000, end: 9999 }]],
    ['bytes=500-600,0-', 16, [{ start: 0, end: 9999 }]],
    // a chain: each within 80 bytes of the last merged range
    ['bytes=0-0,50-50,100-100,150-150', 16, [{ start: 0, end: 150 }]],
    // unsatisfiable specs are dropped; none left: unsatisfiable
    ['bytes=0-9,20000-', 16, [{ start: 0, end: 9 }]],
    ['bytes=20000-,0-9,100-199', 16, [{ start: 0, end: 9 }, { start: 100, end: 199 }]],
    ['bytes=20000-,30000-30001,-0', 16, 'unsatisfiable'],
    // any malformed or invalid spec: the whole header is ignored
    ['bytes=0-9,x', 16, undefined],
    ['bytes=0-9,9-5', 16, undefined],
    ['bytes=0-9,-', 16, undefined],
    ['bytes=0-9,20000-,a-b', 16, undefined],
    // maxRanges counts the specs as sent (empty elements skipped, §5.6.1), before dropping or coalescing
    ['bytes=0-0,1-1,2-2', 3, [{ start: 0, end: 2 }]],
    ['bytes=0-0,1-1,2-2,3-3', 3, undefined],
    ['bytes=0-0,,1-1,', 2, [{ start: 0, end: 1 }]],
    ['bytes=0-9,20000-,30000-', 2, undefined],
    ['bytes=0-9,100-109', 1, undefined],
    ['bytes=0-9', 1, [{ start: 0, end: 9 }]]
  ]
  for (const [header, maxRanges, expected] of table) t.same(parseRanges(header, 10_000, maxRanges), expected, `${header} (maxRanges ${maxRanges})`)
})

t.test('property: parts are satisfiable, ascending, at least 80 bytes apart, and cover every byte asked', async (t) => {
  const fc = (await import('fast-check')).default
  const spec = fc.oneof(
    fc.tuple(fc.nat(12_000), fc.nat(3_000)).map(([first, length]) => `${first}-${first + length}`),
    fc.nat(12_000).map((first) => `${first}-`),
    fc.integer({ min: 1, max: 12_000 }).map((suffix) => `-${suffix}`)
  )
  fc.assert(fc.property(fc.integer({ min: 1, max: 10_000 }), fc.array(spec, { minLength: 1, maxLength: 16 }), (size, specs) => {
    const ranges = parseRanges(`bytes=${specs.join(',')}`, size, 16)
    const asked = new Set<number>()
    for (const one of specs) {
      const single = parseRanges(`bytes=${one}`, size, 1)
      if (Array.isArray(single)) for (let i = single[0].start; i <= single[0].end; i++) asked.add(i)
    }
    if (asked.size === 0) return ranges === 'unsatisfiable'
    if (!Array.isArray(ranges)) return false
    for (let i = 0; i < ranges.length; i++) {
      const { start, end } = ranges[i]
      if (start > end || end >= size) return false
      if (i > 0 && start - ranges[i - 1].end - 1 < 80) return false
    }
    // every byte asked is sent, and nothing is sent that lies 80 bytes or more from a byte asked
    for (const byte of asked) if (!ranges.some(({ start, end }) => start <= byte && byte <= end)) return false
    return ranges.every(({ start, end }) => asked.has(start) && asked.has(end))
  }), { numRuns: 300 })
  t.pass('300 random Range headers')
})
