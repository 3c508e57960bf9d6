// Every code block of README.md runs here, as a user would paste it, against the built package
// (dist/, imported as 'fastify-downloadview': a package may import itself by name). Each block is
// named by the `<!-- snippet: NAME -->` line above it; a block without a name (other than a
// ```text listing) or a name without a runner fails, so a new snippet cannot go untested.
import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import ts from 'typescript'
import { assertDownloadResponse } from '../lib/testing.js'
import { parseByteranges } from './fixtures/byteranges.js'
import { readsBack } from './zip-readers.js'

const run = promisify(execFile)
const root = new URL('..', import.meta.url)
const readme = await readFile(new URL('README.md', root), 'utf8')
const pkg = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { name: string, scripts: Record<string, string> }

interface Snippet { name: string, lang: string, code: string }

/** The fenced blocks of a Markdown text, each with the name given by the marker line above it. */
function snippets (markdown: string): { named: Snippet[], unnamed: string[] } {
  const lines = markdown.split('\n')
  const named: Snippet[] = []
  const unnamed: string[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)$/.exec(lines[i] ?? '')
    if (open === null) continue
    const end = lines.indexOf('```', i + 1)
    if (end === -1) throw new Error(`README.md line ${i + 1}: a code block is never closed`)
    const lang = open[1] ?? ''
    const name = /^<!-- snippet: ([\w-]+) -->$/.exec(lines[i - 1] ?? '')?.[1]
    if (name !== undefined) named.push({ name, lang, code: lines.slice(i + 1, end).join('\n') + '\n' })
    else if (lang !== 'text') unnamed.push(`line ${i + 1}: ${lines[i + 1] ?? ''}`)
    i = end
  }
  return { named, unnamed }
}

/** The files the on-disk snippets serve, next to them. */
const diskFiles: Tree = {
  files: {
    sub: { 'b.csv': 'a,b\n1,2\n' },
    '.env': 'SECRET=1\n',
    invoices: { '7.pdf': '%PDF-1.7 invoice 7\n' },
    legal: { 'terms-2026.txt': 'Terms of use\n' }
  }
}

type Tree = { [name: string]: string | Tree }

async function writeTree (dir: string, tree: Tree): Promise<void> {
  for (const [name, entry] of Object.entries(tree)) {
    if (typeof entry === 'string') await writeFile(join(dir, name), entry)
    else {
      await mkdir(join(dir, name))
      await writeTree(join(dir, name), entry)
    }
  }
}

/**
 * Writes a snippet that ends with `await app.listen(...)` as a module exporting the app, next to
 * `files`, and imports it. The folder is an app of its own outside the repository (the package and
 * fastify linked in its node_modules, as installed): tap's fixtures live under `.tap/`, a dot
 * folder that an absolute path download would refuse.
 */
/** The module of the last snippet appOf() ran: what else it exports. */
let lastModule: Record<string, unknown> = {}

