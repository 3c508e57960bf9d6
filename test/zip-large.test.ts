// The archive sizes where ZIP's limits and yazl's size prediction meet, over real HTTP: more than
// 65,535 entries (ZIP64), and a central directory past 64 KiB with fewer entries and under 4 GiB,
// where yazl 3.3.1 predicts 76 bytes too many unless the archive is ended with a ZIP64 record
// (lib/zip/yazl-writer.ts). Each archive's Content-Length is its exact length, and three readers
// read it whole.
import t from 'tap'
import { ContentFile, ZipFile } from '../lib/index.js'
import { download, startServer, type ServerKind } from './protocols.js'
import { hasZip64End, readsBack } from './zip-readers.js'

/** `count` entries named with `pad` characters: small contents, long names make the central directory large. */
function entries (count: number, pad: number): Array<{ name: string, content: string }> {
  return Array.from({ length: count }, (_, i) => ({ name: `${String(i).padStart(pad, '0')}.txt`, content: `entry ${i}\n` }))
}

t.test('more than 65,535 entries: ZIP64, with an exact Content-Length', async (t) => {
  const expected = entries(65_536, 5)
  const server = await startServer('http1', (app) => {
    app.get('/many.zip', { virtualDownload: true }, () => new ZipFile(expected.map(({ name, content }) => ({ name, file: new ContentFile(content) }))))
  })
  t.teardown(() => server.close())
  const result = await download('curl', `${server.base}/many.zip`)
  t.equal(result.status, 200)
  t.notOk(result.failed, result.detail)
  t.equal(result.headers['content-length'], String(result.body.length), `Content-Length is the archive's length (${result.body.length} bytes)`)
  t.ok(hasZip64End(result.body), 'a ZIP64 end of central directory')
  const listing = await readsBack(t, result.body, expected)
  t.equal(listing.entries.length, 65_536, 'Python reads 65,536 entries')
})

// 1,000 entries of 64-byte names: a central directory of 1,000 x (46 + 9 + 68) = 123,000 bytes
const TRAP = entries(1000, 64)
// 400 of them: 49,200 bytes, under 64 KiB
const UNDER = entries(400, 64)

for (const kind of ['http1', 'h2c'] as ServerKind[]) {
  t.test(`${kind}: a central directory past 64 KiB with 1,000 entries, and one under it`, async (t) => {
    const server = await startServer(kind, (app) => {
      app.get('/trap.zip', { virtualDownload: true }, () => new ZipFile(TRAP.map(({ name, content }) => ({ name, file: new ContentFile(content) }))))
      app.get('/under.zip', { virtualDownload: true }, () => new ZipFile(UNDER.map(({ name, content }) => ({ name, file: new ContentFile(content) }))))
    })
    t.teardown(() => server.close())
    const client = kind === 'http1' ? 'curl' : 'curl-h2c'
    for (const [path, expected, zip64] of [['/trap.zip', TRAP, true], ['/under.zip', UNDER, false]] as const) {
      const result = await download(client, `${server.base}${path}`)
      t.notOk(result.failed, `${path}: complete (${result.detail})`)
      t.equal(result.headers['content-length'], String(result.body.length), `${path}: Content-Length is the archive's length (${result.body.length} bytes)`)
      t.equal(hasZip64End(result.body), zip64, `${path}: ${zip64 ? 'ended with a ZIP64 record, as the prediction counts it' : 'a plain end of central directory'}`)
      await readsBack(t, result.body, expected)
    }
  })
}
