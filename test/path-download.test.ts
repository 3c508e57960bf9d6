// Path downloads (API.md, "Beyond virtual files", rule "Path downloads") over real HTTP: a tree of
// files with every kind of name and link, asked for with curl (URLs sent as written), fetch and
// node:http on HTTP/1.1, and with node:http2 and curl on h2c. Refusals go through Fastify's error
// handler and leak nothing; no file descriptor outlives its response, whatever the outcome.
import { appendFileSync, closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { get as httpGet } from 'node:http'
import * as http2 from 'node:http2'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import fc from 'fast-check'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import fastifyDownloadView, { ContentFile, pathDownloadRoute, type FastifyDownloadViewOptions, type PathDownloadOptions } from '../lib/index.js'
import { curl, descriptorsInto, makeTree, MIB, noDescriptorsInto, until, type CurlResponse, type Tree } from './fixtures/path-tree.js'
import { get, listen } from './helpers.js'
import { download, startServer } from './protocols.js'

interface Star { Params: { '*': string } }

const tree = makeTree(t)
const A_TXT = 'hello world\n'

/** A temp dir whose absolute path has no dot segment (t.testdir's lies under .tap/). */
const plain = mkdtempSync(join(tmpdir(), 'fdv-path-'))
writeFileSync(join(plain, 'a.txt'), A_TXT)
mkdirSync(join(plain, 'dir'))
symlinkSync('a.txt', join(plain, 'link.txt'))
t.teardown(() => rmSync(plain, { recursive: true, force: true }))

function statOf (path: string): { size: number, etag: string, lastModified: string } {
  const stat = statSync(path)
  return { size: stat.size, etag: `W/"${stat.size.toString(16)}-${stat.mtime.getTime().toString(16)}"`, lastModified: stat.mtime.toUTCString() }
}

/** An app on 127.0.0.1 with the plugin (options given) and `/files/*`, `/deny/*`, `/allow/*`. */
async function filesApp (t: Test, options: FastifyDownloadViewOptions = { root: tree.root }, setup?: (app: FastifyInstance) => void): Promise<{ app: FastifyInstance, base: string }> {
  const app = Fastify()
  await app.register(fastifyDownloadView, options)
  app.get<Star>('/files/*', { pathDownload: true }, async (request) => request.params['*'])
  app.get<Star>('/deny/*', { pathDownload: { dotfiles: 'deny' } }, (request) => request.params['*'])
  app.get<Star>('/allow/*', { pathDownload: { dotfiles: 'allow' } }, (request) => request.params['*'])
  setup?.(app)
  const base = await listen(app)
  t.teardown(() => app.close())
  return { app, base }
}

const FORBIDDEN = { statusCode: 403, code: 'FST_DOWNLOADVIEW_FORBIDDEN', error: 'Forbidden', message: 'Forbidden' }
const NOT_FOUND = { statusCode: 404, code: 'FST_DOWNLOADVIEW_FILE_NOT_FOUND', error: 'Not Found', message: 'File not found' }
// send's own error answer carries these; none may show
const DOWNLOAD_OR_SEND_HEADERS = ['location', 'content-disposition', 'etag', 'last-modified', 'accept-ranges', 'cache-control',
  'content-security-policy', 'x-content-type-options', 'content-range']

/** A refusal: Fastify's JSON error, nothing of send's, no path of the tree anywhere. */
function assertRefusal (t: Test, response: CurlResponse, status: 403 | 404, what: string): void {
  t.equal(response.status, status, `${what}: status`)
  t.match(response.headers['content-type'], /^application\/json/, `${what}: a JSON error`)
  const text = response.body.toString('utf8')
  t.notMatch(text, /<html|<!doctype|<body/i, `${what}: no HTML`)
  t.same(JSON.parse(text), status === 403 ? FORBIDDEN : NOT_FOUND, `${what}: Fastify's error body`)
  const everything = `${JSON.stringify(response.headers)}\n${text}`
  t.notOk(everything.includes(tree.dir), `${what}: no path of the temp dir`)
  t.notMatch(everything, /secret|outside|\.tap/i, `${what}: nothing of the target`)
  for (const name of DOWNLOAD_OR_SEND_HEADERS) t.equal(response.headers[name], undefined, `${what}: no ${name}`)
}

// URL (sent as written by curl --path-as-is) -> status; the 200s carry the file's content
const TRAVERSAL_TABLE: Array<[url: string, status: 200 | 403 | 404, body?: string]> = [
  ['/files/a.txt', 200, A_TXT],
  // `..` in every spelling: 403
  ['/files/../outside/secret.txt', 403],
  ['/files/..', 403],
  ['/files/%2e%2e/outside/secret.txt', 403],
  ['/files/%2E%2E/outside/secret.txt', 403],
  ['/files/..%2Foutside%2Fsecret.txt', 403],
  ['/files/sub%2F..%2F..%2Foutside%2Fsecret.txt', 403],
  ['/files/%2F..%2Foutside%2Fsecret.txt', 403],
  ['/files/..%5Coutside%5Csecret.txt', 403],
  ['/files/sub%5C..%5C..%5Coutside%5Csecret.txt', 403],
  ['/deny/..%2Foutside%2Fsecret.txt', 403],
  ['/allow/..%2Foutside%2Fsecret.txt', 403],
  // absolute paths are relative to root: /etc/passwd is root/etc/passwd
  ['/files/%2Fetc%2Fpasswd', 404],
  ['/files//etc/passwd', 404],
  ['/files/%2Fa.txt', 200, A_TXT],
  // dotfiles: 'ignore' (the default) 404, 'deny' 403, 'allow' 200
  ['/files/.env', 404],
  ['/deny/.env', 403],
  ['/allow/.env', 200, 'SECRET=1\n'],
  ['/files/.hidden/inner.txt', 404],
  ['/deny/.hidden/inner.txt', 403],
  ['/allow/.hidden/inner.txt', 200, 'inner\n'],
  ['/files/%2Eenv', 404],
  // missing, directories, trailing slash, NUL
  ['/files/missing.txt', 404],
  ['/files/sub/missing.txt', 404],
  ['/files/sub', 404],
  ['/files/sub/', 404],
  ['/files/sub/.', 404],
  ['/files/sub/deeper', 404],
  ['/files/', 404],
  ['/files/a.txt/', 404],
  ['/files/a.txt%00', 404],
  ['/files/a.txt%00.png', 404],
  ['/files/%00', 404],
  // symlinks: out of root refused whatever dotfiles says, inside root allowed
  ['/files/link-out', 404],
  ['/allow/link-out', 404],
  ['/files/link-dir-out/secret.txt', 404],
  ['/files/link-in.txt', 200, A_TXT],
  // a backslash is a plain character of a Linux file name
  ['/files/a.txt%5C', 404],
  // never decoded twice: the files named `100%.txt` and `%2e%2e` are served
  ['/files/100%25.txt', 200, 'one hundred percent\n'],
  ['/files/%252e%252e', 200, 'not a parent\n'],
  ['/files/rapport%20%C3%A9t%C3%A9.csv', 200, 'a,b\n1,2\n'],
  ['/files/with%20space.txt', 200, 'spaced\n']
]

t.test('traversal, dotfiles, missing files, directories, NUL, symlinks: status, and nothing leaks', async (t) => {
  const { base } = await filesApp(t)
  for (const [url, status, body] of TRAVERSAL_TABLE) {
    const response = await curl(base + url)
    if (status === 200) {
      t.equal(response.status, 200, url)
      t.equal(response.body.toString(), body, `${url}: the file`)
    } else {
      assertRefusal(t, response, status, url)
    }
  }
})

t.test('refusals go through a custom error handler with their status code', async (t) => {
  const seen: Array<number | undefined> = []
  const { base } = await filesApp(t, { root: tree.root }, (app) => {
    app.setErrorHandler<FastifyError>((error, request, reply) => {
      seen.push(error.statusCode)
      return reply.code(error.statusCode ?? 500).send({ handled: error.code })
    })
  })
  for (const [url, status] of TRAVERSAL_TABLE) {
    if (status === 200) continue
    seen.length = 0
    const response = await curl(base + url)
    t.equal(response.status, status, url)
    t.same(seen, [status], `${url}: the handler saw ${status}`)
    t.same(JSON.parse(response.body.toString()), { handled: status === 403 ? FORBIDDEN.code : NOT_FOUND.code })
    t.equal(response.headers.location, undefined)
  }
})

// "A `..` segment and dotfiles: 'deny' give 403": even a `..` that would stay inside root (send
// alone would normalize `a/../b` first when it has a root), and with a trailing slash too.
t.test('contract: every `..` segment and a denied dotfile give 403', async (t) => {
  const { base } = await filesApp(t)
  const cases: Array<[string, string]> = [
    ['/files/sub/../a.txt', 'a `..` that stays inside root'],
    ['/files/sub%2F..%2Fa.txt', 'the same, encoded'],
    ['/files/..%2F', 'a `..` with a trailing slash'],
    ['/deny/.hidden/', 'a denied dot directory with a trailing slash']
  ]
  for (const [url, what] of cases) {
    const response = await curl(base + url)
    t.equal(response.status, 403, `${url}: ${what}`)
  }
})

t.test('a download: name, type, length, validators, no Cache-Control by default', async (t) => {
  const { base } = await filesApp(t, { root: tree.root }, (app) => {
    app.get<Star>('/named/*', { pathDownload: { basename: 'chosen.csv' } }, (request) => request.params['*'])
    app.get<Star>('/inline/*', { pathDownload: { attachment: false, mimetype: 'text/markdown', charset: 'latin1' } }, (request) => request.params['*'])
  })
  const a = statOf(join(tree.root, 'a.txt'))
  const response = await fetch(`${base}/files/a.txt`)
  t.equal(response.status, 200)
  t.equal(await response.text(), A_TXT)
  const headers = Object.fromEntries(response.headers)
  delete headers.date
  delete headers.connection
  delete headers['keep-alive']
  t.same(headers, {
    'content-type': 'text/plain; charset=utf-8',
    'content-disposition': 'attachment; filename="a.txt"',
    'content-length': String(a.size),
    'accept-ranges': 'bytes',
    'last-modified': a.lastModified,
    etag: a.etag
  }, 'exactly the download headers')
  t.match(a.etag, /^W\/"[0-9a-f]+-[0-9a-f]+"$/, "send's weak ETag")

  // the name is the last segment of the path as given; the type is guessed from it
  const names: Array<[url: string, type: string, disposition: string]> = [
    ['/files/sub/b.txt', 'text/plain; charset=utf-8', 'attachment; filename="b.txt"'],
    ['/files/sub%2Fb.txt', 'text/plain; charset=utf-8', 'attachment; filename="b.txt"'],
    ['/files/rapport%20%C3%A9t%C3%A9.csv', 'text/csv; charset=utf-8', 'attachment; filename="rapport ete.csv"; filename*=UTF-8\'\'rapport%20%C3%A9t%C3%A9.csv'],
    ['/files/with%20space.txt', 'text/plain; charset=utf-8', 'attachment; filename="with space.txt"'],
    ['/files/100%25.txt', 'text/plain; charset=utf-8', 'attachment; filename="100%.txt"'],
    ['/files/%252e%252e', 'application/octet-stream', 'attachment; filename="%2e%2e"; filename*=UTF-8\'\'%252e%252e'],
    ['/files/data.json', 'application/json; charset=utf-8', 'attachment; filename="data.json"'],
    ['/files/big.bin', 'application/octet-stream', 'attachment; filename="big.bin"'],
    ['/files/link-in.txt', 'text/plain; charset=utf-8', 'attachment; filename="link-in.txt"'],
    ['/named/a.txt', 'text/csv; charset=utf-8', 'attachment; filename="chosen.csv"'],
    ['/inline/a.txt', 'text/markdown; charset=latin1', 'inline; filename="a.txt"']
  ]
  for (const [url, type, disposition] of names) {
    const named = await fetch(base + url)
    await named.arrayBuffer()
    t.equal(named.status, 200, url)
    t.equal(named.headers.get('content-type'), type, `${url}: Content-Type`)
    t.equal(named.headers.get('content-disposition'), disposition, `${url}: Content-Disposition`)
  }

  const big = await fetch(`${base}/files/big.bin`)
  t.equal(big.headers.get('content-length'), String(MIB))
  t.ok(Buffer.from(await big.arrayBuffer()).equals(tree.big), 'the 1 MiB file, byte for byte')

  const empty = await fetch(`${base}/files/empty.txt`, { headers: { range: 'bytes=0-0' } })
  t.same([empty.status, empty.headers.get('content-length'), await empty.text()], [200, '0', ''], 'an empty file: a full, empty 200 whatever the Range')
})

t.test('etag: false, lastModified: false, and Cache-Control from cacheControl, maxAge, immutable', async (t) => {
  const { base } = await filesApp(t, { root: tree.root }, (app) => {
    const route = (url: string, options: PathDownloadOptions): void => {
      app.get<Star>(`${url}/*`, { pathDownload: options }, (request) => request.params['*'])
    }
    route('/no-etag', { etag: false })
    route('/no-lm', { lastModified: false })
    route('/neither', { etag: false, lastModified: false })
    route('/cc', { cacheControl: 'no-store', maxAge: 60_000, immutable: true })
    route('/ms', { maxAge: 60_000 })
    route('/ms-fraction', { maxAge: 1999 })
    route('/day', { maxAge: '1d' })
    route('/day-immutable', { maxAge: '1d', immutable: true })
    route('/immutable', { immutable: true })
    route('/decade', { maxAge: '10y' })
    route('/zero', { maxAge: 0 })
  })
  const a = statOf(join(tree.root, 'a.txt'))
  const table: Array<[url: string, etag: string | null, lastModified: string | null, cacheControl: string | null]> = [
    ['/files', a.etag, a.lastModified, null],
    ['/no-etag', null, a.lastModified, null],
    ['/no-lm', a.etag, null, null],
    ['/neither', null, null, null],
    ['/cc', a.etag, a.lastModified, 'no-store'],
    ['/ms', a.etag, a.lastModified, 'public, max-age=60'],
    ['/ms-fraction', a.etag, a.lastModified, 'public, max-age=1'],
    ['/day', a.etag, a.lastModified, 'public, max-age=86400'],
    ['/day-immutable', a.etag, a.lastModified, 'public, max-age=86400, immutable'],
    ['/immutable', a.etag, a.lastModified, 'public, max-age=0, immutable'],
    ['/decade', a.etag, a.lastModified, 'public, max-age=31536000'],
    ['/zero', a.etag, a.lastModified, 'public, max-age=0']
  ]
  for (const [url, etag, lastModified, cacheControl] of table) {
    const response = await fetch(`${base}${url}/a.txt`)
    t.equal(await response.text(), A_TXT, url)
    t.equal(response.headers.get('etag'), etag, `${url}: ETag`)
    t.equal(response.headers.get('last-modified'), lastModified, `${url}: Last-Modified`)
    t.equal(response.headers.get('cache-control'), cacheControl, `${url}: Cache-Control`)
  }
  // without validators a conditional request has nothing to match
  const unvalidated = await fetch(`${base}/neither/a.txt`, { headers: { 'if-none-match': a.etag, 'if-modified-since': a.lastModified } })
  t.equal(unvalidated.status, 200)
  await unvalidated.arrayBuffer()
  // a 304 carries the Cache-Control a 200 would
  const cached = await fetch(`${base}/day/a.txt`, { headers: { 'if-none-match': a.etag } })
  t.same([cached.status, cached.headers.get('cache-control')], [304, 'public, max-age=86400'])
})

t.test('ranges, If-Range, conditional requests and HEAD, decided by the pipeline', async (t) => {
  const { base } = await filesApp(t)
  const big = statOf(join(tree.root, 'big.bin'))
  const dayBefore = new Date(Date.parse(big.lastModified) - 86_400_000).toUTCString()
  const dayAfter = new Date(Date.parse(big.lastModified) + 86_400_000).toUTCString()
  const table: Array<[headers: Record<string, string>, status: number, slice: [number, number] | 'all' | 'none', contentRange?: string]> = [
    [{ range: 'bytes=0-99' }, 206, [0, 99], `bytes 0-99/${MIB}`],
    [{ range: 'bytes=1000000-' }, 206, [1_000_000, MIB - 1], `bytes 1000000-${MIB - 1}/${MIB}`],
    [{ range: 'bytes=-10' }, 206, [MIB - 10, MIB - 1], `bytes ${MIB - 10}-${MIB - 1}/${MIB}`],
    [{ range: 'bytes=524288-524288' }, 206, [524_288, 524_288], `bytes 524288-524288/${MIB}`],
    [{ range: `bytes=${MIB}-` }, 416, 'none', `bytes */${MIB}`],
    [{ range: 'bytes=5-1' }, 200, 'all'],
    [{ range: 'items=0-1' }, 200, 'all'],
    // send's ETag is weak: an If-Range carrying it never matches (strong comparison)
    [{ range: 'bytes=0-99', 'if-range': big.etag }, 200, 'all'],
    [{ range: 'bytes=0-99', 'if-range': big.etag.slice(2) }, 200, 'all'],
    // a date If-Range does
    [{ range: 'bytes=0-99', 'if-range': big.lastModified }, 206, [0, 99], `bytes 0-99/${MIB}`],
    [{ range: 'bytes=0-99', 'if-range': dayBefore }, 200, 'all'],
    // conditionals
    [{ 'if-none-match': big.etag }, 304, 'none'],
    [{ 'if-none-match': big.etag.slice(2) }, 304, 'none'],
    [{ 'if-none-match': '*' }, 304, 'none'],
    [{ 'if-none-match': '"other"' }, 200, 'all'],
    [{ 'if-modified-since': big.lastModified }, 304, 'none'],
    [{ 'if-modified-since': dayBefore }, 200, 'all'],
    [{ 'if-none-match': big.etag, range: 'bytes=0-99' }, 304, 'none'],
    [{ 'if-match': '"nope"' }, 412, 'none'],
    // If-Match compares strongly: the weak ETag never matches it
    [{ 'if-match': big.etag }, 412, 'none'],
    [{ 'if-match': '*' }, 200, 'all'],
    [{ 'if-match': '*', range: 'bytes=0-99' }, 206, [0, 99], `bytes 0-99/${MIB}`],
    [{ 'if-unmodified-since': dayBefore }, 412, 'none'],
    [{ 'if-unmodified-since': dayAfter }, 200, 'all'],
    [{ 'if-match': '"nope"', range: `bytes=${MIB}-` }, 412, 'none']
  ]
  for (const [headers, status, slice, contentRange] of table) {
    const what = JSON.stringify(headers)
    const response = await get(`${base}/files/big.bin`, { headers })
    t.equal(response.status, status, what)
    t.equal(response.headers['content-range'], contentRange, `${what}: Content-Range`)
    if (slice === 'none') {
      t.equal(response.body.length, 0, `${what}: no body`)
    } else {
      const expected = slice === 'all' ? tree.big : tree.big.subarray(slice[0], slice[1] + 1)
      t.ok(response.body.equals(expected), `${what}: the right bytes`)
      t.equal(response.headers['content-length'], String(expected.length), `${what}: Content-Length`)
    }
    if (status === 304) {
      t.equal(response.headers.etag, big.etag, `${what}: a 304 keeps the validators`)
      t.equal(response.headers['last-modified'], big.lastModified)
      t.equal(response.headers['content-disposition'], undefined)
    }
  }

  const head = await get(`${base}/files/big.bin`, { method: 'HEAD' })
  t.equal(head.status, 200)
  t.equal(head.body.length, 0, 'HEAD: no body')
  t.equal(head.headers['content-length'], String(MIB), "HEAD: the file's Content-Length")
  t.equal(head.headers.etag, big.etag)
  t.equal(head.headers['content-disposition'], 'attachment; filename="big.bin"')
  const headRange = await get(`${base}/files/big.bin`, { method: 'HEAD', headers: { range: 'bytes=0-9' } })
  t.same([headRange.status, headRange.headers['content-length'], headRange.headers['content-range']], [200, String(MIB), undefined], 'HEAD ignores Range')
  const headCurl = await curl(`${base}/files/rapport%20%C3%A9t%C3%A9.csv`, ['-I'])
  t.same([headCurl.status, headCurl.headers['content-length'], headCurl.headers['content-type']], [200, '8', 'text/csv; charset=utf-8'])
  const headMissing = await get(`${base}/files/missing.txt`, { method: 'HEAD' })
  t.equal(headMissing.status, 404)
  const head304 = await get(`${base}/files/big.bin`, { method: 'HEAD', headers: { 'if-none-match': big.etag } })
  t.equal(head304.status, 304)
})

t.test('reply.pathDownload: with the plugin root, without root (absolute paths), bad paths and options', async (t) => {
  const withRoot = await filesApp(t, { root: tree.root }, (app) => {
    app.get<Star>('/call/*', (request, reply) => reply.pathDownload(request.params['*']))
    app.get<Star>('/call-options/*', (request, reply) => reply.pathDownload(request.params['*'], { basename: 'renamed.csv', attachment: false, maxAge: '1h' }))
    app.get('/call-typo', (request, reply) => reply.pathDownload('a.txt', { nmae: 1 } as never))
    app.get('/call-bad-value', (request, reply) => reply.pathDownload('a.txt', { dotfiles: 'hide' } as never))
    app.get('/call-absolute', (request, reply) => reply.pathDownload('/etc/passwd'))
  })
  let response = await curl(`${withRoot.base}/call/sub/b.txt`)
  t.same([response.status, response.body.toString(), response.headers['content-disposition']], [200, 'bee\n', 'attachment; filename="b.txt"'])
  response = await curl(`${withRoot.base}/call-options/a.txt`)
  t.same([response.status, response.headers['content-disposition'], response.headers['content-type'], response.headers['cache-control']],
    [200, 'inline; filename="renamed.csv"', 'text/csv; charset=utf-8', 'public, max-age=3600'])
  assertRefusal(t, await curl(`${withRoot.base}/call/..%2Foutside%2Fsecret.txt`), 403, 'reply.pathDownload ..')
  assertRefusal(t, await curl(`${withRoot.base}/call/link-out`), 404, 'reply.pathDownload symlink out')
  assertRefusal(t, await curl(`${withRoot.base}/call-absolute`), 404, 'an absolute path is relative to root')
  const typo = await curl(`${withRoot.base}/call-typo`)
  t.equal(typo.status, 500)
  t.match(JSON.parse(typo.body.toString()), { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: /^Invalid option "nmae": unknown option; known ones are .*\bdotfiles\b.*\boffload\b/ })
  const badValue = await curl(`${withRoot.base}/call-bad-value`)
  t.match(JSON.parse(badValue.body.toString()), { statusCode: 500, message: 'Invalid option "dotfiles": must be \'allow\', \'deny\' or \'ignore\', got "hide"' })

  // without root: absolute paths only
  const procFd = openSync(join(plain, 'a.txt'), 'r')
  const deleted = join(plain, 'deleted.txt')
  writeFileSync(deleted, 'gone')
  const deletedFd = openSync(deleted, 'r')
  unlinkSync(deleted)
  t.teardown(() => { closeSync(procFd); closeSync(deletedFd) })
  const app = Fastify()
  await app.register(fastifyDownloadView)
  app.get('/absolute', (request, reply) => reply.pathDownload(join(plain, 'a.txt')))
  app.get('/relative', (request, reply) => reply.pathDownload('a.txt'))
  app.get('/not-a-string', (request, reply) => reply.pathDownload(42 as unknown as string))
  app.get('/dot-dir', (request, reply) => reply.pathDownload(join(tree.root, 'a.txt')))
  app.get('/dot-dir-allowed', (request, reply) => reply.pathDownload(join(tree.root, 'a.txt'), { dotfiles: 'allow' }))
  app.get('/traversal', (request, reply) => reply.pathDownload(`${plain}/dir/../a.txt`))
  app.get('/symlink', (request, reply) => reply.pathDownload(join(tree.root, 'link-out'), { dotfiles: 'allow' }))
  app.get('/directory', (request, reply) => reply.pathDownload(join(plain, 'dir')))
  app.get('/device', (request, reply) => reply.pathDownload('/dev/null'))
  // stat follows /proc/self/fd/N to the deleted file; its real path cannot be resolved
  app.get('/unresolvable', (request, reply) => reply.pathDownload(`/proc/self/fd/${deletedFd}`))
  app.get('/proc-fd', (request, reply) => reply.pathDownload(`/proc/self/fd/${procFd}`))
  // root '/' (a real path ending with the separator), with a symlink on the way or not
  app.get('/root-slash', (request, reply) => reply.pathDownload(relative('/', join(plain, 'a.txt')), { root: '/' }))
  app.get('/root-slash-link', (request, reply) => reply.pathDownload(relative('/', join(plain, 'link.txt')), { root: '/' }))
  app.get('/root-slash-escape', (request, reply) => reply.pathDownload('../../etc/passwd', { root: '/' }))
  const base = await listen(app)
  t.teardown(() => app.close())

  response = await curl(`${base}/absolute`)
  t.same([response.status, response.body.toString(), response.headers['content-disposition']], [200, A_TXT, 'attachment; filename="a.txt"'])
  const invalidPaths: Array<[string, string]> = [['/relative', 'without the root option, a path must be absolute'], ['/not-a-string', 'expected a file-system path (a string), got number']]
  for (const [url, problem] of invalidPaths) {
    const invalid = await curl(base + url)
    t.equal(invalid.status, 500, url)
    t.same(JSON.parse(invalid.body.toString()), { statusCode: 500, code: 'FST_DOWNLOADVIEW_INVALID_PATH', error: 'Internal Server Error', message: `Invalid path: ${problem}` }, url)
  }
  // without root, every segment of the absolute path counts for dotfiles: t.testdir's .tap/ hides it
  assertRefusal(t, await curl(`${base}/dot-dir`), 404, 'a dot directory on the absolute path')
  t.equal((await curl(`${base}/dot-dir-allowed`)).status, 200)
  assertRefusal(t, await curl(`${base}/traversal`), 403, '.. without root')
  response = await curl(`${base}/symlink`)
  t.same([response.status, response.body.toString()], [200, 'TOP SECRET\n'], 'without root nothing confines: a symlink is followed')
  for (const url of ['/directory', '/device', '/unresolvable']) assertRefusal(t, await curl(base + url), 404, url)
  response = await curl(`${base}/proc-fd`)
  t.same([response.status, response.body.toString()], [200, A_TXT], 'a symlink without root: its target is served')
  for (const url of ['/root-slash', '/root-slash-link']) {
    response = await curl(base + url)
    t.same([response.status, response.body.toString(), response.headers['content-disposition']], [200, A_TXT, `attachment; filename="${url === '/root-slash' ? 'a.txt' : 'link.txt'}"`], `root '/': ${url}`)
  }
  assertRefusal(t, await curl(`${base}/root-slash-escape`), 403, "root '/' and ..")
})

t.test('the pathDownload route option: what the handler returns', async (t) => {
  const { base } = await filesApp(t, { root: tree.root }, (app) => {
    app.get('/number', { pathDownload: true }, async () => 42)
    app.get('/object', { pathDownload: true }, () => ({ path: 'a.txt' }))
    app.get('/buffer', { pathDownload: true }, () => Buffer.from('a.txt'))
    app.get('/null', { pathDownload: true }, async () => null)
    app.get('/undefined', { pathDownload: true }, () => undefined)
    app.get('/sync', { pathDownload: true }, () => 'sub/b.txt')
    app.get('/answered', { pathDownload: true }, async (request, reply) => reply.code(202).send('answered'))
    app.get('/thrown', { pathDownload: true }, async () => { throw Object.assign(new Error('nope'), { statusCode: 409 }) })
    app.get('/off', { pathDownload: false }, () => ({ plain: 'json' }))
    app.get('/this', { pathDownload: true }, function (this: FastifyInstance) { return this.hasRoute({ method: 'GET', url: '/this' }) ? 'a.txt' : 'nope' })
  })
  const invalid: Array<[string, string]> = [['/number', 'got number'], ['/object', 'got an instance of Object'], ['/buffer', 'got an instance of Buffer']]
  for (const [url, seen] of invalid) {
    const response = await curl(base + url)
    t.equal(response.status, 500, url)
    t.same(JSON.parse(response.body.toString()), { statusCode: 500, code: 'FST_DOWNLOADVIEW_INVALID_PATH', error: 'Internal Server Error', message: `Invalid path: expected a file-system path (a string), ${seen}` }, url)
  }
  for (const url of ['/null', '/undefined']) assertRefusal(t, await curl(base + url), 404, url)
  t.same(await curl(`${base}/sync`).then((r) => r.body.toString()), 'bee\n')
  const answered = await curl(`${base}/answered`)
  t.same([answered.status, answered.body.toString()], [202, 'answered'])
  t.equal((await curl(`${base}/thrown`)).status, 409)
  t.same(JSON.parse((await curl(`${base}/off`)).body.toString()), { plain: 'json' }, 'false leaves the route alone')
  t.equal((await curl(`${base}/this`)).body.toString(), A_TXT, 'the handler runs with the instance as this')
})

t.test('plugin defaults apply to routes, calls and factories; route options override them', async (t) => {
  const defaults: FastifyDownloadViewOptions = { root: tree.root, dotfiles: 'allow', etag: false, lastModified: false, maxAge: '1h', immutable: true, attachment: false }
  const { base } = await filesApp(t, defaults, (app) => {
    app.get<Star>('/override/*', { pathDownload: { dotfiles: 'deny', etag: true, lastModified: true, maxAge: 0, immutable: false, attachment: true } }, (request) => request.params['*'])
    app.get<Star>('/sub-root/*', { pathDownload: { root: join(tree.root, 'sub') } }, (request) => request.params['*'])
    app.get<Star>('/cache-control/*', { pathDownload: { cacheControl: 'private' } }, (request) => request.params['*'])
    app.get<Star>('/call/*', (request, reply) => reply.pathDownload(request.params['*']))
    app.route(pathDownloadRoute<{ Params: { name: string } }>({
      url: '/factory/:name',
      getPath: (request) => request.params.name,
      maxAge: 5000,
      immutable: false
    }))
    app.route(pathDownloadRoute({ method: ['GET', 'POST'], url: '/factory-post', getPath: async () => 'sub/b.txt', dotfiles: 'ignore' }))
  })
  const a = statOf(join(tree.root, 'a.txt'))
  for (const url of ['/files/.env', '/call/.env']) {
    const response = await curl(base + url)
    t.equal(response.status, 200, `${url}: dotfiles 'allow' from the plugin`)
    t.same([response.headers.etag, response.headers['last-modified'], response.headers['cache-control'], response.headers['content-disposition']],
      [undefined, undefined, 'public, max-age=3600, immutable', 'inline; filename=".env"'], `${url}: the plugin's defaults`)
  }
  assertRefusal(t, await curl(`${base}/override/.env`), 403, 'the route denies dotfiles')
  const overridden = await curl(`${base}/override/a.txt`)
  t.same([overridden.headers.etag, overridden.headers['last-modified'], overridden.headers['cache-control'], overridden.headers['content-disposition']],
    [a.etag, a.lastModified, 'public, max-age=0', 'attachment; filename="a.txt"'])
  t.equal((await curl(`${base}/sub-root/b.txt`)).body.toString(), 'bee\n', "the route's root")
  assertRefusal(t, await curl(`${base}/sub-root/a.txt`), 404, "outside the route's root")
  assertRefusal(t, await curl(`${base}/sub-root/..%2Fa.txt`), 403, "`..` out of the route's root")
  t.equal((await curl(`${base}/cache-control/a.txt`)).headers['cache-control'], 'private', 'cacheControl wins over the plugin maxAge')
  const factory = await curl(`${base}/factory/a.txt`)
  t.same([factory.status, factory.body.toString(), factory.headers['cache-control'], factory.headers['content-disposition']],
    [200, A_TXT, 'public, max-age=5', 'inline; filename="a.txt"'])
  t.equal((await curl(`${base}/factory/.env`)).status, 200, "the factory leaves dotfiles to the plugin: 'allow'")
  const post = await curl(`${base}/factory-post`, ['-X', 'POST'])
  t.same([post.status, post.body.toString()], [200, 'bee\n'])
  const head = await curl(`${base}/factory/a.txt`, ['-I'])
  t.same([head.status, head.headers['content-length']], [200, String(a.size)], 'HEAD comes with GET')
})

t.test('invalid options fail where they are given, naming the option', async (t) => {
  await t.rejects(async () => { await Fastify().register(fastifyDownloadView, { offload: { server: 'caddy', rules: [] } } as never) },
    { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: /^Invalid option "offload": server must be 'nginx', 'apache' or 'lighttpd', got "caddy"$/ })
  await t.rejects(async () => { await Fastify().register(fastifyDownloadView, { dotfiles: 'hide' } as never) },
    { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: /"dotfiles": must be 'allow', 'deny' or 'ignore', got "hide"/ })
  await t.rejects(async () => { await Fastify().register(fastifyDownloadView, { root: '' }) }, { message: /"root": must be a non-empty directory path, got ""/ })
  await t.rejects(async () => { await Fastify().register(fastifyDownloadView, { maxAge: -1 }) }, { message: /"maxAge": must be a non-negative number of milliseconds, got -1/ })

  const app = Fastify()
  await app.register(fastifyDownloadView, { root: tree.root })
  t.throws(() => app.get('/a', { pathDownload: { maxAge: 'soon' } }, () => 'a.txt'),
    { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: 'Invalid option "pathDownload.maxAge": must be milliseconds or a duration such as "1d", got "soon"' })
  t.throws(() => app.get('/b', { pathDownload: { offload: { server: 'nginx' } } as never }, () => 'a.txt'), { message: /"pathDownload.offload": must be a boolean, got an instance of Object/ })
  t.throws(() => app.get('/c', { pathDownload: { nmae: 'x' } as never }, () => 'a.txt'), { message: /"pathDownload.nmae": unknown option/ })
  t.throws(() => app.get('/d', { pathDownload: 'yes' as never }, () => 'a.txt'), { message: 'Invalid option "pathDownload": must be true, false or PathDownloadOptions, got string (route /d)' })
  t.throws(() => app.get('/e', { pathDownload: null as never }, () => 'a.txt'), { message: /"pathDownload": must be true, false or PathDownloadOptions, got null/ })
  t.throws(() => app.get('/f', { pathDownload: true, virtualDownload: true }, () => 'a.txt'),
    { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: 'Invalid option "pathDownload": cannot be on the same route as virtualDownload (route /f)' })
  t.throws(() => app.get('/g', { pathDownload: { root: tree.root }, virtualDownload: { attachment: false } }, () => 'a.txt'), { message: /cannot be on the same route/ })
  // false on either side is no conflict
  app.get('/h', { pathDownload: true, virtualDownload: false }, () => 'a.txt')
  app.get('/i', { pathDownload: false, virtualDownload: true }, () => new ContentFile('virtual', { name: 'v.txt' }))
  t.throws(() => pathDownloadRoute({ url: '/x', getPath: () => 'a.txt', dotfiles: 'hide' as never }),
    { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: 'Invalid option "dotfiles": must be \'allow\', \'deny\' or \'ignore\', got "hide"' })
  t.throws(() => pathDownloadRoute({ url: '/x', getPath: () => 'a.txt', maxAge: '-1d' }), { message: /"maxAge": must be milliseconds or a duration such as "1d", got "-1d"/ })
  t.throws(() => pathDownloadRoute({ url: '/x', getPath: () => 'a.txt', dotfiles: 5 as never }), { message: /"dotfiles": must be 'allow', 'deny' or 'ignore', got number/ })
  t.throws(() => pathDownloadRoute({ url: '/x' } as never), { message: /"getPath": must be a function, got undefined/ })
  t.throws(() => pathDownloadRoute(null as never), { message: /"options": must be an object, got null/ })
  t.equal((await app.inject('/h')).body, A_TXT)
  t.equal((await app.inject('/i')).body, 'virtual')
  await app.close()
})

t.test('a factory route without the plugin fails clearly', async (t) => {
  const app = Fastify()
  app.route(pathDownloadRoute({ url: '/x', root: tree.root, getPath: () => 'a.txt' }))
  const response = await app.inject('/x')
  t.equal(response.statusCode, 500)
  t.match(response.json(), { code: 'FST_DOWNLOADVIEW_NOT_REGISTERED' })
})

t.test('HTTP/2 (h2c): a download, a range, refusals', async (t) => {
  const server = await startServer('h2c', (app) => {
    app.get<Star>('/files/*', { pathDownload: { root: tree.root } }, (request) => request.params['*'])
    app.get<Star>('/deny/*', { pathDownload: { root: tree.root, dotfiles: 'deny' } }, (request) => request.params['*'])
  })
  t.teardown(() => server.close())
  for (const client of ['node-http2', 'curl-h2c'] as const) {
    const file = await download(client, `${server.base}/files/rapport%20%C3%A9t%C3%A9.csv`)
    t.same([file.status, file.failed, file.body.toString(), file.headers['content-type'], file.headers['content-length']],
      [200, false, 'a,b\n1,2\n', 'text/csv; charset=utf-8', '8'], `${client}: ${file.detail}`)
    const big = await download(client, `${server.base}/files/big.bin`)
    t.ok(!big.failed && big.body.equals(tree.big), `${client}: 1 MiB`)
    const range = await download(client, `${server.base}/files/big.bin`, { headers: { range: 'bytes=10-19' } })
    t.same([range.status, range.headers['content-range']], [206, `bytes 10-19/${MIB}`], client)
    t.ok(range.body.equals(tree.big.subarray(10, 20)))
    for (const [url, status] of [['/files/..%2Foutside%2Fsecret.txt', 403], ['/files/link-out', 404], ['/deny/.env', 403], ['/files/.env', 404]] as const) {
      const refused = await download(client, server.base + url)
      t.equal(refused.status, status, `${client} ${url}`)
      t.same(JSON.parse(refused.body.toString()), status === 403 ? FORBIDDEN : NOT_FOUND)
      t.notOk(JSON.stringify(refused.headers).includes(tree.dir))
      t.equal(refused.headers.location, undefined)
    }
  }
  const head = await download('node-http2', `${server.base}/files/big.bin`, { method: 'HEAD' })
  t.same([head.status, head.body.length, head.headers['content-length']], [200, 0, String(MIB)])
})

// ---------------------------------------------------------------------------------------------
// File descriptors: none outlives its response

const MEM = `/proc/${process.pid}/mem`
const WATCHED = [tree.dir, MEM]

interface FdServer {
  base: string
  h2base: string
  /** Server-side, by the `id` in its query: whether a response of /files/big.bin was complete when it closed. */
  bigCloses: Map<string, boolean>
}

let nextId = 0

async function fdServer (t: Test): Promise<FdServer> {
  const bigCloses = new Map<string, boolean>()
  const routes = (app: FastifyInstance): void => {
    app.addHook('onRequest', async (request, reply) => {
      const { id } = request.query as { id?: string }
      if (id === undefined) return
      // HTTP/2's compatibility layer finishes a response on any close: its stream's code tells
      const stream = (reply.raw as unknown as { stream?: http2.ServerHttp2Stream }).stream
      reply.raw.on('close', () => bigCloses.set(id, stream === undefined ? reply.raw.writableFinished : stream.rstCode === http2.constants.NGHTTP2_NO_ERROR))
    })
    app.get<Star>('/files/*', { pathDownload: { root: tree.root } }, (request) => request.params['*'])
    // /proc/self/mem stats as a regular file of size 0 and fails its first read with EIO
    app.get('/mem', (request, reply) => reply.pathDownload('/proc/self/mem'))
  }
  const app = Fastify()
  await app.register(fastifyDownloadView)
  routes(app)
  const base = await listen(app)
  t.teardown(() => app.close())
  const h2 = Fastify({ http2: true })
  await h2.register(fastifyDownloadView)
  routes(h2 as unknown as FastifyInstance)
  await h2.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => h2.close())
  const address = h2.server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')
  return { base, h2base: `http://127.0.0.1:${address.port}`, bigCloses }
}

