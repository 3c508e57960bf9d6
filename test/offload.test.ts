// Reverse-proxy offload without a proxy: what the app answers (API.md, "Beyond virtual files",
// rule "Offload"). The options are checked at registration; a matching on-disk file is an empty 200
// with its type, disposition, caching and redirect headers, and nothing the proxy computes itself;
// refused files and virtual content never get the redirect header. (The real nginx is tested apart.)
import { realpathSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import fastifyDownloadView, { ContentFile, pathDownloadRoute, type FastifyDownloadViewOptions, type OffloadOptions } from '../lib/index.js'
import { listen } from './helpers.js'

interface Star { Params: { '*': string } }

const REGISTER_ERROR = 'FST_DOWNLOADVIEW_INVALID_OPTION'

t.test('checkOffload: a malformed offload option rejects register(), naming `offload` and what is wrong', async (t) => {
  const R = [{ source: '/srv/files', destination: '/protected' }]
  const table: Array<[value: unknown, problem: string]> = [
    ['nginx', 'must be an object { server, rules, nginx? }, got string'],
    [null, 'must be an object { server, rules, nginx? }, got null'],
    [[], 'must be an object { server, rules, nginx? }, got an instance of Array'],
    [true, 'must be an object { server, rules, nginx? }, got boolean'],
    [{ server: 'nginx', rules: R, extra: 1 }, 'has an unknown key "extra"; known ones are server, rules, nginx'],
    [{ server: 'caddy', rules: R }, 'server must be \'nginx\', \'apache\' or \'lighttpd\', got "caddy"'],
    [{ server: 'NGINX', rules: R }, 'server must be \'nginx\', \'apache\' or \'lighttpd\', got "NGINX"'],
    [{ rules: R }, 'server must be \'nginx\', \'apache\' or \'lighttpd\', got undefined'],
    [{ server: 'nginx' }, 'rules must be a non-empty array of { source, destination }'],
    [{ server: 'nginx', rules: [] }, 'rules must be a non-empty array of { source, destination }'],
    [{ server: 'nginx', rules: { source: '/a', destination: '/b' } }, 'rules must be a non-empty array of { source, destination }'],
    [{ server: 'nginx', rules: ['/srv/files'] }, 'rules[0] must be an object { source, destination }'],
    [{ server: 'nginx', rules: [null] }, 'rules[0] must be an object { source, destination }'],
    [{ server: 'nginx', rules: [{ source: '/a', destination: '/b', root: '/c' }] }, 'rules[0] must be an object { source, destination }'],
    [{ server: 'nginx', rules: [{ source: 'srv/files', destination: '/b' }] }, 'rules[0].source must be an absolute file-system path, got "srv/files"'],
    [{ server: 'nginx', rules: [{ destination: '/b' }] }, 'rules[0].source must be an absolute file-system path, got undefined'],
    [{ server: 'nginx', rules: [{ source: 5, destination: '/b' }] }, 'rules[0].source must be an absolute file-system path, got 5'],
    [{ server: 'nginx', rules: [{ source: '/a', destination: 'protected' }] }, 'rules[0].destination must be a URI path starting with "/", got "protected"'],
    [{ server: 'nginx', rules: [{ source: '/a' }] }, 'rules[0].destination must be a URI path starting with "/", got undefined'],
    [{ server: 'nginx', rules: [{ source: '/a', destination: '/b\r\nX-Injected: 1' }] }, 'rules[0].destination must be a URI path starting with "/", got "/b\\r\\nX-Injected: 1"'],
    [{ server: 'nginx', rules: [{ source: '/a', destination: '/b\u007f' }] }, 'rules[0].destination must be a URI path starting with "/", got "/b\u007f"'],
    [{ server: 'nginx', rules: [{ source: '/a', destination: '/b\u0000' }] }, 'rules[0].destination must be a URI path starting with "/", got "/b\\u0000"'],
    [{ server: 'apache', rules: [{ source: '/a', destination: 'var/www' }] }, 'rules[0].destination must be an absolute file-system path starting with "/", got "var/www"'],
    [{ server: 'lighttpd', rules: [{ source: '/a', destination: 7 }] }, 'rules[0].destination must be an absolute file-system path starting with "/", got 7'],
    [{ server: 'nginx', rules: [...R, { source: '/a', destination: 'x' }] }, 'rules[1].destination must be a URI path starting with "/", got "x"'],
    [{ server: 'apache', rules: R, nginx: {} }, 'nginx options are for server \'nginx\', not \'apache\''],
    [{ server: 'lighttpd', rules: R, nginx: { buffering: false } }, 'nginx options are for server \'nginx\', not \'lighttpd\''],
    [{ server: 'nginx', rules: R, nginx: 'fast' }, 'nginx must be an object, got string'],
    [{ server: 'nginx', rules: R, nginx: [] }, 'nginx must be an object, got an instance of Array'],
    [{ server: 'nginx', rules: R, nginx: null }, 'nginx must be an object, got null'],
    [{ server: 'nginx', rules: R, nginx: { limit: 1 } }, 'nginx has an unknown key "limit"; known ones are limitRate, buffering, expires, charset'],
    [{ server: 'nginx', rules: R, nginx: { limitRate: -1 } }, 'nginx.limitRate must be a non-negative integer (bytes per second), got -1'],
    [{ server: 'nginx', rules: R, nginx: { limitRate: 1.5 } }, 'nginx.limitRate must be a non-negative integer (bytes per second), got 1.5'],
    [{ server: 'nginx', rules: R, nginx: { limitRate: '1k' } }, 'nginx.limitRate must be a non-negative integer (bytes per second), got 1k'],
    [{ server: 'nginx', rules: R, nginx: { buffering: 'no' } }, 'nginx.buffering must be a boolean, got string'],
    [{ server: 'nginx', rules: R, nginx: { expires: -1 } }, 'nginx.expires must be a non-negative integer (seconds) or \'off\', got -1'],
    [{ server: 'nginx', rules: R, nginx: { expires: 'epoch' } }, 'nginx.expires must be a non-negative integer (seconds) or \'off\', got epoch'],
    [{ server: 'nginx', rules: R, nginx: { expires: Infinity } }, 'nginx.expires must be a non-negative integer (seconds) or \'off\', got Infinity'],
    [{ server: 'nginx', rules: R, nginx: { charset: 'utf 8' } }, 'nginx.charset must be a charset name, got utf 8'],
    [{ server: 'nginx', rules: R, nginx: { charset: 8 } }, 'nginx.charset must be a charset name, got 8'],
    [{ server: 'nginx', rules: R, nginx: { charset: '' } }, 'nginx.charset must be a charset name, got ']
  ]
  for (const [offload, problem] of table) {
    await t.rejects(async () => { await Fastify().register(fastifyDownloadView, { offload } as never) },
      { code: REGISTER_ERROR, message: `Invalid option "offload": ${problem}` }, JSON.stringify(offload) ?? String(offload))
  }
  // a destination is written plainly and percent-encoded like the rest, so any character can go
  const dir = realpathSync(t.testdir({ 'a.txt': 'a\n' }))
  const euro = Fastify()
  await euro.register(fastifyDownloadView, { offload: { server: 'nginx', rules: [{ source: dir, destination: '/€ files' }] } })
  euro.get('/a', (request, reply) => reply.pathDownload('a.txt', { root: dir }))
  const answer = await euro.inject('/a')
  t.equal(answer.headers['x-accel-redirect'], '/%E2%82%AC%20files/a.txt', 'a non-ASCII destination, encoded')
  await euro.close()
  const valid: OffloadOptions[] = [
    { server: 'nginx', rules: R },
    { server: 'nginx', rules: R, nginx: undefined },
    { server: 'nginx', rules: R, nginx: {} },
    { server: 'nginx', rules: R, nginx: { limitRate: 0, buffering: true, expires: 0, charset: 'utf-8' } },
    { server: 'nginx', rules: R, nginx: { limitRate: undefined, expires: 'off' } },
    { server: 'apache', rules: [{ source: '/', destination: '/' }] },
    { server: 'lighttpd', rules: [...R, { source: '/srv/other/', destination: '/x/' }] }
  ]
  for (const offload of valid) {
    const app = Fastify()
    await app.register(fastifyDownloadView, { offload })
    await app.ready()
    t.pass(`valid: ${JSON.stringify(offload)}`)
    await app.close()
  }
})

// ---------------------------------------------------------------------------------------------
// The answers

interface OffloadTree {
  /** The root paths are relative to (a real path). */
  root: string
}

/**
 * root/files/   a.txt  rapport été.csv  with space.txt  100%.txt  q?.txt  h#.txt  p+.txt  it's (1)!.txt
 *               .env  sub/b.txt  escape -> ../../secret.txt (out of root)  inner -> ../other/y.txt
 * root/files-old/x.txt   root/other/y.txt
 * secret.txt (out of root)
 */
function offloadTree (t: Test): OffloadTree {
  const dir = realpathSync(t.testdir({
    root: {
      files: {
        'a.txt': 'a\n',
        'rapport été.csv': 'a,b\n',
        'with space.txt': 's\n',
        '100%.txt': 'p\n',
        'q?.txt': 'q\n',
        'h#.txt': 'h\n',
        'p+.txt': '+\n',
        'it\'s (1)!.txt': 'i\n',
        '.env': 'SECRET=1\n',
        sub: { 'b.txt': 'b\n' }
      },
      'files-old': { 'x.txt': 'old\n' },
      other: { 'y.txt': 'y\n' }
    },
    'secret.txt': 'TOP SECRET\n'
  }))
  const root = join(dir, 'root')
  symlinkSync('../../secret.txt', join(root, 'files', 'escape'))
  symlinkSync('../other/y.txt', join(root, 'files', 'inner'))
  return { root }
}

interface Answer {
  status: number
  headers: Record<string, string>
  body: string
}

async function ask (url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, init)
  const headers = Object.fromEntries(response.headers)
  for (const name of ['date', 'connection', 'keep-alive', 'transfer-encoding']) delete headers[name]
  return { status: response.status, headers, body: await response.text() }
}

