// Reverse-proxy offload for real: the app (in this process) answers on-disk files with an empty 200
// and X-Accel-Redirect, and Debian's nginx in front of it sends the files from an `internal`
// location. Through nginx, with curl and fetch: the bytes, the names django-downloadview users met
// 404s with (its issues #85 and #110), ranges, conditionals with nginx's own validators, HEAD,
// Cache-Control, what nginx does with each X-Accel-* header, refusals, `offload: false`; and that
// the app never opened an offloaded file, while the same routes without offload do.
//
// "Never opened" is counted twice, for the whole process: fs.createReadStream (what
// lib/files/path-file.ts reads a file with, through its ESM import of node:fs, which
// module.syncBuiltinESMExports() points at the wrapper) and fs.open, fs.openSync and
// fs.promises.open (every fs.createReadStream opens through fs.open, @fastify/send's included).
// Both must count the file for the routes that serve it from the app, or the check could not fail.
// (t.mockImport('../lib/index.js', { 'node:fs': … }) does not reach path-file.ts: under tap's
// TypeScript loader, @tapjs/mock cannot resolve the `.js` specifiers of `.ts` sources, so the mock
// stops at lib/index.ts and every module below it is the real one.)
import t, { type Test } from 'tap'
import type { Fixture } from '@tapjs/fixture'
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import { readFile, readdir, realpath, stat } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { syncBuiltinESMExports } from 'node:module'
import { join } from 'node:path'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import Fastify from 'fastify'
import fastifyDownloadView, { ContentFile, pathDownloadRoute } from '../lib/index.js'
import { download, nginxConfig, startNginxWith, type ClientKind, type ClientResult, type NginxProcess, type NginxSetup } from './protocols.js'

const TIMEOUT = 30_000
/** X-Accel-Limit-Rate of the /accel/ routes: above big.bin's size, so that nginx's first second sends it all. */
const LIMIT_RATE = 1_048_576
/** Debian's charset_map between windows-1251 and utf-8 (package nginx-common). */
const WIN_UTF = '/etc/nginx/win-utf'

// ---------------------------------------------------------------------------------------------
// Counting what the app opens

/** Every fs.createReadStream() while spying: its path, and whether lib/files/path-file.ts called it. */
const streamed: Array<{ path: string, byPathFile: boolean }> = []
/** Every path opened through fs.open, fs.openSync or fs.promises.open while spying. */
const opened: string[] = []

const pathOf = (value: unknown): string => value instanceof URL ? value.pathname : Buffer.isBuffer(value) ? value.toString() : String(value)

/**
 * Wraps fs.createReadStream (and, through syncBuiltinESMExports(), every ESM import of it), fs.open,
 * fs.openSync and fs.promises.open (the functions node's own streams call); returns the undo.
 */
function spyOnOpens (): () => void {
  const targets: Array<[Record<string, unknown>, string]> = [
    [fs as unknown as Record<string, unknown>, 'createReadStream'],
    [fs as unknown as Record<string, unknown>, 'open'],
    [fs as unknown as Record<string, unknown>, 'openSync'],
    [fs.promises as unknown as Record<string, unknown>, 'open']
  ]
  const undo: Array<() => void> = []
  for (const [target, name] of targets) {
    const real = target[name] as (...args: unknown[]) => unknown
    const stream = name === 'createReadStream'
    target[name] = function (this: unknown, ...args: unknown[]): unknown {
      if (stream) streamed.push({ path: pathOf(args[0]), byPathFile: /[/\\]lib[/\\]files[/\\]path-file\.[jt]s:/.test(new Error().stack ?? '') })
      else opened.push(pathOf(args[0]))
      return Reflect.apply(real, this, args)
    }
    undo.push(() => { target[name] = real })
  }
  syncBuiltinESMExports()
  return () => {
    for (const restore of undo) restore()
    syncBuiltinESMExports()
  }
}

// ---------------------------------------------------------------------------------------------
// The files

/** 256 KiB of deterministic bytes. */
function bigBytes (): Buffer {
  const bytes = Buffer.alloc(256 * 1024)
  let x = 7
  for (let i = 0; i < bytes.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0
    bytes[i] = x >>> 24
  }
  return bytes
}