/**
 * HTTP/1.1: reads the first chunk of the 1 MiB file, then goes away. The kernel's socket buffers
 * may take the whole file before that (the server then finished): true when the server saw its
 * response close before it finished, i.e. the client left mid-body.
 */
async function abortHttp1 (server: FdServer): Promise<boolean> {
  const id = String(nextId++)
  const url = new URL(server.base)
  const socket = connect({ host: url.hostname, port: Number(url.port) })
  socket.on('error', () => {})
  let received = 0
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length
    socket.pause()
  })
  socket.write(`GET /files/big.bin?id=${id} HTTP/1.1\r\nHost: x\r\n\r\n`)
  await until(() => received > 0, 'the first bytes')
  socket.destroy()
  await until(() => server.bigCloses.has(id), 'the server saw its response close')
  return server.bigCloses.get(id) === false
}

/** HTTP/2: flow control holds the server mid-body (the client reads one chunk), then RST_STREAM CANCEL. */
async function abortHttp2 (server: FdServer): Promise<void> {
  const id = String(nextId++)
  const session = http2.connect(server.h2base)
  session.on('error', () => {})
  const request = session.request({ ':path': `/files/big.bin?id=${id}` }, { endStream: true })
  request.on('error', () => {})
  let received = 0
  request.on('data', (chunk: Buffer) => {
    received += chunk.length
    request.pause()
  })
  await until(() => received > 0, 'the first bytes')
  request.close(http2.constants.NGHTTP2_CANCEL)
  session.close()
  await until(() => server.bigCloses.has(id), 'the server saw its stream close')
  if (server.bigCloses.get(id) !== false) throw new Error('the HTTP/2 response finished although the client held its window')
}

