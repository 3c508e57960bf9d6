import t from 'tap'
import { modifiedSince, notModified, parseHttpDate, preconditionFailed, strongMatch, weakMatch } from '../lib/http/conditional.js'

const mtime = new Date('2026-01-02T03:04:05.678Z')
const HTTP_DATE = 'Fri, 02 Jan 2026 03:04:05 GMT'

t.test('HTTP dates (RFC 9110 §5.6.7)', async (t) => {
  t.same(parseHttpDate(HTTP_DATE), new Date('2026-01-02T03:04:05Z'))
  t.same(parseHttpDate('Friday, 02-Jan-26 03:04:05 GMT'), new Date('2026-01-02T03:04:05Z'))
  t.same(parseHttpDate('Fri Jan  2 03:04:05 2026'), new Date('2026-01-02T03:04:05Z'))
  for (const junk of ['1', 'yesterday', '2026-01-02', 'Fri, 32 Jan 2026 03:04:05 GMT', '', 'Fri, 02 Jan 2026 03:04:05 +0200']) {
    t.equal(parseHttpDate(junk), undefined, JSON.stringify(junk))
  }
  t.equal(parseHttpDate(undefined), undefined)
})

t.test('entity-tag comparison (RFC 9110 §8.8.3.2)', async (t) => {
  // [header, file etag, weak, strong]
  const table: Array<[string, string | undefined, boolean, boolean]> = [
    ['"a"', '"a"', true, true],
    ['W/"a"', '"a"', true, false],
    ['"a"', 'W/"a"', true, false],
    ['W/"a"', 'W/"a"', true, false],
    ['"b", "a"', '"a"', true, true],
    ['"b",W/"a"', '"a"', true, false],
    ['"b"', '"a"', false, false],
    ['*', '"a"', true, true],
    ['*', undefined, true, true],
    ['"a"', undefined, false, false],
    ['junk', '"a"', false, false],
    ['"a,b"', '"a,b"', true, true]
  ]
  for (const [header, etag, weak, strong] of table) {
    t.equal(weakMatch(header, etag), weak, `weak ${header} vs ${String(etag)}`)
    t.equal(strongMatch(header, etag), strong, `strong ${header} vs ${String(etag)}`)
  }
})

t.test('modified since', async (t) => {
  t.equal(modifiedSince({ modifiedTime: mtime }, new Date('2026-01-02T03:04:05Z')), false, 'same second')
  t.equal(modifiedSince({ modifiedTime: mtime }, new Date('2026-01-02T03:04:04Z')), true)
  t.equal(modifiedSince({}, new Date()), true, 'unknown counts as modified')
  t.equal(modifiedSince({ modifiedTime: mtime, wasModifiedSince: () => false }, new Date(0)), false, 'the wrapper is trusted')
})

t.test('If-None-Match / If-Modified-Since', async (t) => {
  const file = { etag: '"v1"', modifiedTime: mtime }
  t.equal(notModified({}, file), false)
  t.equal(notModified({ 'if-none-match': '"v1"' }, file), true)
  t.equal(notModified({ 'if-none-match': 'W/"v1"' }, file), true)
  t.equal(notModified({ 'if-none-match': '"v2"' }, file), false)
  t.equal(notModified({ 'if-none-match': '"v2"', 'if-modified-since': HTTP_DATE }, file), false, 'IMS ignored when INM present')
  t.equal(notModified({ 'if-modified-since': HTTP_DATE }, file), true)
  t.equal(notModified({ 'if-modified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, file), false)
  t.equal(notModified({ 'if-modified-since': 'garbage' }, file), false)
  t.equal(notModified({ 'if-modified-since': HTTP_DATE }, {}), false, 'no validators: modified')
  t.equal(await notModified({ 'if-modified-since': HTTP_DATE }, { wasModifiedSince: async () => false }), true)
  t.equal(await notModified({ 'if-modified-since': HTTP_DATE }, { wasModifiedSince: async () => true }), false)
})

t.test('If-Match / If-Unmodified-Since', async (t) => {
  const file = { etag: '"v1"', modifiedTime: mtime }
  t.equal(preconditionFailed({}, file), false)
  t.equal(preconditionFailed({ 'if-match': '"v1"' }, file), false)
  t.equal(preconditionFailed({ 'if-match': '*' }, file), false)
  t.equal(preconditionFailed({ 'if-match': '"v2"' }, file), true)
  t.equal(preconditionFailed({ 'if-match': 'W/"v1"' }, file), true, 'If-Match is strong')
  t.equal(preconditionFailed({ 'if-match': '"v1"', 'if-unmodified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, file), false, 'IUS ignored with If-Match')
  t.equal(preconditionFailed({ 'if-unmodified-since': HTTP_DATE }, file), false)
  t.equal(preconditionFailed({ 'if-unmodified-since': 'Thu, 01 Jan 2026 00:00:00 GMT' }, file), true)
  t.equal(preconditionFailed({ 'if-unmodified-since': 'junk' }, file), false)
  t.equal(preconditionFailed({ 'if-unmodified-since': HTTP_DATE }, {}), false, 'no date to compare')
  t.equal(await preconditionFailed({ 'if-unmodified-since': HTTP_DATE }, { wasModifiedSince: async () => true }), true)
})