async function appOf (t: Test, snippet: Snippet, files: Tree = {}, modules: readonly string[] = []): Promise<FastifyInstance> {
  t.match(snippet.code, /\nawait app\.listen\(\{ port: 3000 \}\)\n$/, 'ends by listening')
  const dir = await mkdtemp(join(tmpdir(), 'fdv-readme-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeTree(dir, { ...files, 'package.json': '{ "type": "module" }\n' })
  await mkdir(join(dir, 'node_modules'))
  await symlink(fileURLToPath(root), join(dir, 'node_modules', pkg.name))
  for (const name of ['fastify', ...modules]) await symlink(fileURLToPath(new URL(`node_modules/${name}`, root)), join(dir, 'node_modules', name))
  const file = join(dir, `snippet.${snippet.lang === 'ts' ? 'ts' : 'mjs'}`)
  await writeFile(file, snippet.code.replace('await app.listen({ port: 3000 })', 'export default app').replace('{ logger: true }', ''))
  const module = await import(pathToFileURL(file).href) as { default: FastifyInstance }
  lastModule = module
  const app = module.default
  t.teardown(() => app.close())
  return app
}

/** The TypeScript each TypeScript runner compiles, from its snippet. */
const COMPILED: Record<string, (code: string) => string> = {
  typescript: (code) => code,
  // the interface as README shows it is the exported one: each is assignable to the other
  'download-file': (code) => [
    "import type { FastifyRequest } from 'fastify'",
    "import type { ByteRange, DownloadFile as Exported, OpenContext } from 'fastify-downloadview'",
    code,
    'export const toExported = (file: DownloadFile): Exported => file',
    'export const fromExported = (file: Exported): DownloadFile => file',
    'export type Same = [keyof DownloadFile] extends [keyof Exported] ? [keyof Exported] extends [keyof DownloadFile] ? true : never : never',
    'export const same: Same = true'
  ].join('\n')
}

let compiled: Promise<Map<string, string[]>> | undefined

/**
 * The diagnostics of strict TypeScript (the strictest settings users have) on the snippet `name`.
 * Every TypeScript snippet is compiled in one program, once: checking the declarations it imports
 * (skipLibCheck: false) is most of the cost.
 */
async function typeErrors (name: string): Promise<string[]> {
  compiled ??= (async () => {
    const dir = await mkdtemp(join(fileURLToPath(root), '.tap', 'readme-ts-'))
    const files = new Map<string, string>()
    for (const { name, code } of named) {
      const make = COMPILED[name]
      if (make === undefined) continue
      const file = join(dir, `${name}.ts`)
      await writeFile(file, make(code))
      files.set(file, name)
    }
    const program = ts.createProgram([...files.keys()], {
      strict: true,
      exactOptionalPropertyTypes: true,
      noUncheckedIndexedAccess: true,
      skipLibCheck: false,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      types: ['node'],
      noEmit: true
    })
    const errors = new Map<string, string[]>([...files.values()].map((name) => [name, []]))
    for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
      const where = diagnostic.file !== undefined && diagnostic.start !== undefined
        ? `${diagnostic.file.fileName}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1} `
        : ''
      // a diagnostic outside the snippets (a declaration file) counts against each of them
      const owners = diagnostic.file === undefined || !files.has(diagnostic.file.fileName) ? [...errors.keys()] : [files.get(diagnostic.file.fileName) as string]
      for (const owner of owners) errors.get(owner)?.push(where + ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))
    }
    await rm(dir, { recursive: true, force: true })
    return errors
  })()
  return (await compiled).get(name) ?? [`no TypeScript made for the snippet ${name}`]
}

