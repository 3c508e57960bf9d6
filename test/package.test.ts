import { execFile } from 'node:child_process'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

// The package as users get it: `npm pack` (prepack builds dist/), installed from the tarball in a
// fresh app pinned to the lowest Fastify 5, then used from ESM JavaScript, CommonJS `require()`
// and strict TypeScript (exactOptionalPropertyTypes, skipLibCheck: false, module nodenext) on
// HTTP/1, HTTP/2 and a custom logger.

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')

const ESM = `import Fastify from 'fastify'
import fastifyDownloadView, { ContentFile, VirtualFile, TextIteratorIO, ZipFile, virtualDownloadRoute } from 'fastify-downloadview'
const app = Fastify()
await app.register(fastifyDownloadView)
app.get('/hello', (request, reply) => reply.virtualDownload(new ContentFile('Hello world!\\n', { name: 'hello-world.txt' })))
app.route(virtualDownloadRoute({ url: '/rows', getFile: () => new VirtualFile(new TextIteratorIO(['a,b\\n']), { name: 'rows.csv' }) }))
// an archive: yazl, a dependency, installed with the package
app.get('/zip', { virtualDownload: true }, () => new ZipFile([{ name: 'a.txt', file: new ContentFile('a') }], { name: 'a.zip' }))
const hello = await app.inject('/hello')
const rows = await app.inject('/rows')
const zip = await app.inject('/zip')
// the testing entry point resolves from the installed package
const { assertDownloadResponse } = await import('fastify-downloadview/testing')
assertDownloadResponse(hello, { basename: 'hello-world.txt', content: 'Hello world!\\n' })
console.log(JSON.stringify([hello.body, hello.headers['content-disposition'], rows.body, zip.rawPayload.subarray(0, 4).toString('hex'), zip.headers['content-length'] === String(zip.rawPayload.length)]))
`

const CJS = `const Fastify = require('fastify')
const { fastifyDownloadView, ContentFile } = require('fastify-downloadview')
const app = Fastify()
app.register(fastifyDownloadView).after(() => {
  app.get('/hello', (request, reply) => reply.virtualDownload(new ContentFile('hi', { name: 'hi.txt' })))
})
app.inject('/hello').then((response) => console.log(JSON.stringify([response.body, response.headers['content-disposition']])))
`

const TS = `import type { Http2Server } from 'node:http2'
import Fastify, { type FastifyRequest } from 'fastify'
import pino from 'pino'
import fastifyDownloadView, { ContentFile, FileNotFound, TextIteratorIO, VirtualFile, contentDisposition, pathDownloadRoute, virtualDownloadRoute } from 'fastify-downloadview'

const maybeName: string | undefined = process.env.NAME
// optional fields and options take undefined as well (exactOptionalPropertyTypes)
new ContentFile('x', { name: maybeName, etag: undefined })
new TextIteratorIO(['x'], { highWaterMark: undefined })
contentDisposition(maybeName, { type: undefined })
const app = Fastify()
await app.register(fastifyDownloadView, { attachment: true, cacheControl: undefined })
app.get('/hello.txt', (request, reply) => reply.virtualDownload(new ContentFile('Hello world!\\n', { name: 'hello-world.txt' })))
app.get<{ Params: { id: string } }>('/reports/:id', { virtualDownload: true }, async (request) => {
  if (request.params.id !== '42') throw new FileNotFound()
  return new VirtualFile(new TextIteratorIO(['a\\n']), { name: maybeName ?? 'report.csv' })
})
app.route(virtualDownloadRoute<{ Params: { id: string } }>({ url: '/r/:id', getFile: (request) => new ContentFile(request.params.id) }))

const h2 = Fastify({ http2: true })
await h2.register(fastifyDownloadView)
h2.route(virtualDownloadRoute({ url: '/r', getFile: () => new ContentFile('x') }))
h2.get('/d', (request, reply) => reply.virtualDownload(new ContentFile('x')))

const logged = Fastify({ loggerInstance: pino({ level: 'warn' }) })
await logged.register(fastifyDownloadView)
logged.route(virtualDownloadRoute({ url: '/r', getFile: () => new ContentFile('x') }))

// on-disk files and offload, with options that may be undefined
const root: string | undefined = process.env.ROOT
await app.register(fastifyDownloadView, { root, maxAge: undefined, offload: { server: 'nginx', rules: [{ source: '/srv', destination: '/x' }], nginx: { limitRate: undefined } } })
app.get('/disk', (request, reply) => reply.pathDownload('/srv/a.txt', { root, offload: undefined }))
app.get<{ Params: { name: string } }>('/disk/:name', { pathDownload: { root: '/srv', dotfiles: undefined } }, async (request) => request.params.name)
// on a server other than the default, the route generic comes from an annotated request
h2.route(pathDownloadRoute({ url: '/disk/:name', root: '/srv', getPath: (request: FastifyRequest<{ Params: { name: string } }, Http2Server>) => request.params.name }))
logged.route(pathDownloadRoute({ url: '/disk', getPath: () => null }))

// remote files, archives and the testing entry point, strictly typed (no type of yazl's reaches the
// package's declarations: the consumer has no @types/yazl)
import { HTTPFile, ZipFile, type ZipEntry } from 'fastify-downloadview'
const zipEntries: ZipEntry[] = [{ name: 'a.txt', file: new ContentFile('a') }, { name: 'b.bin', file: new Blob(['b']) }]
app.get('/bundle.zip', { virtualDownload: true }, () => new ZipFile(zipEntries, { name: maybeName, compress: undefined }))
import { assertDownloadResponse } from 'fastify-downloadview/testing'
app.get('/remote', { virtualDownload: true }, () => new HTTPFile('https://example.com/a.pdf', { name: maybeName, timeout: undefined }))
assertDownloadResponse(await app.inject('/hello.txt'), { basename: maybeName, attachment: true })
`

