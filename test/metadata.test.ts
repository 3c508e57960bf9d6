import t from 'tap'
import { readMetadata } from '../lib/metadata.js'
import type { DownloadFile } from '../lib/types.js'

const stream = (): string => ''

t.test('fields are read once and checked', async (t) => {
  const mtime = new Date('2026-01-02T03:04:05Z')
  t.same(readMetadata({ name: 'a.txt', size: 3, modifiedTime: mtime, etag: 'x', contentType: 'text/plain', charset: 'utf-8', acceptsRanges: true, stream }), {
    name: 'a.txt', size: 3, modifiedTime: mtime, etag: '"x"', contentType: 'text/plain', charset: 'utf-8', ranges: true, multipleRanges: false
  })
  t.equal(readMetadata({ acceptsRanges: true, stream }).ranges, false, 'no ranges without a size')
  t.equal(readMetadata({ size: 3, stream }).ranges, false, 'no ranges unless the file can slice')
  t.equal(readMetadata({ size: 0, acceptsRanges: true, stream }).ranges, true)
})

t.test('bad fields fail with the field name', async (t) => {
  const table: Array<[Partial<DownloadFile>, RegExp]> = [
    [{ size: -1 }, /Invalid file size: must be a non-negative integer, got -1/],
    [{ size: 1.5 }, /size/],
    [{ size: Number.NaN }, /size/],
    [{ size: '3' as unknown as number }, /size/],
    [{ modifiedTime: new Date('nope') }, /Invalid file modifiedTime: must be a valid Date/],
    [{ modifiedTime: 'yesterday' as unknown as Date }, /modifiedTime/],
    [{ etag: 'a"b' }, /Invalid file etag: "a\\"b" is not an entity-tag/],
    [{ etag: 5 as unknown as string }, /etag/],
    [{ name: 5 as unknown as string }, /Invalid file name: must be a string/]
  ]
  for (const [fields, message] of table) {
    t.throws(() => readMetadata({ ...fields, stream }), { code: 'FST_DOWNLOADVIEW_INVALID_FILE_FIELD', message }, JSON.stringify(fields))
  }
})