const BIG = bigBytes()
const RU = 'Привет\n'
/** RU in windows-1251. */
const RU_1251 = Buffer.from([0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2, 0x0a])
const CSV = 'mois,ventes\njuillet,42\naoût,17\n'

/** The names of issues #85 and #110 and their kin, at the top and in subdirectories. */
const NAMES = [
  'rapport été.csv',
  '日本語.txt',
  'with space.txt',
  '100%.txt',
  '100%25.txt',
  'a#b.txt',
  'what?.txt',
  'a+b.txt',
  'semi;colon.txt',
  '"quoted".txt',
  "it's.txt",
  'all % # ? + ; " \' été 日本.txt',
  'sub dir/rapport été.csv',
  'sub dir/日本語.txt',
  'sub dir/100% #?.txt',
  'été/日本/x ;+#?%.txt',
  'a/b/c/deep.txt'
]

/** Every file under root, by its path relative to root. */
const FILES = new Map<string, Buffer>([
  ['hello.txt', Buffer.from('Hello world!\n')],
  ['big.bin', BIG],
  ['ru.txt', Buffer.from(RU)],
  ['report.csv', Buffer.from(CSV)],
  ...NAMES.map((name): [string, Buffer] => [name, Buffer.from(`the file "${name}"\n`)])
])
const SECRET = 'the dotfile, never to be sent\n'
const OUTSIDE = 'outside the root, never to be sent\n'

interface Tree { [name: string]: Buffer | string | Tree | Fixture<'symlink'> }

function tree (t: Test): Tree {
  const root: Tree = {}
  for (const [path, content] of FILES) {
    const parts = path.split('/')
    let dir = root
    for (const part of parts.slice(0, -1)) dir = (dir[part] ??= {}) as Tree
    dir[parts.at(-1) as string] = content
  }
  root['.secret'] = SECRET
  root['escape.txt'] = t.fixture('symlink', '../outside.txt')
  return root
}

// ---------------------------------------------------------------------------------------------
// The app and nginx

/** Where the app counts the requests that reach it, by URL. */
const hits = new Map<string, number>()

type Wildcard = { Params: { '*': string } }

async function buildApp (root: string): Promise<FastifyInstance> {
  const rules = [{ source: root, destination: '/protected-files' }]
  const getPath = (request: FastifyRequest<Wildcard>): string => request.params['*']
  const app = Fastify()
  app.addHook('onRequest', async (request) => { hits.set(request.url, (hits.get(request.url) ?? 0) + 1) })
  // one plugin registration per offload configuration, each in its own encapsulated context
  await app.register(async (scope) => {
    await scope.register(fastifyDownloadView, { offload: { server: 'nginx', rules } })
    scope.route(pathDownloadRoute<Wildcard>({ url: '/files/*', root, getPath }))
    scope.route(pathDownloadRoute<Wildcard>({ url: '/max-age/*', root, maxAge: '1h', immutable: true, getPath }))
    scope.route(pathDownloadRoute<Wildcard>({ url: '/cache-control/*', root, maxAge: '1h', cacheControl: 'private, max-age=60', getPath }))
    scope.route(pathDownloadRoute<Wildcard>({ url: '/deny/*', root, dotfiles: 'deny', getPath }))
    scope.get<{ Params: { name: string } }>('/option/:name', { pathDownload: { root } }, async (request) => request.params.name)
    scope.get<{ Querystring: { path: string } }>('/reply', (request, reply) => reply.pathDownload(request.query.path, { root }))
    scope.route(pathDownloadRoute<Wildcard>({ url: '/direct/*', root, offload: false, getPath }))
    // the proxy_cache control: an answer nginx does cache
    scope.get('/cached/virtual.txt', (request, reply) =>
      reply.virtualDownload(new ContentFile('cacheable\n', { name: 'virtual.txt' }), { cacheControl: 'public, max-age=60' }))
  })
  await app.register(async (scope) => {
    await scope.register(fastifyDownloadView, {
      offload: { server: 'nginx', rules, nginx: { limitRate: LIMIT_RATE, buffering: false, expires: 60, charset: 'utf-8' } }
    })
    scope.route(pathDownloadRoute<Wildcard>({ url: '/accel/*', root, getPath }))
    scope.route(pathDownloadRoute<Wildcard>({ url: '/cached/accel/*', root, getPath }))
  })
  await app.register(async (scope) => {
    await scope.register(fastifyDownloadView, { offload: { server: 'nginx', rules, nginx: { charset: 'windows-1251' } } })
    scope.route(pathDownloadRoute<Wildcard>({ url: '/windows-1251/*', root, getPath }))
  })
  await app.register(async (scope) => {
    await scope.register(fastifyDownloadView)
    scope.route(pathDownloadRoute<Wildcard>({ url: '/no-offload/*', root, getPath }))
  })
  await app.listen({ host: '127.0.0.1', port: 0 })
  return app
}

