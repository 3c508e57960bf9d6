// ZipFile: its entries (arrays, iterables, async iterables of { name, file }), its options, and
// what it is as a DownloadFile.
import { Readable } from 'node:stream'
import {
  ContentFile,
  HTTPFile,
  InvalidZipEntry,
  TextIteratorIO,
  VirtualFile,
  ZipFile,
  type DownloadFile,
  type ZipEntry,
  type ZipFileOptions
} from 'fastify-downloadview'
import { describe, expect, test } from 'tstyche'

declare const row: DownloadFile

function * entries (): Generator<ZipEntry> {
  yield { name: 'a.txt', file: new ContentFile('a') }
}
async function * remoteEntries (): AsyncGenerator<ZipEntry> {
  yield { name: 'b.pdf', file: new HTTPFile('https://example.com/b.pdf') }
}

describe('ZipFile', () => {
  test('takes entries as an array, an iterable or an async iterable of { name, file }', () => {
    expect(ZipFile).type.toBeConstructableWith([])
    expect(ZipFile).type.toBeConstructableWith([
      { name: 'report.csv', file: new VirtualFile(() => 'a,b\n', { size: 4 }) },
      { name: 'scans/page-1.png', file: new Blob([new Uint8Array(3)]) },
      { name: 'notes.txt', file: new File(['notes'], 'notes.txt') },
      { name: 'row.csv', file: row }
    ])
    expect(ZipFile).type.toBeConstructableWith(entries())
    expect(ZipFile).type.toBeConstructableWith(remoteEntries())
    expect(ZipFile).type.toBeConstructableWith(new Set<ZipEntry>())
    const readonlyEntries: readonly ZipEntry[] = [{ name: 'a.txt', file: new ContentFile('a') }]
    expect(ZipFile).type.toBeConstructableWith(readonlyEntries)
  })

  test('takes its options', () => {
    expect(ZipFile).type.toBeConstructableWith([], { name: 'bundle.zip', compress: true, modifiedTime: new Date(), etag: '"v1"' })
    expect(ZipFile).type.toBeConstructableWith([], { name: undefined, compress: undefined, modifiedTime: undefined, etag: undefined })
    const options: ZipFileOptions = { compress: false }
    expect(ZipFile).type.toBeConstructableWith(entries(), options)
  })

  test('rejects entries that are not { name, file }', () => {
    expect(ZipFile).type.not.toBeConstructableWith()
    expect(ZipFile).type.not.toBeConstructableWith('a.txt')
    expect(ZipFile).type.not.toBeConstructableWith([{ name: 'a.txt' }])
    expect(ZipFile).type.not.toBeConstructableWith([{ name: 'a.txt', file: 'content' }])
    expect(ZipFile).type.not.toBeConstructableWith([{ name: 1, file: new ContentFile('a') }])
    expect(ZipFile).type.not.toBeConstructableWith([{ path: 'a.txt', file: new ContentFile('a') }])
    expect(ZipFile).type.not.toBeConstructableWith([Readable.from(['a'])])
    expect(ZipFile).type.not.toBeConstructableWith([new TextIteratorIO(['a'])])
  })

  test('rejects wrong and misspelled options (JavaScript gets a TypeError naming them)', () => {
    expect(ZipFile).type.not.toBeConstructableWith([], { compress: 'yes' })
    expect(ZipFile).type.not.toBeConstructableWith([], { modifiedTime: '2026-01-01' })
    expect(ZipFile).type.not.toBeConstructableWith([], { size: 10 })
    expect(ZipFile).type.not.toBeConstructableWith([], { comprss: true })
    expect(new ZipFile([], { nmae: 'a.zip' })).type.toRaiseError("'nmae' does not exist in type 'ZipFileOptions'")
  })

  test('is a DownloadFile that never offers ranges', () => {
    const zip = new ZipFile(entries(), { name: 'bundle.zip' })
    expect(zip).type.toBeAssignableTo<DownloadFile>()
    expect(zip.size).type.toBe<number | undefined>()
    expect(zip.name).type.toBe<string | undefined>()
    expect(zip.contentType).type.toBe<'application/zip'>()
    expect(zip.acceptsRanges).type.toBe<false>()
    expect(zip.stream()).type.toBeAssignableTo<Readable>()
    expect(zip.close()).type.toBe<Promise<void>>()
  })

  test('its refused entries are an error of the package', () => {
    expect(new InvalidZipEntry('#1 "../x"', 'a ".." segment')).type.toBeAssignableTo<TypeError>()
  })
})