async function offloadApp (t: Test, options: FastifyDownloadViewOptions, setup?: (app: FastifyInstance) => void): Promise<string> {
  const app = Fastify()
  await app.register(fastifyDownloadView, options)
  app.get<Star>('/dl/*', { pathDownload: { maxAge: '1d' } }, (request) => request.params['*'])
  setup?.(app)
  const base = await listen(app)
  t.teardown(() => app.close())
  return base
}

/** No Content-Length on an offloaded answer (the proxy sends the file's); the other headers, as they are. */
function noLength (t: Test, answer: Answer, what: string): Record<string, string> {
  const { 'content-length': length, ...rest } = answer.headers
  t.equal(length, undefined, `${what}: no Content-Length`)
  return rest
}

const encodePath = (path: string): string => path.split('/').map(encodeURIComponent).join('/')

t.test('nginx: X-Accel-Redirect, each segment percent-encoded, first rule wins, segment boundaries', async (t) => {
  const { root } = offloadTree(t)
  const base = await offloadApp(t, {
    root,
    offload: {
      server: 'nginx',
      rules: [
        { source: join(root, 'files'), destination: '/protected' },
        { source: join(root, 'files', 'sub'), destination: '/never' },
        { source: `${root}//other/`, destination: '/other-internal/' }
      ]
    }
  })
  const table: Array<[path: string, redirect: string | undefined]> = [
    ['files/a.txt', '/protected/a.txt'],
    ['files/rapport été.csv', '/protected/rapport%20%C3%A9t%C3%A9.csv'],
    ['files/with space.txt', '/protected/with%20space.txt'],
    ['files/100%.txt', '/protected/100%25.txt'],
    ['files/q?.txt', '/protected/q%3F.txt'],
    ['files/h#.txt', '/protected/h%23.txt'],
    ['files/p+.txt', '/protected/p%2B.txt'],
    ['files/it\'s (1)!.txt', '/protected/it\'s%20(1)!.txt'],
    // the first matching rule wins, though a later one is more specific
    ['files/sub/b.txt', '/protected/sub/b.txt'],
    // a source and a destination with trailing slashes (and a doubled one) match the same
    ['other/y.txt', '/other-internal/y.txt'],
    // the resolved path, not the real one: a symlink inside root is offloaded where it lies
    ['files/inner', '/protected/inner'],
    // segment boundaries: `files` does not match `files-old`; no rule: the app sends the file
    ['files-old/x.txt', undefined]
  ]
  for (const [path, redirect] of table) {
    const answer = await ask(`${base}/dl/${encodePath(path)}`)
    t.equal(answer.status, 200, path)
    t.equal(answer.headers['x-accel-redirect'], redirect, `${path}: X-Accel-Redirect`)
    if (redirect === undefined) {
      t.equal(answer.body, 'old\n', `${path}: served by the app`)
      t.equal(answer.headers['content-length'], '4')
    } else {
      t.equal(answer.body, '', `${path}: no body`)
    }
    for (const name of ['x-accel-limit-rate', 'x-accel-buffering', 'x-accel-expires', 'x-accel-charset', 'x-sendfile']) {
      t.equal(answer.headers[name], undefined, `${path}: no ${name} without the option`)
    }
  }
})

