// One benchmark server per process, chosen by argv[2]; prints its URL on stdout once listening.
// Every contender serves the same bytes as the others of its benchmark.
import { writeFileSync, mkdtempSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { pipeline, Readable } from 'node:stream'
import Fastify from 'fastify'
import fastifyDownloadView, { BytesIteratorIO, ContentFile, HTTPFile, TextIteratorIO, VirtualFile, ZipFile } from 'fastify-downloadview'

export const CSV_ROWS = Number(process.env.CSV_ROWS ?? 3_000_000)
export const LARGE_BYTES = Number(process.env.LARGE_BYTES ?? 1024 ** 3)
export const CHUNK = 64 * 1024
export const RANGE_FILE_BYTES = 1024 * 1024

export function * csvRows (rows = CSV_ROWS) {
  for (let i = 0; i < rows; i++) yield `${i},user${i}@example.com,${i * 3}\n`
}

const chunk = Buffer.alloc(CHUNK, 'x')
export function * largeChunks (total = LARGE_BYTES) {
  for (let sent = 0; sent < total; sent += CHUNK) yield chunk
}

// 9. ZIP archive: ZIP_ENTRIES entries of ZIP_ENTRY_BYTES each (default 1,000 x 1 MiB)
export const ZIP_ENTRIES = Number(process.env.ZIP_ENTRIES ?? 1000)
export const ZIP_ENTRY_BYTES = Number(process.env.ZIP_ENTRY_BYTES ?? 1024 * 1024)
/** One entry's bytes, shared by every entry (and by the raw server's writes): no production cost. */
function zipEntryBytes () {
  const bytes = Buffer.alloc(ZIP_ENTRY_BYTES)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131) & 0xff
  return bytes
}

export function rangeBytes () {
  const bytes = Buffer.alloc(RANGE_FILE_BYTES)
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 0xff
  return bytes
}