t.test('npm pack installs and runs in ESM, CommonJS and strict TypeScript consumers', async (t) => {
  const dir = t.testdir({})
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, maxBuffer: 16 * 1024 * 1024 })
  const [packed] = JSON.parse(stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  if (packed === undefined) throw new Error('npm pack packed nothing')
  const files = packed.files.map((file) => file.path)
  for (const file of ['package.json', 'README.md', 'LICENSE', 'BENCHMARKS.md', 'dist/index.js', 'dist/index.d.ts']) t.ok(files.includes(file), `the tarball holds ${file}`)
  t.notOk(files.some((file) => /^(lib|test|types|example|benchmarks)\//.test(file)), 'no sources, tests or tooling')

  const app = join(dir, 'app')
  await run('mkdir', ['-p', app])
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
  // the lowest Fastify 5 the peer range allows, and its logger for the custom-logger case
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', 'fastify@5.0.0', 'pino@9', '@types/node@20', join(dir, packed.filename)], { cwd: app, maxBuffer: 16 * 1024 * 1024 })
  const nested = await readdir(join(app, 'node_modules', 'fastify-downloadview', 'node_modules')).catch(() => [] as string[])
  t.notOk(nested.includes('fastify'), 'one copy of fastify: the app\'s')

  await writeFile(join(app, 'esm.mjs'), ESM)
  t.same(JSON.parse((await run(process.execPath, ['esm.mjs'], { cwd: app })).stdout), ['Hello world!\n', 'attachment; filename="hello-world.txt"', 'a,b\n', '504b0304', true], 'ESM')
  await writeFile(join(app, 'cjs.cjs'), CJS)
  t.same(JSON.parse((await run(process.execPath, ['cjs.cjs'], { cwd: app })).stdout), ['hi', 'attachment; filename="hi.txt"'], 'CommonJS require()')

  await writeFile(join(app, 'app.ts'), TS)
  await writeFile(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { strict: true, exactOptionalPropertyTypes: true, skipLibCheck: false, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, types: ['node'] },
    files: ['app.ts']
  }))
  const compiled = await run(process.execPath, [tsc, '-p', '.'], { cwd: app }).then(() => '', (error: { stdout: string }) => error.stdout)
  t.equal(compiled, '', 'strict TypeScript compiles without casts')
})