t.test('the offloaded answer: an empty 200 with type, disposition, caching and redirect headers only, whatever the request', async (t) => {
  const { root } = offloadTree(t)
  const base = await offloadApp(t, {
    root,
    offload: { server: 'nginx', rules: [{ source: join(root, 'files'), destination: '/protected' }], nginx: { limitRate: 1024, buffering: false, expires: 'off', charset: 'utf-8' } }
  })
  const expected = {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': 'attachment; filename="rapport ete.csv"; filename*=UTF-8\'\'rapport%20%C3%A9t%C3%A9.csv',
    'cache-control': 'public, max-age=86400',
    'x-accel-redirect': '/protected/rapport%20%C3%A9t%C3%A9.csv',
    'x-accel-limit-rate': '1024',
    'x-accel-buffering': 'no',
    'x-accel-expires': 'off',
    'x-accel-charset': 'utf-8'
  }
  const requests: Array<[what: string, init: RequestInit]> = [
    ['GET', {}],
    ['HEAD', { method: 'HEAD' }],
    ['Range', { headers: { range: 'bytes=0-1' } }],
    ['unsatisfiable Range', { headers: { range: 'bytes=100000-' } }],
    ['If-None-Match: *', { headers: { 'if-none-match': '*' } }],
    ['If-Modified-Since', { headers: { 'if-modified-since': new Date(Date.now() + 86_400_000).toUTCString() } }],
    ['If-Match', { headers: { 'if-match': '"other"' } }],
    ['If-Unmodified-Since', { headers: { 'if-unmodified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' } }],
    ['Range and If-Range', { headers: { range: 'bytes=0-1', 'if-range': 'Thu, 01 Jan 1970 00:00:00 GMT' } }],
    ['HEAD with Range', { method: 'HEAD', headers: { range: 'bytes=0-1' } }]
  ]
  for (const [what, init] of requests) {
    const answer = await ask(`${base}/dl/files/${encodeURIComponent('rapport été.csv')}`, init)
    t.equal(answer.status, 200, `${what}: 200`)
    t.same(noLength(t, answer, what), expected, `${what}: exactly these headers (no ETag, Last-Modified, Content-Range, Accept-Ranges)`)
    t.equal(answer.body, '', `${what}: an empty body`)
  }
})