const OUTCOMES = ['complete', 'range', 'abort-h1', 'abort-h2', 'head', 'not-modified', 'unsatisfiable', 'precondition', 'refused', 'traversal', 'read-error'] as const
type Outcome = typeof OUTCOMES[number]

async function run (server: FdServer, outcome: Outcome): Promise<void> {
  const big = `${server.base}/files/big.bin`
  const { etag } = statOf(join(tree.root, 'big.bin'))
  const expect = async (response: Promise<{ status: number }>, status: number): Promise<void> => {
    const { status: seen } = await response
    if (seen !== status) throw new Error(`${outcome}: status ${seen}, expected ${status}`)
  }
  switch (outcome) {
    case 'complete': {
      const response = await fetch(big)
      if (!Buffer.from(await response.arrayBuffer()).equals(tree.big)) throw new Error('complete: wrong bytes')
      return
    }
    case 'range': return await expect(get(big, { headers: { range: 'bytes=100-199999' } }), 206)
    case 'abort-h1': await abortHttp1(server); return
    case 'abort-h2': return await abortHttp2(server)
    case 'head': return await expect(get(big, { method: 'HEAD' }), 200)
    case 'not-modified': return await expect(get(big, { headers: { 'if-none-match': etag } }), 304)
    case 'unsatisfiable': return await expect(get(big, { headers: { range: `bytes=${MIB}-` } }), 416)
    case 'precondition': return await expect(get(big, { headers: { 'if-match': '"other"' } }), 412)
    case 'refused': return await expect(get(`${server.base}/files/link-out`), 404)
    case 'traversal': return await expect(get(`${server.base}/files/..%2Foutside%2Fsecret.txt`), 403)
    case 'read-error': return await expect(get(`${server.base}/mem`), 500)
  }
}