const runners: Record<string, (t: Test, snippet: Snippet) => Promise<void>> = {
  async install (t, { code }) {
    // test/package.test.ts installs the packed tarball the same way, in a fresh app
    t.equal(code, `npm i ${pkg.name}\n`, 'installs this package by its name')
  },

  async 'quick-start' (t, snippet) {
    const app = await appOf(t, snippet)
    const hello = await app.inject('/hello.txt')
    t.equal(hello.body, 'Hello world!\n')
    t.equal(hello.headers['content-disposition'], 'attachment; filename="hello-world.txt"')
    const generated = await app.inject('/generated.txt')
    t.equal(generated.body, 'Hello world!\n')
    t.equal(generated.headers['content-disposition'], 'inline; filename="hello-world.txt"')
    const report = await app.inject('/reports/42')
    t.equal(report.body, 'id,total\n1,9.99\n')
    t.equal(report.headers['content-disposition'], 'attachment; filename="report-42.csv"')
    t.equal(report.headers['cache-control'], 'private, no-cache')
    t.equal((await app.inject('/reports/7')).statusCode, 404)
  },

  async typescript (t, snippet) {
    t.same(await typeErrors('typescript'), [], 'compiles under strict, exactOptionalPropertyTypes, skipLibCheck: false')
    const app = await appOf(t, snippet)
    const sales = await app.inject('/sales/2026')
    t.equal(sales.statusCode, 200)
    t.equal(sales.headers['content-disposition'], 'attachment; filename="sales-2026.csv"')
    t.equal(sales.headers['content-type'], 'text/csv; charset=utf-8')
    t.equal(sales.body, 'month,total\n2026-01,42\n2026-02,17\n')
    t.equal((await app.inject('/sales/2030')).statusCode, 404, 'a year to come: FileNotFound')
    t.equal((await app.inject('/sales/twenty')).statusCode, 400, 'the params schema applies')
    const notes = await app.inject('/notes/ada')
    t.equal(notes.headers['content-disposition'], 'inline; filename="ada.txt"')
    t.equal(notes.body, 'Notes of ada\n')
    const motd = await app.inject('/motd')
    t.equal(motd.headers['content-disposition'], 'attachment; filename="motd.txt"')
    t.equal(motd.body, 'Be kind.\n')
  },

  async 'download-file' (t) {
    t.same(await typeErrors('download-file'), [], 'the same interface as the exported DownloadFile')
  },

  async 'row-export' (t, snippet) {
    const app = await appOf(t, snippet)
    const found = await app.inject('/exports/7')
    t.equal(found.statusCode, 200)
    t.equal(found.headers['content-disposition'], 'attachment; filename="Sales 2026.csv"')
    t.equal(found.headers.etag, '"v3"')
    t.equal(found.headers['last-modified'], 'Tue, 30 Jun 2026 12:00:00 GMT')
    t.equal(found.body, 'month,total\njune,42\n')
    const cached = await app.inject({ url: '/exports/7', headers: { 'if-none-match': '"v3"' } })
    t.equal(cached.statusCode, 304)
    t.equal(cached.body, '')
    t.equal((await app.inject('/exports/8')).statusCode, 404, 'no such row: FileNotFound from open()')
  },

  async factory (t, snippet) {
    const app = await appOf(t, snippet)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const whole = await app.inject('/export.csv')
    t.equal(whole.statusCode, 200)
    t.same([whole.headers['accept-ranges'], whole.headers.etag, whole.headers['content-length']], ['bytes', '"v7"', String(whole.rawPayload.length)])
    t.equal(whole.body.split('\n')[1], '0,user0@example.com,0')
    // curl -C - after a download cut at a third: the rest, then the bytes of the whole
    const dir = await mkdtemp(join(tmpdir(), 'fdv-readme-resume-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const partial = join(dir, 'export.csv')
    await writeFile(partial, whole.rawPayload.subarray(0, Math.floor(whole.rawPayload.length / 3)))
    const { stdout } = await run('curl', ['-sS', '-C', '-', '-o', partial, '-w', '%{http_code}', `${base}/export.csv`])
    t.equal(stdout, '206', 'curl -C - resumes')
    t.ok((await readFile(partial)).equals(whole.rawPayload), 'resumed: the bytes of a whole download')
    // a new version: the old validator gets the whole file
    const stale = await app.inject({ url: '/export.csv', headers: { range: 'bytes=100-', 'if-range': '"v6"' } })
    t.equal(stale.statusCode, 200)
    // the seekable file: first and last 100 bytes in one multipart answer
    const parts = await app.inject({ url: '/movie.mp4', headers: { range: 'bytes=0-99,-100' } })
    t.equal(parts.statusCode, 206)
    t.match(parts.headers['content-type'], /^multipart\/byteranges; boundary=/)
    t.same(parseByteranges(parts.headers['content-type'] as string, parts.rawPayload).map(({ start, end, size }) => [start, end, size]), [[0, 99, 10_000_000], [9_999_900, 9_999_999, 10_000_000]])
  },

  async 'delivery-events' (t, snippet) {
    const app = await appOf(t, snippet)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    const { downloads, audit } = lastModule as { downloads: Map<string, number>, audit: string[] }
    const first = await fetch(`${base}/report.pdf`, { headers: { range: 'bytes=0-4' } })
    t.equal(await first.text(), '%PDF-')
    const rest = await fetch(`${base}/report.pdf`, { headers: { range: 'bytes=5-' } })
    t.equal(await rest.text(), '1.7 ...')
    for (let i = 0; i < 100 && audit.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10))
    t.same(audit, ['127.0.0.1 report.pdf 206 0-4 5 complete', '127.0.0.1 report.pdf 206 5-11 7 complete'])
    t.same([...downloads], [['report.pdf', 1]], 'counted once')
  },

  async 'zip-file' (t, snippet) {
    const receipt = '\x89PNG a scanned receipt\n'
    const app = await appOf(t, snippet, { scans: { 'receipt.png': receipt } })
    const bundle = await app.inject('/orders/7/bundle.zip')
    t.equal(bundle.statusCode, 200)
    t.equal(bundle.headers['content-disposition'], 'attachment; filename="order-A-1007.zip"')
    t.equal(bundle.headers['content-type'], 'application/zip')
    t.equal(bundle.headers['content-length'], String(bundle.rawPayload.length), 'an exact Content-Length')
    await readsBack(t, bundle.rawPayload, [
      { name: 'invoice.csv', content: 'item,quantity,price\nwidget,2,9.50\ngadget,1,24.00\n' },
      { name: 'scans/receipt.png', content: receipt }
    ], { method: 0 })
    const head = await app.inject({ method: 'HEAD', url: '/orders/7/bundle.zip' })
    t.equal(head.headers['content-length'], bundle.headers['content-length'], 'HEAD: the same length')
    t.equal((await app.inject('/orders/9/bundle.zip')).statusCode, 404)
    const all = await app.inject('/orders.zip')
    t.equal(all.statusCode, 200)
    t.equal(all.headers['content-length'], undefined, 'deflated: chunked')
    await readsBack(t, all.rawPayload, [
      { name: 'A-1007/invoice.csv', content: 'item,quantity,price\nwidget,2,9.50\ngadget,1,24.00\n' },
      { name: 'A-1008/invoice.csv', content: 'item,quantity,price\ngizmo,3,5.00\n' }
    ], { method: 8 })
  },

  async 'path-download' (t, snippet) {
    const app = await appOf(t, snippet, diskFiles)
    const file = await app.inject('/files/sub/b.csv')
    t.equal(file.statusCode, 200)
    t.equal(file.body, 'a,b\n1,2\n')
    t.equal(file.headers['content-disposition'], 'attachment; filename="b.csv"')
    t.equal(file.headers['content-type'], 'text/csv; charset=utf-8')
    t.equal(file.headers['cache-control'], 'public, max-age=3600', 'maxAge from the plugin defaults')
    t.match(file.headers.etag, /^W\/"/)
    t.equal((await app.inject('/files/.env')).statusCode, 404, 'a dotfile')
    t.equal((await app.inject('/files/..%2Fsnippet.mjs')).statusCode, 403, 'a .. segment')
    t.equal((await app.inject('/files/nope.txt')).statusCode, 404)
    const invoice = await app.inject('/invoices/7')
    t.equal(invoice.headers['content-disposition'], 'inline; filename="7.pdf"')
    t.equal(invoice.headers['content-type'], 'application/pdf')
    t.equal(invoice.body, '%PDF-1.7 invoice 7\n')
    t.equal((await app.inject('/invoices/8')).statusCode, 404)
    const terms = await app.inject({ url: '/terms', headers: { range: 'bytes=0-4' } })
    t.equal(terms.statusCode, 206)
    t.equal(terms.headers['content-disposition'], 'attachment; filename="terms.txt"')
    t.equal(terms.body, 'Terms')
  },

  async offload (t, snippet) {
    const app = await appOf(t, snippet, diskFiles)
    const offloaded = await app.inject('/files/sub/b.csv')
    t.equal(offloaded.statusCode, 200)
    t.equal(offloaded.headers['x-accel-redirect'], '/protected-files/sub/b.csv')
    t.equal(offloaded.headers['x-accel-limit-rate'], '1048576')
    t.equal(offloaded.headers['content-disposition'], 'attachment; filename="b.csv"')
    t.equal(offloaded.body, '', 'the proxy sends the bytes')
    t.equal(offloaded.headers['content-length'], undefined)
    const direct = await app.inject('/files-direct/sub/b.csv')
    t.equal(direct.headers['x-accel-redirect'], undefined)
    t.equal(direct.body, 'a,b\n1,2\n', 'offload: false: the app sends the bytes')
    const refused = await app.inject('/files/.env')
    t.equal(refused.statusCode, 404)
    t.equal(refused.headers['x-accel-redirect'], undefined, 'a refused file never gets the header')
  },

  async 'offload-nginx' (t, { code }) {
    // the same location as the shipped example/nginx.conf, which test/demo.test.ts runs in front of
    // the demo (test/offload-nginx.test.ts runs such a location with every kind of name)
    const directives = (text: string): string[] => text.split('\n').map((line) => line.replace(/#.*/, '').trim()).filter((line) => line !== '')
    const shown = directives(code)
    t.same(shown.map((line) => line.replace(/^alias \S+;$/, 'alias DIR;')), ['location /protected-files/ {', 'internal;', 'alias DIR;', '}'])
    const shipped = directives(await readFile(new URL('example/nginx.conf', root), 'utf8'))
    const at = shipped.indexOf('location /protected-files/ {')
    t.same(shipped.slice(at, at + 4).map((line) => line.replace(/^alias \S+;$/, 'alias DIR;')), ['location /protected-files/ {', 'internal;', 'alias DIR;', '}'])
    t.match(shown[2], /^alias \/\S+\/;$/, 'an absolute directory, with its trailing slash as alias needs')
  },

  async 'demo-nginx' (t, { code }) {
    // the commands example/nginx.conf gives, and that test/demo.test.ts runs (OFFLOAD=nginx, -p example/)
    const commands = code.trim().split('\n').map((line) => line.replace(/\s+#.*$/, ''))
    t.same(commands, ['npm run build && OFFLOAD=nginx node example/server.js', 'nginx -p "$PWD/example/" -c nginx.conf -e stderr'])
    const conf = await readFile(new URL('example/nginx.conf', root), 'utf8')
    for (const command of commands) t.ok(conf.includes(command), `example/nginx.conf gives: ${command}`)
    const demoTest = await readFile(new URL('test/demo.test.ts', root), 'utf8')
    t.match(demoTest, /OFFLOAD: 'nginx'/)
  },

  async 'http-file' (t, snippet) {
    // a real upstream: the reports service the snippet reads from
    const seen: Array<string | undefined> = []
    const upstream = createServer((request, response) => {
      seen.push(request.headers.authorization)
      if (request.url === '/reports/7.pdf') return response.writeHead(404).end()
      if (request.url === '/reports/8.pdf') return response.writeHead(500).end()
      const body = Buffer.from('%PDF-1.7 report 42\n')
      const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '')
      const headers = { 'content-type': 'application/pdf', etag: '"r42"', 'last-modified': 'Tue, 01 Dec 2026 00:00:00 GMT' }
      if (range === null) return response.writeHead(200, { ...headers, 'content-length': body.length }).end(body)
      const [start, end] = [Number(range[1]), Number(range[2])]
      response.writeHead(206, { ...headers, 'content-range': `bytes ${start}-${end}/${body.length}` }).end(body.subarray(start, end + 1))
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    t.teardown(() => upstream.close())
    process.env.REPORTS_URL = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
    process.env.REPORTS_TOKEN = 'secret'
    const app = await appOf(t, snippet)
    const report = await app.inject('/reports/42')
    assertDownloadResponse(report, { basename: '42.pdf', mimeType: 'application/pdf', content: '%PDF-1.7 report 42\n', attachment: true })
    t.equal(report.headers.etag, '"r42"')
    t.same(seen, ['Bearer secret'], 'the headers option reached the upstream')
    const part = await app.inject({ url: '/reports/42', headers: { range: 'bytes=0-7' } })
    t.equal(part.statusCode, 206, 'the upstream 206, relayed')
    t.equal(part.headers['content-range'], 'bytes 0-7/19')
    t.equal(part.body, '%PDF-1.7')
    t.equal((await app.inject('/reports/7')).statusCode, 404, 'upstream 404')
    t.equal((await app.inject('/reports/8')).statusCode, 502, 'upstream 500')
  },

  async 'sqlite-export' (t, snippet) {
    // better-sqlite3 is a native addon built for the Node that installed node_modules (.ci/run: the
    // machine's Node 20); on another Node line it does not load
    const { sqliteUnavailable } = await import(new URL('example/export.js', root).href) as { sqliteUnavailable: () => string | undefined }
    const missing = sqliteUnavailable()
    if (missing !== undefined) return t.plan(0, `better-sqlite3 does not load on this Node line: ${missing}`)
    const dir = await mkdtemp(join(tmpdir(), 'fdv-readme-shop-'))
    t.teardown(() => rm(dir, { recursive: true, force: true }))
    const file = join(dir, 'shop.db')
    process.env.SHOP_DB = file
    t.teardown(() => { delete process.env.SHOP_DB })
    const app = await appOf(t, snippet, {}, ['better-sqlite3', 'csv-stringify'])
    // another connection writes, as another program would: the triggers bump the version all the same
    const { default: Database } = await import('better-sqlite3')
    const writer = new Database(file)
    t.teardown(() => writer.close())
    const insert = writer.prepare('INSERT INTO customers (name, email) VALUES (?, ?)')
    writer.transaction(() => {
      insert.run('Smith, John', 'john@example.com')
      insert.run('=HYPERLINK("https://attacker.example","Click")', 'mallory@example.com')
      insert.run('Zoë "Z" Ångström', 'zoe@example.com')
      for (let i = 4; i <= 2000; i++) insert.run(`Customer ${i}`, `customer${i}@example.com`)
    })()
    const whole = await app.inject('/customers.csv')
    t.equal(whole.statusCode, 200)
    t.same([whole.headers['accept-ranges'], whole.headers['content-length']], ['bytes', String(whole.rawPayload.length)])
    t.match(whole.headers.etag, /^"[0-9a-f]{16}-v2001"$/, 'the table\'s version: 1, and 2000 inserts')
    const { parse } = await import('csv-parse/sync')
    const records = parse(whole.rawPayload) as string[][]
    t.same(records.slice(0, 4), [['id', 'name', 'email'], ['1', 'Smith, John', 'john@example.com'],
      ['2', '\'=HYPERLINK("https://attacker.example","Click")', 'mallory@example.com'], ['3', 'Zoë "Z" Ångström', 'zoe@example.com']], 'quoted, formulas escaped')
    t.equal(records.length, 2001)
    // curl -C - after a download cut at a third: the rest, then the bytes of the whole
    await app.listen({ host: '127.0.0.1', port: 0 })
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/customers.csv`
    const partial = join(dir, 'customers.csv')
    await writeFile(partial, whole.rawPayload.subarray(0, Math.floor(whole.rawPayload.length / 3)))
    const { stdout } = await run('curl', ['-sS', '-C', '-', '-o', partial, '-w', '%{http_code}', url])
    t.equal(stdout, '206', 'curl -C - resumes')
    t.ok((await readFile(partial)).equals(whole.rawPayload), 'resumed: the bytes of a whole download')
    // a write: the old ETag's If-Range gets the whole new file
    writer.prepare('UPDATE customers SET email = ? WHERE id = 1').run('smith@example.com')
    const stale = await app.inject({ url: '/customers.csv', headers: { range: 'bytes=100-', 'if-range': whole.headers.etag as string } })
    t.equal(stale.statusCode, 200, 'If-Range with the old ETag: the whole file')
    t.match(stale.headers.etag, /-v2002"$/, 'the new version')
    t.equal(stale.headers['content-length'], String(stale.rawPayload.length))
    t.match(stale.body, /^id,name,email\n1,"Smith, John",smith@example\.com\n/)
    const head = await app.inject({ method: 'HEAD', url: '/customers.csv' })
    t.equal(head.headers['content-length'], stale.headers['content-length'], 'HEAD: the size, from the cache')
    // every download's connection closed: no reader keeps the WAL from being checkpointed whole
    // (the snapshots close when their responses do, a moment after inject() resolves)
    let checkpoint: { log: number, checkpointed: number } | undefined
    for (let i = 0; i < 100; i++) {
      checkpoint = (writer.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number, checkpointed: number }>)[0]
      if (checkpoint?.checkpointed === checkpoint?.log) break
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    t.equal(checkpoint?.checkpointed, checkpoint?.log, 'no reader left open')
  },

  async testing (t, { code }) {
    const file = join(t.testdir({}), 'downloads.test.mjs')
    await writeFile(file, code)
    // run by `node --test` as a user runs it: without tap's loaders and coverage
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) =>
      key !== 'NODE_OPTIONS' && key !== 'NODE_V8_COVERAGE' && !key.startsWith('TAP') && !key.startsWith('_TAPJS')))
    const { stdout } = await run(process.execPath, ['--test', '--test-reporter=tap', file], { env, timeout: 60_000 })
    t.match(stdout, /^# pass 2$/m, 'both tests pass')
    t.match(stdout, /^# fail 0$/m)
  },

  async contributing (t, { code }) {
    const commands = code.trim().split('\n').map((line) => line.replace(/\s+#.*$/, ''))
    t.same(commands, ['npm ci && npm run demo', 'npm ci && npm test'])
    // test/demo.test.ts runs what `npm run demo` runs after the build; .ci/run runs `npm ci` and `npm test`
    t.equal(pkg.scripts.demo, 'npm run build && node example/server.js')
    const ci = await readFile(new URL('.ci/run', root), 'utf8')
    t.match(ci, /^npm ci$/m)
    t.match(ci, /\bnpm test\b/)
  }
}

const { named, unnamed } = snippets(readme)
t.same(unnamed, [], 'every code block of README.md is a named snippet (or a ```text listing)')
t.same(named.map(({ name }) => name).sort(), Object.keys(runners).sort(), 'one runner per snippet, each snippet run once')
for (const snippet of named) {
  const runner = runners[snippet.name]
  if (runner !== undefined) t.test(`README snippet "${snippet.name}"`, (t) => runner(t, snippet))
}