t.test('nginx options: buffering yes, expires in seconds; the headers come with every offloaded answer only', async (t) => {
  const { root } = offloadTree(t)
  const base = await offloadApp(t, {
    root,
    offload: { server: 'nginx', rules: [{ source: join(root, 'files'), destination: '/protected' }], nginx: { buffering: true, expires: 60, limitRate: 0 } }
  })
  const answer = await ask(`${base}/dl/files/a.txt`)
  t.same([answer.headers['x-accel-buffering'], answer.headers['x-accel-expires'], answer.headers['x-accel-limit-rate'], answer.headers['x-accel-charset']], ['yes', '60', '0', undefined])
  const served = await ask(`${base}/dl/other/y.txt`)
  t.same([served.body, served.headers['x-accel-buffering'], served.headers['x-accel-expires']], ['y\n', undefined, undefined], 'a file no rule matches has none of them')
})

t.test('a source of `/`, a destination of `/`', async (t) => {
  const { root } = offloadTree(t)
  const sourceRoot = await offloadApp(t, { root, offload: { server: 'nginx', rules: [{ source: '/', destination: '/internal' }] } })
  const answer = await ask(`${sourceRoot}/dl/files/${encodeURIComponent('rapport été.csv')}`)
  t.equal(answer.headers['x-accel-redirect'], `/internal${encodePath(join(root, 'files', 'rapport été.csv'))}`)
  const destinationRoot = await offloadApp(t, { root, offload: { server: 'nginx', rules: [{ source: join(root, 'files'), destination: '/' }] } })
  t.equal((await ask(`${destinationRoot}/dl/files/sub/b.txt`)).headers['x-accel-redirect'], '/sub/b.txt')
  const slashes = await offloadApp(t, { root, offload: { server: 'nginx', rules: [{ source: '//', destination: '//' }] } })
  t.equal((await ask(`${slashes}/dl/files/a.txt`)).headers['x-accel-redirect'], encodePath(join(root, 'files', 'a.txt')))
})