t.test('no file descriptor outlives a response, whatever its outcome', async (t) => {
  const server = await fdServer(t)
  t.same(descriptorsInto(WATCHED), [], 'none open to begin with')
  for (const outcome of OUTCOMES) {
    await run(server, outcome)
    t.same(await noDescriptorsInto(WATCHED), [], `${outcome}: no descriptor left into the tree`)
  }
  // a client that leaves mid-body: on HTTP/1.1 the kernel may swallow the whole file first, so
  // this is tried until one attempt really left mid-body (each must leave no descriptor)
  let midBody = false
  for (let attempt = 0; attempt < 40 && !midBody; attempt++) {
    midBody = await abortHttp1(server)
    t.same(await noDescriptorsInto(WATCHED), [], `HTTP/1.1 abort, attempt ${attempt + 1}: no descriptor left`)
  }
  t.ok(midBody, 'an HTTP/1.1 client left mid-body at least once')
  // the server really held the file open mid-body on HTTP/2 before the client left
  const id = String(nextId++)
  const session = http2.connect(server.h2base)
  session.on('error', () => {})
  const request = session.request({ ':path': `/files/big.bin?id=${id}` }, { endStream: true })
  request.on('error', () => {})
  request.on('data', () => { request.pause() })
  await until(() => descriptorsInto([join(tree.root, 'big.bin')]).length === 1, 'the file open while the client holds its window')
  request.close(http2.constants.NGHTTP2_CANCEL)
  session.close()
  await until(() => server.bigCloses.has(id), 'the stream closed')
  t.equal(server.bigCloses.get(id), false, 'the server saw the client leave mid-body')
  t.same(await noDescriptorsInto(WATCHED), [], 'closed once the HTTP/2 client left')
})

