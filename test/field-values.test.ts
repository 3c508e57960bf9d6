import t from 'tap'
import { isFieldValue, isMediaType, isToken, toEntityTag } from '../lib/http/field-values.js'

t.test('media types', async (t) => {
  for (const ok of ['text/csv', 'application/vnd.ms-excel', 'text/csv; header=present', 'text/plain;charset="utf-8"', 'image/svg+xml']) {
    t.ok(isMediaType(ok), ok)
  }
  for (const bad of ['text', 'text/', '/csv', 'text/csv\r\nX: y', 'text/csv; =x', 'text /csv', '']) {
    t.notOk(isMediaType(bad), JSON.stringify(bad))
  }
})

t.test('tokens and field values', async (t) => {
  t.ok(isToken('utf-8'))
  t.notOk(isToken('utf 8'))
  t.notOk(isToken(''))
  t.ok(isFieldValue('public, max-age=60'))
  t.notOk(isFieldValue('no-store\r\nX-Evil: 1'))
  t.notOk(isFieldValue('a\u0000'))
})

t.test('entity tags (RFC 9110 §8.8.3)', async (t) => {
  const table: Array<[string, string | undefined]> = [
    ['abc', '"abc"'],
    ['"abc"', '"abc"'],
    ['W/"abc"', 'W/"abc"'],
    ['', '""'],
    ['a"b', undefined],
    ['a b', undefined],
    ['abc\r\n', undefined],
    ['"unterminated', undefined]
  ]
  for (const [input, expected] of table) t.equal(toEntityTag(input), expected, JSON.stringify(input))
})
