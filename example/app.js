// The fastify-downloadview demo: one route per example, and an index page that links to them all.
// Run it with `npm run demo` (or `node example/server.js` after `npm run build`); behind nginx, see
// example/nginx.conf.
import { createHash } from 'node:crypto'
import { openAsBlob } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Fastify from 'fastify'
import fastifyDownloadView, {
  ContentFile, HTTPFile, VirtualFile, TextIteratorIO, ZipFile, virtualDownloadRoute, pathDownloadRoute
} from 'fastify-downloadview'
import { DEMO_CUSTOMERS, demoShop, sqliteUnavailable } from './export.js'

/** The directory of the on-disk files the /disk/ links serve (and nginx, when offloaded). */
export const FILES = fileURLToPath(new URL('./files', import.meta.url))

/**
 * Why the SQLite export is left out, when better-sqlite3's binary was built for another Node line
 * than the one running the demo (node_modules installed by another Node: `npm rebuild
 * better-sqlite3` makes it this Node's); undefined when it is in.
 */
export const sqliteMissing = sqliteUnavailable()

/** The rows of the CSV in the demo's ZIP (/bundle.zip). */
export const BUNDLE_ROWS = 20_000

/**
 * The links of the index page, in order. A description is plain text; `backticks` mark a command,
 * shown as code.
 */
export const examples = [
  { href: '/hello.txt', text: 'Text file', description: 'a ContentFile built from a string (reply.virtualDownload)' },
  { href: '/stringio.txt', text: 'In-memory file', description: 'a VirtualFile over a string, like Python\'s StringIO (route option)' },
  { href: '/generated.txt', text: 'Generated file', description: 'a generator yielding "Hello ", "world!", "\\n" through TextIteratorIO (route option)' },
  { href: '/export.csv', text: 'Large CSV export', description: '1,000,000 rows streamed from a generator, never held in memory (virtualDownloadRoute)' },
  { href: '/async.txt', text: 'Async generator', description: 'lines from an async generator, e.g. a database cursor (virtualDownloadRoute)' },
  ...(sqliteMissing === undefined
    ? [{
        href: '/customers.csv',
        text: 'Resumable SQLite export',
        // curl refuses -C - (--continue-at) together with -J (--remote-header-name): name the file with -o
        description: `the customers table of an SQLite database (${DEMO_CUSTOMERS.toLocaleString('en')} rows, better-sqlite3) as CSV (csv-stringify, formulas escaped), streamed from the cursor as you read; its ETag is the table's version and its Content-Length exact, so it resumes with \`curl -C - -o customers.csv <this link>\` (example/export.js)`
      }]
    : []),
  {
    href: '/unicode',
    text: 'Non-ASCII file name',
    description: 'browsers save it as rapport-été-2026.csv (from filename*); `curl -OJ` saves the ASCII fallback rapport-ete-2026.csv (from filename)'
  },
  { href: '/inline.txt', text: 'Inline file', description: 'shown in the browser instead of saved (attachment: false)' },
  { href: '/blob', text: 'Web File', description: 'a Blob/File handed straight to reply.virtualDownload' },
  {
    href: '/resumable.bin',
    text: 'Resumable download',
    // curl refuses -C - (--continue-at) together with -J (--remote-header-name): name the file with -o
    description: '1 MiB with an ETag and Last-Modified: answers Range and If-Range, so an interrupted download resumes with `curl -C - -o resumable.bin <this link>`'
  },
  {
    href: '/remote.bin',
    text: 'Remote file',
    description: 'the resumable file again, fetched from another server (a local upstream the demo starts) through HTTPFile: its size, ETag and ranges are the upstream\'s; resume it with `curl -C - -o remote.bin <this link>`'
  },
  {
    href: '/bundle.zip',
    text: 'Download all as ZIP',
    description: `several files as one ZIP (ZipFile): a ${BUNDLE_ROWS.toLocaleString('en')}-row CSV from a generator, the 1 MiB file above, a report with a non-ASCII name and example/files/notes.txt, stored with their sizes known, so the archive's Content-Length is exact (browsers show a real progress bar); each file is produced only when its turn comes; \`unzip -l bundle.zip\` lists them`
  },
  {
    href: '/disk/notes.txt',
    text: 'File on disk',
    description: 'example/files/notes.txt (pathDownloadRoute: confined to example/files); started with `OFFLOAD=nginx` behind example/nginx.conf, the demo answers with X-Accel-Redirect and nginx sends the bytes'
  },
  {
    href: '/disk/d%C3%A9penses-2026.csv',
    text: 'Non-ASCII file on disk',
    description: 'example/files/dépenses-2026.csv: browsers save it as dépenses-2026.csv, `curl -OJ` as depenses-2026.csv; offloaded to nginx like the one above'
  }
]