/** A string for nginx's config, double-quoted. */
function nginxString (value: string): string {
  if (value.includes('$')) throw new Error(`a $ would be a variable in nginx's config: ${value}`)
  return `"${value.replace(/[\\"]/g, '\\$&')}"`
}

/**
 * nginx in front of the app: `location /` proxies to it, `location /cached/` too with a proxy_cache,
 * `location /protected-files/` is internal and aliases root. The probe log has what each request
 * ended with: its URI, status, $limit_rate and $upstream_cache_status.
 */
function frontConfig (setup: NginxSetup, appPort: number, root: string, http: string[] = []): string {
  return nginxConfig(setup, {
    http: [
      "  log_format probe '$request_uri $status limit_rate=$limit_rate cache=$upstream_cache_status';",
      `  access_log ${nginxString(join(setup.scratch, 'probe.log'))} probe;`,
      `  proxy_cache_path ${nginxString(join(setup.scratch, 'cache'))} keys_zone=downloads:1m;`,
      `  upstream app { server 127.0.0.1:${appPort}; }`,
      ...http
    ],
    server: [
      '    location / { proxy_pass http://app; }',
      '    location /cached/ { proxy_cache downloads; proxy_pass http://app; }',
      `    location /protected-files/ { internal; alias ${nginxString(root + '/')}; }`
    ]
  })
}

// ---------------------------------------------------------------------------------------------
// Requests

/** A path under `prefix` for a file path, each segment percent-encoded. */
const urlPath = (prefix: string, path: string): string => `${prefix}/${path.split('/').map(encodeURIComponent).join('/')}`

interface Raw { status: number, headers: Record<string, string>, body: Buffer }

/** node:http with the request target exactly as given (no URL normalization: `..` stays). */
function raw (base: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Raw> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method, headers, agent: false, timeout: TIMEOUT }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const received: Record<string, string> = {}
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) received[name] = Array.isArray(value) ? value.join(', ') : value
        }
        resolve({ status: res.statusCode ?? 0, headers: received, body: Buffer.concat(chunks) })
      })
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error(`no response in ${TIMEOUT} ms: ${method} ${path}`)))
    req.on('error', reject)
    req.end()
  })
}

/** One request with a real client (test/protocols.ts); the client must not report a failure. */
async function fetchWith (t: Test, client: ClientKind, url: string, options: { method?: 'GET' | 'HEAD', headers?: Record<string, string> } = {}): Promise<ClientResult> {
  const result = await download(client, url, options)
  t.notOk(result.failed, `${client} ${options.method ?? 'GET'} ${url}: ${result.detail}`)
  return result
}

/** The decoded filename* of a Content-Disposition, else its filename. */
function nameIn (disposition: string | undefined): string | undefined {
  const extended = /(?:^|;)\s*filename\*=UTF-8''([^;\s]+)/i.exec(disposition ?? '')?.[1]
  if (extended !== undefined) return decodeURIComponent(extended)
  return /(?:^|;)\s*filename="((?:[^"\\]|\\.)*)"/i.exec(disposition ?? '')?.[1]?.replace(/\\(.)/g, '$1')
}

/** nginx's ETag for a file: "mtime-size", both in hex (ngx_http_set_etag). */
async function nginxEtag (path: string): Promise<string> {
  const { mtime, size } = await stat(path)
  return `"${Math.floor(mtime.getTime() / 1000).toString(16)}-${size.toString(16)}"`
}