const servers = {
  // 1. CSV export
  async 'csv-downloadview' () {
    const app = Fastify()
    await app.register(fastifyDownloadView)
    app.get('/', { virtualDownload: true }, () => new VirtualFile(new TextIteratorIO(csvRows()), { name: 'export.csv' }))
    return app
  },
  async 'csv-fastify' () {
    const app = Fastify()
    app.get('/', (request, reply) => reply
      .header('content-type', 'text/csv; charset=utf-8')
      .header('content-disposition', 'attachment; filename="export.csv"')
      .send(Readable.from(csvRows())))
    return app
  },
  async 'csv-express' () {
    const { default: express } = await import('express')
    const app = express()
    app.get('/', (req, res) => {
      res.attachment('export.csv')
      pipeline(Readable.from(csvRows()), res, () => {})
    })
    return app
  },

  // 2. Large stream
  async 'large-downloadview' () {
    const app = Fastify()
    await app.register(fastifyDownloadView)
    app.get('/', { virtualDownload: true }, () => new VirtualFile(new BytesIteratorIO(largeChunks()), { name: 'large.bin', size: LARGE_BYTES }))
    return app
  },
  async 'large-node' () {
    return createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': LARGE_BYTES })
      pipeline(Readable.from(largeChunks()), res, () => {})
    })
  },

  // 3. Small file rate
  async 'small-downloadview' () {
    const app = Fastify()
    await app.register(fastifyDownloadView)
    app.get('/', (request, reply) => reply.virtualDownload(new ContentFile('Hello world!\n', { name: 'hello-world.txt' })))
    return app
  },
  // the same, from another build of the plugin (BASELINE_DIST: its dist/index.js), e.g. the commit
  // before a change, to compare side by side
  async 'small-downloadview-baseline' () {
    const { default: plugin, ContentFile: BaselineContentFile } = await import(pathToFileURL(process.env.BASELINE_DIST).href)
    const app = Fastify()
    await app.register(plugin)
    app.get('/', (request, reply) => reply.virtualDownload(new BaselineContentFile('Hello world!\n', { name: 'hello-world.txt' })))
    return app
  },
  // the same with a subscriber on the delivery events' channel: every download followed
  async 'small-downloadview-events' () {
    const { subscribe } = await import('node:diagnostics_channel')
    let events = 0
    subscribe('fastify-downloadview:download', () => { events++ })
    const app = Fastify()
    await app.register(fastifyDownloadView)
    app.get('/', (request, reply) => reply.virtualDownload(new ContentFile('Hello world!\n', { name: 'hello-world.txt' })))
    app.get('/events', () => String(events))
    return app
  },
  async 'small-fastify' () {
    const app = Fastify()
    app.get('/', (request, reply) => reply
      .header('content-type', 'text/plain; charset=utf-8')
      .header('content-disposition', 'attachment; filename="hello-world.txt"')
      .header('accept-ranges', 'bytes')
      .send('Hello world!\n'))
    return app
  },

  // 5. Ranges
  async 'range-contentfile' () {
    const app = Fastify()
    await app.register(fastifyDownloadView)
    const bytes = rangeBytes()
    app.get('/range.bin', { virtualDownload: true }, () => new ContentFile(bytes, { name: 'range.bin' }))
    return app
  },
  async 'range-blob' () {
    const app = Fastify()
    await app.register(fastifyDownloadView)
    const blob = new Blob([rangeBytes()])
    app.get('/range.bin', (request, reply) => reply.virtualDownload(blob, { basename: 'range.bin' }))
    return app
  },
  // 7. Remote file: UPSTREAM (the large-node server) relayed
  async 'remote-downloadview' () {
    const app = Fastify()
    await app.register(fastifyDownloadView)
    app.get('/', { virtualDownload: true }, () => new HTTPFile(process.env.UPSTREAM, { name: 'large.bin' }))
    return app
  },
  // the plain relay: undici's stream() writing the upstream body into the response, headers
  // copied as the plugin sends them (type, length, attachment); no ranges, validators or checks
  async 'remote-undici' () {
    const { stream } = await import('undici')
    const app = Fastify()
    app.get('/', (request, reply) => {
      reply.hijack()
      stream(process.env.UPSTREAM, { method: 'GET' }, ({ statusCode, headers }) => {
        reply.raw.writeHead(statusCode, {
          'content-type': headers['content-type'],
          'content-length': headers['content-length'],
          'content-disposition': 'attachment; filename="large.bin"'
        })
        return reply.raw
      }).catch((error) => reply.raw.destroy(error))
    })
    return app
  },

  // 8. Resumable generated files, several ranges
  async 'resume-downloadview' () {
    // the export's size, once, by producing it (as a user computes it once per version)
    let size = 0
    for (const row of csvRows()) size += Buffer.byteLength(row)
    const app = Fastify()
    await app.register(fastifyDownloadView)
    app.get('/', { virtualDownload: true }, () => new VirtualFile(() => new TextIteratorIO(csvRows()), { name: 'export.csv', size, etag: '"v1"' }))
    return app
  },
  async 'multipart-blob' () {
    const blob = new Blob([Buffer.alloc(LARGE_BYTES, 'x')])
    const app = Fastify()
    await app.register(fastifyDownloadView)
    app.get('/', (request, reply) => reply.virtualDownload(blob, { basename: 'large.bin' }))
    return app
  },

  // 9. ZIP archive: the entries as one stored ZIP (its length known: Content-Length)...
  async 'zip-downloadview' () {
    const bytes = zipEntryBytes()
    const app = Fastify()
    await app.register(fastifyDownloadView)
    app.get('/', { virtualDownload: true }, () => new ZipFile(
      Array.from({ length: ZIP_ENTRIES }, (_, i) => ({ name: `files/${i}.bin`, file: new ContentFile(bytes) })),
      { name: 'bundle.zip' }))
    return app
  },
  // ...and the same bytes written raw, entry after entry, to a node:http response
  async 'zip-raw' () {
    const bytes = zipEntryBytes()
    function * entries () {
      for (let i = 0; i < ZIP_ENTRIES; i++) yield bytes
    }
    return createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': ZIP_ENTRIES * ZIP_ENTRY_BYTES })
      pipeline(Readable.from(entries()), res, () => {})
    })
  },

  async 'range-static' () {
    const { default: fastifyStatic } = await import('@fastify/static')
    const root = mkdtempSync(join(tmpdir(), 'fdv-bench-'))
    writeFileSync(join(root, 'range.bin'), rangeBytes())
    const app = Fastify()
    await app.register(fastifyStatic, { root })
    return app
  }
}

const name = process.argv[2]
// run as a script (not imported for its generators)
if (name !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const build = servers[name]
  if (build === undefined) throw new Error(`unknown server ${name}; known: ${Object.keys(servers).join(', ')}`)
  const app = await build()
  let port
  if (typeof app.listen === 'function' && app.server !== undefined) {
    await app.listen({ host: '127.0.0.1', port: 0 })
    port = app.server.address().port
  } else {
    const server = typeof app.address === 'function' ? app : createServer(app)
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = server.address().port
  }
  process.stdout.write(`http://127.0.0.1:${port}\n`)

  // a clean exit on SIGINT/SIGTERM, so `node --cpu-prof benchmarks/servers.js NAME` writes its profile
  process.on('SIGINT', () => process.exit(0))
  process.on('SIGTERM', () => process.exit(0))
}