/** @returns {Generator<string>} */
function * generateHello () {
  yield 'Hello '
  yield 'world!'
  yield '\n'
}

/**
 * The CSV rows, generated one at a time: TextIteratorIO batches them into ~64 KiB chunks and
 * only pulls more when the client keeps up.
 * @param {number} count
 * @returns {Generator<string>}
 */
function * csvRows (count) {
  yield 'id,email,score\n'
  for (let i = 1; i <= count; i++) yield `${i},user${i}@example.com,${i * 3}\n`
}

/**
 * Stands in for anything asynchronous: a database cursor, a paginated API...
 * @returns {AsyncGenerator<string>}
 */
async function * countdown () {
  for (let i = 10; i > 0; i--) {
    await new Promise((resolve) => setImmediate(resolve))
    yield `${i}...\n`
  }
  yield 'Liftoff!\n'
}

/**
 * 1 MiB of deterministic bytes (a linear congruential generator), the same on every start.
 * @returns {Buffer}
 */
export function resumableBytes () {
  const bytes = Buffer.alloc(1024 * 1024)
  let x = 1
  for (let i = 0; i < bytes.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    bytes[i] = x >>> 24
  }
  return bytes
}

const escapeHtml = (/** @type {string} */ s) =>
  s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

/** A description as HTML: escaped, its `backticked` commands in <code>. */
const describe = (/** @type {string} */ s) =>
  s.split('`').map((part, i) => i % 2 === 1 ? `<code>${escapeHtml(part)}</code>` : escapeHtml(part)).join('')

const indexPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fastify-downloadview demo</title>
<style>body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto; padding: 0 1rem; }</style>
</head>
<body>
<h1>fastify-downloadview demo</h1>
<p>Each link is a download served by the plugin. Try them with <code>curl -OJ</code> too.</p>
<ul>
${examples.map(({ href, text, description }) =>
  `<li><a href="${escapeHtml(href)}">${escapeHtml(text)}</a>: ${describe(description)}</li>`).join('\n')}