t.test('apache and lighttpd: X-Sendfile with the file-system path under the destination', async (t) => {
  const { root } = offloadTree(t)
  for (const server of ['apache', 'lighttpd'] as const) {
    const base = await offloadApp(t, { root, offload: { server, rules: [{ source: join(root, 'files'), destination: '/var/www/protected/' }] } })
    const plain = await ask(`${base}/dl/files/sub/b.txt`)
    t.same(noLength(t, plain, server), {
      'content-type': 'text/plain; charset=utf-8',
      'content-disposition': 'attachment; filename="b.txt"',
      'cache-control': 'public, max-age=86400',
      'x-sendfile': '/var/www/protected/sub/b.txt'
    }, `${server}: the offloaded answer`)
    t.equal(plain.body, '')
    // mod_xsendfile (XSendFileUnescape, on by default) and lighttpd URL-decode X-Sendfile
    t.equal((await ask(`${base}/dl/files/${encodeURIComponent('rapport été.csv')}`)).headers['x-sendfile'], '/var/www/protected/rapport%20%C3%A9t%C3%A9.csv', server)
    t.equal((await ask(`${base}/dl/files/100%25.txt`)).headers['x-sendfile'], '/var/www/protected/100%25.txt', server)
    const served = await ask(`${base}/dl/other/y.txt`)
    t.same([served.body, served.headers['x-sendfile']], ['y\n', undefined], `${server}: no rule, served by the app`)
  }
})