/** The probe log's lines for `uri`, once there are `count` (nginx writes one as a request ends); 10 s at most. */
async function probeLines (nginx: NginxProcess, uri: string, count = 1): Promise<string[]> {
  let lines: string[] = []
  for (let i = 0; i < 1000; i++) {
    lines = (await readFile(join(nginx.scratch, 'probe.log'), 'utf8').catch(() => '')).split('\n').filter((line) => line.startsWith(`${uri} `))
    if (lines.length >= count) return lines
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  throw new Error(`nginx logged ${lines.length} requests for ${uri}, not ${count}`)
}

/** The `code` of the app's JSON error body, or what the body was. */
function errorCode (body: Buffer): string {
  try {
    return String((JSON.parse(body.toString()) as { code?: unknown }).code)
  } catch {
    return `not the app's JSON: ${body.toString().slice(0, 200)}`
  }
}

function curlOJ (url: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('curl', ['-sS', '--fail', '--max-time', String(TIMEOUT / 1000), '-OJ', url], { cwd, timeout: TIMEOUT + 5_000 }, (error, _stdout, stderr) => {
      if (error === null) resolve()
      else reject(new Error(`curl -OJ ${url}: ${error.message}\n${stderr}`))
    })
  })
}

const CLIENTS: readonly ClientKind[] = ['curl', 'fetch']

// ---------------------------------------------------------------------------------------------