</ul>
</body>
</html>
`

/**
 * Builds the demo app (not listening).
 * @param {import('fastify').FastifyServerOptions} [opts] Fastify's options, e.g. { logger: true }
 * @param {import('fastify-downloadview').FastifyDownloadViewOptions} [pluginOptions] the plugin's, e.g. { offload }
 * @returns {Promise<import('fastify').FastifyInstance>}
 */
export async function buildDemo (opts = {}, pluginOptions = {}) {
  const app = Fastify(opts)
  await app.register(fastifyDownloadView, pluginOptions)

  app.get('/', (request, reply) => reply.type('text/html; charset=utf-8').send(indexPage))

  // 1. The reply decorator: reply.virtualDownload(file, options?)
  app.get('/hello.txt', (request, reply) =>
    reply.virtualDownload(new ContentFile('Hello world!\n', { name: 'hello-world.txt' })))

  // A Blob or File is read afresh on every request (and in ranges): one is enough
  const dataFile = new File(['{"hello":"world"}\n'], 'data.json', { type: 'application/json' })
  app.get('/blob', (request, reply) => reply.virtualDownload(dataFile))

  // 2. The route option: the handler returns the file (a new one per request: a generator is read once)
  app.get('/stringio.txt', { virtualDownload: true }, async () =>
    new VirtualFile('Hello world!\n', { name: 'hello-stringio.txt' }))

  app.get('/generated.txt', { virtualDownload: true }, async () =>
    new VirtualFile(new TextIteratorIO(generateHello()), { name: 'hello-generated.txt' }))

  app.get('/inline.txt', { virtualDownload: { attachment: false } }, async () =>
    new ContentFile('This text is displayed by the browser (Content-Disposition: inline).\n', { name: 'readme.txt' }))

  // 3. The route factory: app.route(virtualDownloadRoute({ url, getFile, ...DownloadOptions }))
  app.route(virtualDownloadRoute({
    url: '/export.csv',
    getFile: async () => new VirtualFile(new TextIteratorIO(csvRows(1_000_000)), { name: 'export.csv' })
  }))

  app.route(virtualDownloadRoute({
    url: '/async.txt',
    getFile: async () => new VirtualFile(new TextIteratorIO(countdown()), { name: 'countdown.txt' })
  }))

  // A real export, resumable: example/export.js. The database is a new one in a temporary directory,
  // seeded with the same rows on every start.
  if (sqliteMissing === undefined) {
    const shop = demoShop()
    app.addHook('onClose', async () => shop.close())
    app.route(virtualDownloadRoute({ url: '/customers.csv', getFile: shop.getFile }))
  } else {
    app.log.warn(`the SQLite export (/customers.csv) is left out: ${sqliteMissing}`)
  }

  app.route(virtualDownloadRoute({
    url: '/unicode',
    getFile: async () =>
      new ContentFile('mois,ventes\njuillet,42\naoût,17\n', { name: 'rapports/rapport-été-2026.csv' })
  }))

  // An in-memory file with validators: Range, If-Range and If-None-Match work, so downloads resume.
  const bytes = resumableBytes()
  const etag = createHash('sha256').update(bytes).digest('base64url').slice(0, 27)
  const modifiedTime = new Date('2026-01-01T00:00:00Z')
  app.route(virtualDownloadRoute({
    url: '/resumable.bin',
    cacheControl: 'public, max-age=3600',
    getFile: async () => new ContentFile(bytes, { name: 'resumable.bin', etag, modifiedTime })
  }))

  // Several files as one ZIP, streamed entry after entry. Every entry declares its size before it
  // is read (the CSV's is counted once, here), so the archive's length is known up front: an exact
  // Content-Length, a progress bar in the browser, and HEAD without producing anything.
  let csvBytes = 0
  for (const row of csvRows(BUNDLE_ROWS)) csvBytes += Buffer.byteLength(row)
  app.get('/bundle.zip', { virtualDownload: true }, async () => new ZipFile([
    { name: 'README.txt', file: new ContentFile('Made by the fastify-downloadview demo: one ZIP, streamed, with an exact size.\n') },
    { name: 'export/rows.csv', file: new VirtualFile(() => new TextIteratorIO(csvRows(BUNDLE_ROWS)), { size: csvBytes }) },
    { name: 'reports/rapport-été-2026.csv', file: new ContentFile('mois,ventes\njuillet,42\naoût,17\n') },
    { name: 'data/resumable.bin', file: new ContentFile(bytes) },
    // a file on disk, as a Blob: its size is the file's
    { name: 'notes.txt', file: await openAsBlob(join(FILES, 'notes.txt')) }
  ], { name: 'bundle.zip', modifiedTime }))

  // 4. Files on disk: getPath returns a path relative to root (send confines it there: no `..`, no
  // dotfile, no symlink out of it). With the plugin's offload option (see server.js), the answer is an
  // empty 200 with X-Accel-Redirect and nginx sends the file; without it, the app does.
  app.route(pathDownloadRoute({
    url: '/disk/:name',
    root: FILES,
    getPath: (/** @type {import('fastify').FastifyRequest<{ Params: { name: string } }>} */ request) => request.params.name
  }))

  // 5. A remote file: another server's file streamed through (HTTPFile, on undici). The upstream is
  // a second app the demo starts on a free local port, serving the resumable file with ranges.
  const upstream = Fastify()
  await upstream.register(fastifyDownloadView)
  upstream.get('/files/resumable.bin', (request, reply) =>
    reply.virtualDownload(new ContentFile(bytes, { name: 'resumable.bin', etag, modifiedTime })))
  const upstreamBase = await upstream.listen({ host: '127.0.0.1', port: 0 })
  app.addHook('onClose', () => upstream.close())
  app.get('/remote.bin', { virtualDownload: true }, () =>
    new HTTPFile(`${upstreamBase}/files/resumable.bin`, { name: 'remote.bin' }))

  return app
}