t.test('refused files never get the redirect header; virtual content is never offloaded', async (t) => {
  const { root } = offloadTree(t)
  const rules = [{ source: '/', destination: '/everything' }]
  const base = await offloadApp(t, { root, offload: { server: 'nginx', rules } }, (app) => {
    app.get<Star>('/deny/*', { pathDownload: { dotfiles: 'deny' } }, (request) => request.params['*'])
    app.get<Star>('/allow/*', { pathDownload: { dotfiles: 'allow' } }, (request) => request.params['*'])
    app.get('/virtual', (request, reply) => reply.virtualDownload(new ContentFile('virtual\n', { name: 'v.txt' })))
    app.get('/virtual-route', { virtualDownload: true }, () => new Blob(['blob\n']))
    app.get('/null', { pathDownload: true }, () => null)
  })
  const refused: Array<[url: string, status: number]> = [
    ['/dl/files/missing.txt', 404],
    ['/dl/files/.env', 404],
    ['/deny/files/.env', 403],
    ['/dl/files/..%2F..%2Fsecret.txt', 403],
    ['/dl/..%2Fsecret.txt', 403],
    ['/dl/files/escape', 404],
    ['/allow/files/escape', 404],
    ['/dl/files/sub', 404],
    ['/dl/files/sub/', 404],
    ['/dl/files/a.txt%00', 404],
    ['/null', 404]
  ]
  for (const [url, status] of refused) {
    for (const method of ['GET', 'HEAD']) {
      const answer = await ask(base + url, { method })
      t.equal(answer.status, status, `${method} ${url}`)
      t.equal(answer.headers['x-accel-redirect'], undefined, `${method} ${url}: no redirect header`)
      t.equal(answer.headers['content-disposition'], undefined)
      if (method === 'GET') t.match(JSON.parse(answer.body), { statusCode: status })
    }
  }
  const allowed = await ask(`${base}/allow/files/.env`)
  t.same([allowed.status, allowed.body, allowed.headers['x-accel-redirect']], [200, '', `/everything${encodePath(join(root, 'files', '.env'))}`], "a dotfile under 'allow' is offloaded")
  for (const [url, body] of [['/virtual', 'virtual\n'], ['/virtual-route', 'blob\n']]) {
    const answer = await ask(base + url)
    t.same([answer.status, answer.body, answer.headers['x-accel-redirect']], [200, body, undefined], `${url}: sent by the app`)
  }
})

t.test('offload: false on a route or a call turns it off there; calls, routes and factories all offload otherwise', async (t) => {
  const { root } = offloadTree(t)
  const base = await offloadApp(t, { root, offload: { server: 'nginx', rules: [{ source: join(root, 'files'), destination: '/protected' }] } }, (app) => {
    app.get<Star>('/route-off/*', { pathDownload: { offload: false } }, (request) => request.params['*'])
    app.get<Star>('/route-on/*', { pathDownload: { offload: true, attachment: false } }, (request) => request.params['*'])
    app.get<Star>('/call/*', (request, reply) => reply.pathDownload(request.params['*']))
    app.get<Star>('/call-off/*', (request, reply) => reply.pathDownload(request.params['*'], { offload: false }))
    app.get<Star>('/call-options/*', (request, reply) => reply.pathDownload(request.params['*'], { basename: 'renamed.txt' }))
    app.route(pathDownloadRoute<{ Params: { name: string } }>({ url: '/factory/:name', getPath: (request) => `files/${request.params.name}` }))
    app.route(pathDownloadRoute<{ Params: { name: string } }>({ url: '/factory-off/:name', getPath: (request) => `files/${request.params.name}`, offload: false }))
  })
  for (const url of ['/route-off/files/a.txt', '/call-off/files/a.txt', '/factory-off/a.txt']) {
    const answer = await ask(base + url)
    t.same([answer.status, answer.body, answer.headers['x-accel-redirect'], answer.headers['content-length']], [200, 'a\n', undefined, '2'], `${url}: served by the app`)
    t.ok(answer.headers.etag, `${url}: with its validators`)
  }
  const offloaded: Array<[url: string, disposition: string]> = [
    ['/route-on/files/a.txt', 'inline; filename="a.txt"'],
    ['/call/files/a.txt', 'attachment; filename="a.txt"'],
    ['/call-options/files/a.txt', 'attachment; filename="renamed.txt"'],
    ['/factory/a.txt', 'attachment; filename="a.txt"']
  ]
  for (const [url, disposition] of offloaded) {
    const answer = await ask(base + url)
    noLength(t, answer, url)
    t.same([answer.status, answer.body, answer.headers['x-accel-redirect'], answer.headers['content-disposition']],
      [200, '', '/protected/a.txt', disposition], `${url}: offloaded`)
  }
})