t.test('offload behind Debian\'s nginx', async (t) => {
  const dir = t.testdir({ root: tree(t), 'outside.txt': OUTSIDE })
  const realDir = await realpath(dir)
  const root = join(realDir, 'root')
  const real = async (path: string): Promise<string> => await realpath(join(root, path))

  const undoSpy = spyOnOpens()
  t.teardown(undoSpy)
  const app = await buildApp(root)
  t.teardown(async () => { await app.close() })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('the app has no TCP address')
  const appBase = `http://127.0.0.1:${address.port}`
  const nginx = await startNginxWith((setup) => frontConfig(setup, address.port, root))
  t.teardown(nginx.stop)
  const base = nginx.base

  t.test('each name downloads with its bytes and the app\'s Content-Disposition', async (t) => {
    for (const name of NAMES) {
      const content = FILES.get(name) as Buffer
      const path = urlPath('/files', name)
      const direct = await raw(appBase, path)
      t.equal(direct.status, 200, `${name}: the app answers 200`)
      t.equal(direct.body.length, 0, `${name}: with no body`)
      t.equal(direct.headers['x-accel-redirect'], urlPath('/protected-files', name), `${name}: X-Accel-Redirect, each segment percent-encoded`)
      t.notOk(direct.headers.etag ?? direct.headers['content-range'], `${name}: no ETag or Content-Range from the app`)
      // Node writes Content-Length: 0 for a GET ended before any byte (never the file's length)
      t.equal(direct.headers['content-length'], undefined, `${name}: no Content-Length from the app (not even 0)`)
      // the plugin's rule: a '"' in a name becomes '_' (curl would end the quoted name at it)
      t.equal(nameIn(direct.headers['content-disposition']), name.split('/').at(-1)?.replaceAll('"', '_'), `${name}: the app's Content-Disposition names it`)
      for (const client of CLIENTS) {
        const response = await fetchWith(t, client, base + path)
        t.equal(response.status, 200, `${name} (${client}): 200`)
        t.ok(response.body.equals(content), `${name} (${client}): the file's bytes`)
        t.equal(response.headers['content-disposition'], direct.headers['content-disposition'], `${name} (${client}): the app's Content-Disposition`)
        t.equal(response.headers['content-type'], direct.headers['content-type'], `${name} (${client}): the app's Content-Type`)
        t.equal(response.headers['content-length'], String(content.length), `${name} (${client}): nginx's Content-Length`)
        t.equal(response.headers.etag, await nginxEtag(await real(name)), `${name} (${client}): nginx's ETag`)
        t.equal(response.headers['x-accel-redirect'], undefined, `${name} (${client}): X-Accel-Redirect stays between the app and nginx`)
      }
    }
  })

  t.test('curl -OJ saves each under the plain filename, with its bytes', async (t) => {
    const saved = t.testdir()
    const want = new Map([['rapport été.csv', 'rapport ete.csv'], ['sub dir/100% #?.txt', '100% #?.txt'], ['a+b.txt', 'a+b.txt']])
    for (const [name, file] of want) {
      await curlOJ(base + urlPath('/files', name), saved)
      t.ok((await readFile(join(saved, file))).equals(FILES.get(name) as Buffer), `${name} saved as ${file}`)
    }
    t.same((await readdir(saved)).sort(), [...want.values()].sort(), 'nothing else saved')
  })

  t.test('Range: nginx answers 206 with the slice, 416 when unsatisfiable', async (t) => {
    const url = base + '/files/big.bin'
    for (const client of CLIENTS) {
      const slice = await fetchWith(t, client, url, { headers: { range: 'bytes=1000-1999' } })
      t.equal(slice.status, 206, `${client}: 206`)
      t.equal(slice.headers['content-range'], `bytes 1000-1999/${BIG.length}`, `${client}: Content-Range`)
      t.ok(slice.body.equals(BIG.subarray(1000, 2000)), `${client}: bytes 1000-1999`)
      t.equal(slice.headers['content-disposition'], 'attachment; filename="big.bin"', `${client}: the app's Content-Disposition on the 206`)
      const suffix = await fetchWith(t, client, url, { headers: { range: 'bytes=-100' } })
      t.equal(suffix.status, 206, `${client}: a suffix range`)
      t.ok(suffix.body.equals(BIG.subarray(BIG.length - 100)), `${client}: the last 100 bytes`)
      const past = await fetchWith(t, client, url, { headers: { range: `bytes=${BIG.length}-` } })
      t.equal(past.status, 416, `${client}: 416`)
      t.equal(past.headers['content-range'], `bytes */${BIG.length}`, `${client}: Content-Range bytes */size`)
      t.equal(past.body.indexOf(BIG.subarray(0, 64)), -1, `${client}: none of the file on the 416`)
      // nginx keeps the headers it copied from the app on its own 416 page (text/html)
      t.equal(past.headers['content-disposition'], 'attachment; filename="big.bin"', `${client}: nginx's 416 still carries the app's Content-Disposition`)
      t.equal(past.headers['content-type'], 'text/html', `${client}: nginx's own 416 page`)
    }
  })

  t.test('conditionals with nginx\'s own validators, and HEAD', async (t) => {
    const url = base + '/files/hello.txt'
    const content = FILES.get('hello.txt') as Buffer
    for (const client of CLIENTS) {
      const head = await fetchWith(t, client, url, { method: 'HEAD' })
      t.equal(head.status, 200, `${client} HEAD: 200`)
      t.equal(head.body.length, 0, `${client} HEAD: no body`)
      t.equal(head.headers['content-length'], String(content.length), `${client} HEAD: the file's Content-Length`)
      t.equal(head.headers['content-type'], 'text/plain; charset=utf-8', `${client} HEAD: Content-Type`)
      t.equal(head.headers['content-disposition'], 'attachment; filename="hello.txt"', `${client} HEAD: Content-Disposition`)
      const etag = head.headers.etag ?? ''
      const lastModified = head.headers['last-modified'] ?? ''
      t.equal(etag, await nginxEtag(await real('hello.txt')), `${client} HEAD: nginx's strong ETag ("mtime-size")`)
      t.equal(lastModified, (await stat(await real('hello.txt'))).mtime.toUTCString(), `${client} HEAD: Last-Modified`)

      const byEtag = await fetchWith(t, client, url, { headers: { 'if-none-match': etag } })
      t.equal(byEtag.status, 304, `${client}: If-None-Match with nginx's ETag: 304`)
      t.equal(byEtag.body.length, 0, `${client}: no body on the 304`)
      t.equal(byEtag.headers.etag, etag, `${client}: the 304 carries the ETag`)
      const byDate = await fetchWith(t, client, url, { headers: { 'if-modified-since': lastModified } })
      t.equal(byDate.status, 304, `${client}: If-Modified-Since with nginx's Last-Modified: 304`)
      const other = await fetchWith(t, client, url, { headers: { 'if-none-match': '"another"' } })
      t.equal(other.status, 200, `${client}: If-None-Match with another ETag: 200`)
      t.ok(other.body.equals(content), `${client}: the whole file`)
      const ifRange = await fetchWith(t, client, url, { headers: { range: 'bytes=0-4', 'if-range': etag } })
      t.equal(ifRange.status, 206, `${client}: If-Range with nginx's ETag: 206`)
      t.equal(ifRange.body.toString(), 'Hello', `${client}: bytes 0-4`)
      const stale = await fetchWith(t, client, url, { headers: { range: 'bytes=0-4', 'if-range': '"stale"' } })
      t.equal(stale.status, 200, `${client}: If-Range with another ETag: 200`)
      t.ok(stale.body.equals(content), `${client}: the whole file`)
    }
  })

  t.test('Cache-Control from the route passes through nginx', async (t) => {
    for (const client of CLIENTS) {
      const none = await fetchWith(t, client, base + '/files/hello.txt')
      t.equal(none.headers['cache-control'], undefined, `${client}: no Cache-Control by default`)
      const maxAge = await fetchWith(t, client, base + '/max-age/hello.txt')
      t.equal(maxAge.headers['cache-control'], 'public, max-age=3600, immutable', `${client}: maxAge '1h' and immutable`)
      t.ok(maxAge.body.equals(FILES.get('hello.txt') as Buffer), `${client}: the bytes`)
      const given = await fetchWith(t, client, base + '/cache-control/hello.txt', { method: 'HEAD' })
      t.equal(given.headers['cache-control'], 'private, max-age=60', `${client}: cacheControl wins over maxAge`)
    }
  })

  t.test('X-Accel-Limit-Rate, -Buffering, -Expires, -Charset with a config that declares no charset', async (t) => {
    const direct = await raw(appBase, '/accel/big.bin')
    t.same(
      [direct.headers['x-accel-limit-rate'], direct.headers['x-accel-buffering'], direct.headers['x-accel-expires'], direct.headers['x-accel-charset']],
      [String(LIMIT_RATE), 'no', '60', 'utf-8'], 'the app sends the four headers')

    for (const client of CLIENTS) {
      const uri = `/accel/big.bin?client=${client}`
      const response = await fetchWith(t, client, base + uri)
      t.equal(response.status, 200, `${client}: 200`)
      t.ok(response.body.equals(BIG), `${client}: the bytes (X-Accel-Buffering: no changes nothing of a redirect)`)
      t.same(Object.keys(response.headers).filter((name) => name.startsWith('x-accel-')), [], `${client}: no X-Accel-* header reaches the client`)
      // X-Accel-Limit-Rate sets the request's limit_rate, which the file's response is sent with
      t.match(await probeLines(nginx, uri), [/ 200 limit_rate=1048576 /], `${client}: nginx sent the file with limit_rate ${LIMIT_RATE}`)
      const plain = `/files/big.bin?client=${client}`
      await fetchWith(t, client, base + plain)
      t.match(await probeLines(nginx, plain), [/ 200 limit_rate=0 /], `${client}: without the header, no limit`)

      // X-Accel-Charset names a charset this config never declared: nginx logs an error and changes nothing
      const text = await fetchWith(t, client, base + '/accel/ru.txt')
      t.equal(text.headers['content-type'], 'text/plain; charset=utf-8', `${client}: the text's Content-Type unchanged`)
      t.equal(text.body.toString(), RU, `${client}: the text's bytes unchanged`)
      const binary = await fetchWith(t, client, base + '/accel/big.bin')
      t.equal(binary.headers['content-type'], 'application/octet-stream', `${client}: the binary's Content-Type unchanged`)
    }
    t.match(await nginx.errors(), /unknown charset "utf-8" to override/, 'nginx logs the unknown charset')

    // X-Accel-Expires is for proxy_cache; nginx caches no X-Accel-Redirect answer, whatever it says
    for (const n of [1, 2]) {
      const response = await fetchWith(t, 'curl', base + '/cached/accel/hello.txt')
      t.ok(response.body.equals(FILES.get('hello.txt') as Buffer), `offloaded through proxy_cache, request ${n}: the bytes`)
    }
    t.equal(hits.get('/cached/accel/hello.txt'), 2, 'X-Accel-Expires: 60 under proxy_cache: both requests reached the app')
    t.match(await probeLines(nginx, '/cached/accel/hello.txt', 2), [/ 200 .* cache=MISS$/, / 200 .* cache=MISS$/], 'nginx logged a cache MISS both times')
    for (const n of [1, 2]) {
      const response = await fetchWith(t, 'curl', base + '/cached/virtual.txt')
      t.equal(response.body.toString(), 'cacheable\n', `a plain answer through proxy_cache, request ${n}`)
    }
    t.equal(hits.get('/cached/virtual.txt'), 1, 'the control: the cache does serve a plain answer (Cache-Control: public, max-age=60) the second time')
    t.match(await probeLines(nginx, '/cached/virtual.txt', 2), [/ cache=MISS$/, / cache=HIT$/], 'a MISS, then a HIT')
  })

  t.test('X-Accel-Charset with a config that knows the charset (Debian\'s win-utf map)', async (t) => {
    t.ok(fs.existsSync(WIN_UTF), `${WIN_UTF} (Debian's nginx-common) is there`)
    const aware = await startNginxWith((setup) => frontConfig(setup, address.port, root, [`  include ${WIN_UTF};`]))
    t.teardown(aware.stop)
    for (const client of CLIENTS) {
      // the app's charset already: the text goes as it is
      const text = await fetchWith(t, client, aware.base + '/accel/ru.txt')
      t.equal(text.headers['content-type'], 'text/plain; charset=utf-8', `${client}: utf-8 on utf-8 text: Content-Type unchanged`)
      t.equal(text.body.toString(), RU, `${client}: utf-8 on utf-8 text: bytes unchanged`)
      // a type the app gives no charset gets one
      const binary = await fetchWith(t, client, aware.base + '/accel/big.bin')
      t.equal(binary.headers['content-type'], 'application/octet-stream; charset=utf-8', `${client}: utf-8 on a binary file: nginx adds "; charset=utf-8"`)
      t.ok(binary.body.equals(BIG), `${client}: the binary's bytes unchanged`)
      // another charset: nginx recodes the text from the app's utf-8, and drops the length
      const recoded = await fetchWith(t, client, aware.base + '/windows-1251/ru.txt')
      t.equal(recoded.headers['content-type'], 'text/plain; charset=windows-1251', `${client}: windows-1251 on utf-8 text: relabelled`)
      t.ok(recoded.body.equals(RU_1251), `${client}: and recoded to windows-1251 (${recoded.body.toString('hex')})`)
      t.equal(recoded.headers['content-length'], undefined, `${client}: recoded, without Content-Length`)
      const csv = await fetchWith(t, client, aware.base + '/windows-1251/report.csv')
      t.equal(csv.body.toString('latin1'), CSV.replace('û', '&#251;'), `${client}: a character windows-1251 lacks becomes an HTML character reference`)
    }
    t.notMatch(await aware.errors(), /unknown charset/, 'no unknown charset there')
  })

  t.test('refused files: the app\'s 404/403 reaches the client, never the file', async (t) => {
    const refusals: Array<[string, number, string]> = [
      ['/files/missing.txt', 404, 'FST_DOWNLOADVIEW_FILE_NOT_FOUND'],
      ['/files/.secret', 404, 'FST_DOWNLOADVIEW_FILE_NOT_FOUND'],
      ['/deny/.secret', 403, 'FST_DOWNLOADVIEW_FORBIDDEN'],
      ['/files/escape.txt', 404, 'FST_DOWNLOADVIEW_FILE_NOT_FOUND'],
      ['/files/sub%20dir/', 404, 'FST_DOWNLOADVIEW_FILE_NOT_FOUND'],
      ['/files/..%2Foutside.txt', 403, 'FST_DOWNLOADVIEW_FORBIDDEN'],
      ['/files/sub%20dir/..%2F..%2Foutside.txt', 403, 'FST_DOWNLOADVIEW_FORBIDDEN'],
      ['/files/../outside.txt', 403, 'FST_DOWNLOADVIEW_FORBIDDEN'],
      ['/reply?path=../outside.txt', 403, 'FST_DOWNLOADVIEW_FORBIDDEN'],
      ['/reply?path=escape.txt', 404, 'FST_DOWNLOADVIEW_FILE_NOT_FOUND']
    ]
    const leaked = (body: Buffer): boolean => body.includes(SECRET) || body.includes(OUTSIDE)
    for (const [path, status, code] of refusals) {
      const direct = await raw(appBase, path)
      t.equal(direct.status, status, `${path}: the app answers ${status}`)
      t.equal(direct.headers['x-accel-redirect'], undefined, `${path}: no X-Accel-Redirect`)
      // node:http sends the path as written: nginx passes it on to the app unnormalized
      const through = await raw(base, path)
      t.equal(through.status, status, `${path}: ${status} through nginx`)
      t.equal(errorCode(through.body), code, `${path}: the app's error body`)
      t.notOk(leaked(through.body), `${path}: none of the file`)
    }
    for (const client of CLIENTS) {
      const internal = await fetchWith(t, client, base + '/protected-files/hello.txt')
      t.equal(internal.status, 404, `${client}: the internal location is not reachable from outside`)
      t.notOk(internal.body.includes('Hello world!'), `${client}: none of the file`)
    }
  })

  t.test('the route option and reply.pathDownload offload too', async (t) => {
    for (const [path, name] of [['/option/rapport%20%C3%A9t%C3%A9.csv', 'rapport été.csv'], [`/reply?path=${encodeURIComponent('sub dir/日本語.txt')}`, 'sub dir/日本語.txt']] as const) {
      const direct = await raw(appBase, path)
      t.equal(direct.headers['x-accel-redirect'], urlPath('/protected-files', name), `${path}: X-Accel-Redirect`)
      t.equal(direct.body.length, 0, `${path}: no body from the app`)
      const response = await fetchWith(t, 'fetch', base + path)
      t.ok(response.body.equals(FILES.get(name) as Buffer), `${path}: the bytes through nginx`)
    }
  })

  t.test('the app never opened an offloaded file', async (t) => {
    const inside = (path: string): boolean => path.startsWith(dir) || path.startsWith(realDir)
    t.same(streamed.filter(({ path }) => inside(path)), [], 'fs.createReadStream was never called for a file under the test directory')
    t.same(opened.filter(inside), [], 'fs.open / openSync / promises.open never opened a file under the test directory')
  })

  t.test('without offload the same files are opened by the app: the count can fail', async (t) => {
    const hello = await real('hello.txt')
    const content = FILES.get('hello.txt') as Buffer
    for (const [prefix, what] of [['/direct', 'offload: false'], ['/no-offload', 'a plugin without offload']] as const) {
      streamed.length = 0
      opened.length = 0
      const direct = await raw(appBase, `${prefix}/hello.txt`)
      t.equal(direct.headers['x-accel-redirect'], undefined, `${what}: no X-Accel-Redirect`)
      t.ok(direct.body.equals(content), `${what}: the app sends the bytes`)
      t.same(streamed, [{ path: hello, byPathFile: true }], `${what}: createReadStream counted the file, called by lib/files/path-file.ts`)
      t.ok(opened.includes(hello), `${what}: fs.open counted the file`)
      for (const client of CLIENTS) {
        const response = await fetchWith(t, client, base + `${prefix}/hello.txt`)
        t.ok(response.body.equals(content), `${what} (${client}): served by the app through nginx`)
        t.equal(response.headers.etag?.startsWith('W/'), true, `${what} (${client}): the app's (weak) ETag, not nginx's`)
      }
      const range = await fetchWith(t, 'curl', base + `${prefix}/big.bin`, { headers: { range: 'bytes=10-19' } })
      t.equal(range.status, 206, `${what}: the app's 206 through nginx`)
      t.ok(range.body.equals(BIG.subarray(10, 20)), `${what}: the slice`)
    }
  })
})
