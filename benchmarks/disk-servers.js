// The servers of the on-disk benchmark (benchmarks/disk.js), one per process:
// node benchmarks/disk-servers.js NAME ROOT, prints its URL on stdout once listening on 127.0.0.1.
// Every server answers GET /FILE with ROOT/FILE as an attachment, with Range support.
import { createReadStream, stat } from 'node:fs'
import { createServer } from 'node:http'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import Fastify from 'fastify'
import fastifyDownloadView, { pathDownloadRoute } from 'fastify-downloadview'

export const servers = {
  // the plugin, root given once (plugin default), reply.pathDownload(name): options resolved once
  async 'disk-downloadview' (root) {
    const app = Fastify()
    await app.register(fastifyDownloadView, { root })
    app.get('/:file', (request, reply) => reply.pathDownload(request.params.file))
    return app
  },
  // the plugin, root given per call, the way reply.download(name, { root }) is written with
  // @fastify/static: the call's options are checked and resolved per request
  async 'disk-downloadview-call' (root) {
    const app = Fastify()
    await app.register(fastifyDownloadView)
    app.get('/:file', (request, reply) => reply.pathDownload(request.params.file, { root }))
    return app
  },
  // the plugin's route factory
  async 'disk-downloadview-route' (root) {
    const app = Fastify()
    await app.register(fastifyDownloadView)
    app.route(pathDownloadRoute({ url: '/:file', root, getPath: (request) => request.params.file }))
    return app
  },
  // @fastify/static's reply.download (no wildcard route: serve false), same root
  async 'disk-static' (root) {
    const { default: fastifyStatic } = await import('@fastify/static')
    const app = Fastify()
    await app.register(fastifyStatic, { root, serve: false })
    app.get('/:file', (request, reply) => reply.download(request.params.file))
    return app
  },
  // the same with 64 KiB reads: @fastify/send hands fs.createReadStream `highWaterMark: null`
  // unless told otherwise, and null means Node's default for streams, 16 KiB (64 KiB for fs)
  async 'disk-static-64k' (root) {
    const { default: fastifyStatic } = await import('@fastify/static')
    const app = Fastify()
    await app.register(fastifyStatic, { root, serve: false })
    app.get('/:file', (request, reply) => reply.download(request.params.file, { highWaterMark: 64 * 1024 }))
    return app
  },
  // the ceiling: node:http, one stat per request (the size), one simple `bytes=first-last` range,
  // fs.createReadStream().pipe(res). No confinement, no validators, no conditionals.
  async 'disk-node' (root) {
    return createServer((req, res) => {
      const name = decodeURIComponent(req.url.slice(1).split('?')[0])
      const path = join(root, name)
      stat(path, (error, stats) => {
        if (error) {
          res.writeHead(404).end()
          return
        }
        const match = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
        const start = match === null ? 0 : Number(match[1])
        const end = match === null ? stats.size - 1 : Math.min(Number(match[2]), stats.size - 1)
        const headers = {
          'content-type': 'application/octet-stream',
          'content-disposition': `attachment; filename="${name}"`,
          'content-length': end - start + 1,
          'accept-ranges': 'bytes'
        }
        if (match !== null) headers['content-range'] = `bytes ${start}-${end}/${stats.size}`
        res.writeHead(match === null ? 200 : 206, headers)
        createReadStream(path, { start, end }).pipe(res)
      })
    })
  }
}

// DISK_HEAP_BALLAST=N: N small objects kept for the life of the process (200,000 is about 15 MiB):
// an old generation nearer a real application's. On a small heap (these servers: 8-10 MiB) V8
// may run a mark-compact every 30 ms while 64 KiB Buffers stream through; see BENCHMARKS.md, 6.
// benchmarks/disk.js sets it (default 200,000) for every server alike.
if (Number(process.env.DISK_HEAP_BALLAST ?? 0) > 0) {
  globalThis.ballast = Array.from({ length: Number(process.env.DISK_HEAP_BALLAST) }, (_, i) => ({ i, s: `x${i}` }))
}

const [name, root] = process.argv.slice(2)
// run as a script only
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const build = servers[name]
  if (build === undefined || root === undefined) throw new Error(`usage: disk-servers.js NAME ROOT; names: ${Object.keys(servers).join(', ')}`)
  const app = await build(root)
  let port
  if (typeof app.listen === 'function' && app.server !== undefined) {
    await app.listen({ host: '127.0.0.1', port: 0 })
    port = app.server.address().port
  } else {
    await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve))
    port = app.address().port
  }
  process.stdout.write(`http://127.0.0.1:${port}\n`)
  // a clean exit, so `node --cpu-prof benchmarks/disk-servers.js NAME ROOT` writes its profile
  process.on('SIGINT', () => process.exit(0))
  process.on('SIGTERM', () => process.exit(0))
  // started by benchmarks/disk.js: gone with it
  if (process.env.DISK_SERVER_STDIN === '1') process.stdin.on('end', () => process.exit(0)).resume()
}