t.test('property: any sequence of outcomes, one after another or all at once, leaves no descriptor', async (t) => {
  const server = await fdServer(t)
  await fc.assert(fc.asyncProperty(
    fc.array(fc.constantFrom(...OUTCOMES), { minLength: 1, maxLength: 6 }),
    fc.boolean(),
    async (outcomes, together) => {
      if (together) await Promise.all(outcomes.map((outcome) => run(server, outcome)))
      else for (const outcome of outcomes) await run(server, outcome)
      const left = await noDescriptorsInto(WATCHED)
      if (left.length > 0) throw new Error(`left open: ${left.join(', ')}`)
    }
  ), { numRuns: 40 })
  t.pass('no descriptor left by any sequence')
})

// ---------------------------------------------------------------------------------------------
// A file that grows while it is sent (a log being written) is sent as stat'ed

t.test('a file that grows while it is sent: the bytes stat\'ed, a complete response (HTTP/1.1 and HTTP/2)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'fdv-growing-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const routes = (app: FastifyInstance): void => {
    app.get<Star>('/files/*', { pathDownload: { root: dir } }, (request) => request.params['*'])
  }
  const app = Fastify()
  await app.register(fastifyDownloadView)
  routes(app)
  const base = await listen(app)
  t.teardown(() => app.close())
  const h2 = Fastify({ http2: true })
  await h2.register(fastifyDownloadView)
  routes(h2 as unknown as FastifyInstance)
  await h2.listen({ host: '127.0.0.1', port: 0 })
  t.teardown(() => h2.close())
  const address = h2.server.address()
  if (address === null || typeof address === 'string') throw new Error('no address')

  // 64 MiB: more than loopback's socket buffers take while the client holds the body
  const original = Buffer.alloc(64 * MIB, 7)
  for (const protocol of ['http/1.1', 'h2'] as const) {
    const path = join(dir, `${protocol.replace('/', '')}.log`)
    writeFileSync(path, original)
    const chunks: Buffer[] = []
    let resume = (): void => {}
    const done = new Promise<{ status: number, length: string | undefined, complete: boolean }>((resolve, reject) => {
      if (protocol === 'h2') {
        const session = http2.connect(`http://127.0.0.1:${address.port}`)
        session.on('error', reject)
        const request = session.request({ ':path': `/files/${protocol.replace('/', '')}.log` }, { endStream: true })
        let headers: http2.IncomingHttpHeaders = {}
        request.on('response', (h) => { headers = h })
        request.on('data', (chunk: Buffer) => { chunks.push(chunk); if (chunks.length === 1) request.pause() })
        resume = () => request.resume()
        request.on('error', reject)
        request.on('close', () => {
          resolve({ status: Number(headers[':status']), length: headers['content-length'], complete: request.rstCode === http2.constants.NGHTTP2_NO_ERROR && request.readableEnded })
          session.close()
        })
      } else {
        httpGet(`${base}/files/${protocol.replace('/', '')}.log`, (response) => {
          response.on('data', (chunk: Buffer) => { chunks.push(chunk); if (chunks.length === 1) response.pause() })
          resume = () => response.resume()
          response.on('error', reject)
          response.on('close', () => resolve({ status: response.statusCode ?? 0, length: response.headers['content-length'], complete: response.complete }))
        }).on('error', reject)
      }
    })
    await until(() => chunks.length > 0, 'the first bytes')
    // the server still reads the file: what is appended now lies ahead of its read position
    t.equal(descriptorsInto([path]).length, 1, `${protocol}: the file is open mid-body`)
    appendFileSync(path, Buffer.alloc(MIB, 9))
    resume()
    const { status, length, complete } = await done
    const body = Buffer.concat(chunks)
    t.same([status, length, complete, body.length], [200, String(original.length), true, original.length], `${protocol}: a complete 200 of the stat'ed size`)
    t.ok(body.equals(original), `${protocol}: the bytes as they were`)
  }
})
