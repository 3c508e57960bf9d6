import Fastify from 'fastify'
import t from 'tap'
import fastifyDownloadView, {
  ContentFile, FileNotFound, TextIteratorIO, VirtualFile, contentDisposition, virtualDownloadRoute,
  fastifyDownloadView as named, BytesIteratorIO
} from '../lib/index.js'
import { build } from './helpers.js'

function * generateHello (): Generator<string> {
  yield 'Hello '
  yield 'world!'
  yield '\n'
}

t.test('exports', async (t) => {
  t.equal(named, fastifyDownloadView)
  t.equal(typeof contentDisposition, 'function')
  t.equal(typeof BytesIteratorIO, 'function')
  t.equal(new FileNotFound().statusCode, 404)
  t.equal((fastifyDownloadView as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')], 'fastify-downloadview')
})

t.test('1. the reply decorator', async (t) => {
  const { app } = await build()
  app.get('/text', (request, reply) =>
    reply.virtualDownload(new ContentFile('Hello world!\n', { name: 'hello-world.txt' })))
  app.get('/async', async (request, reply) => reply.virtualDownload(new VirtualFile(generateHello(), { name: 'hello.txt' }), { attachment: false }))
  app.get('/blob', (request, reply) => reply.virtualDownload(new File(['{"a":1}'], 'data.json', { type: 'application/json', lastModified: 0 })))
  app.get('/bad-option', (request, reply) => reply.virtualDownload(new ContentFile('x'), { attachment: 'no' } as never))

  const text = await app.inject('/text')
  t.equal(text.statusCode, 200)
  t.equal(text.body, 'Hello world!\n')
  t.equal(text.headers['content-type'], 'text/plain; charset=utf-8')
  t.equal(text.headers['content-disposition'], 'attachment; filename="hello-world.txt"')
  t.equal(text.headers['content-length'], '13')

  const inline = await app.inject('/async')
  t.equal(inline.body, 'Hello world!\n')
  t.equal(inline.headers['content-disposition'], 'inline; filename="hello.txt"')
  t.equal(inline.headers['content-length'], undefined)

  const blob = await app.inject('/blob')
  t.equal(blob.body, '{"a":1}')
  t.equal(blob.headers['content-type'], 'application/json; charset=utf-8')
  t.equal(blob.headers['content-disposition'], 'attachment; filename="data.json"')
  t.equal(blob.headers['last-modified'], 'Thu, 01 Jan 1970 00:00:00 GMT')

  const bad = await app.inject('/bad-option')
  t.equal(bad.statusCode, 500)
  t.match(bad.json(), { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: /"attachment": must be a boolean/ })
})

t.test('2. the route option: the handler is getFile', async (t) => {
  const { app } = await build({ cacheControl: 'private' })
  app.get('/generated', { virtualDownload: { attachment: false } }, async () =>
    new VirtualFile(new TextIteratorIO(generateHello()), { name: 'hello-world.txt' }))
  app.get('/defaults', { virtualDownload: true }, () => new ContentFile('x', { name: 'x.bin' }))
  app.get('/json', { virtualDownload: false }, () => ({ plain: 'json' }))
  app.get('/null', { virtualDownload: true }, async () => null)
  app.get('/undefined', { virtualDownload: true }, () => undefined)
  app.get('/not-found', { virtualDownload: true }, async () => { throw new FileNotFound() })
  app.get('/forbidden', { virtualDownload: true }, async () => { throw Object.assign(new Error('no'), { statusCode: 403 }) })
  app.get('/replied', { virtualDownload: true }, async (request, reply) => reply.code(202).send('handled'))
  app.get('/replied-sync', { virtualDownload: true }, (request, reply) => { reply.code(202).send('sync'); return undefined })
  app.get('/blob', { virtualDownload: true }, () => new Blob(['b']))
  app.get('/not-a-file', { virtualDownload: true }, () => 'just a string' as never)
  app.get('/this', { virtualDownload: true }, function (this: unknown) {
    return new ContentFile(this === app ? 'fastify instance' : 'other')
  })

  const generated = await app.inject('/generated')
  t.equal(generated.body, 'Hello world!\n')
  t.equal(generated.headers['content-disposition'], 'inline; filename="hello-world.txt"')
  t.equal(generated.headers['cache-control'], 'private', 'plugin defaults apply')

  const defaults = await app.inject('/defaults')
  t.equal(defaults.headers['content-disposition'], 'attachment; filename="x.bin"')
  t.equal(defaults.headers['content-type'], 'application/octet-stream')

  t.same((await app.inject('/json')).json(), { plain: 'json' }, 'false leaves the route alone')
  const missing = await app.inject('/null')
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { code: 'FST_DOWNLOADVIEW_FILE_NOT_FOUND', message: 'File not found' })
  t.notOk(missing.headers['content-disposition'])
  t.equal((await app.inject('/undefined')).statusCode, 404)
  t.equal((await app.inject('/not-found')).statusCode, 404)
  t.equal((await app.inject('/forbidden')).statusCode, 403)
  const replied = await app.inject('/replied')
  t.same([replied.statusCode, replied.body], [202, 'handled'])
  const repliedSync = await app.inject('/replied-sync')
  t.same([repliedSync.statusCode, repliedSync.body], [202, 'sync'])
  t.equal((await app.inject('/blob')).body, 'b')
  t.match((await app.inject('/not-a-file')).json(), { statusCode: 500, code: 'FST_DOWNLOADVIEW_INVALID_FILE', message: /got string/ })
  t.equal((await app.inject('/this')).body, 'fastify instance')
})

t.test('an invalid route option fails at route definition, naming the option', async (t) => {
  const { app } = await build()
  t.throws(() => app.get('/a', { virtualDownload: { attachment: 'yes' } as never }, () => null), {
    code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: /"virtualDownload.attachment": must be a boolean/
  })
  t.throws(() => app.get('/b', { virtualDownload: 'yes' as never }, () => null), { message: /"virtualDownload": must be true, false or DownloadOptions, got string \(route \/b\)/ })
  t.throws(() => app.get('/c', { virtualDownload: null as never }, () => null), { message: /got null/ })
})

t.test('3. the route factory', async (t) => {
  const { app } = await build()
  app.route(virtualDownloadRoute({
    url: '/report.csv',
    getFile: async () => new VirtualFile(['a,b\n', '1,2\n'], { name: 'report.csv' }),
    attachment: true,
    cacheControl: 'no-store'
  }))
  app.route(virtualDownloadRoute<{ Params: { id: string } }>({
    method: 'POST',
    url: '/export/:id',
    schema: { params: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]+$' } } } },
    getFile: (request) => new ContentFile(`export ${request.params.id}`, { name: `export-${request.params.id}.txt` })
  }))

  const report = await app.inject('/report.csv')
  t.equal(report.body, 'a,b\n1,2\n')
  t.equal(report.headers['content-type'], 'text/csv; charset=utf-8')
  t.equal(report.headers['cache-control'], 'no-store')
  const head = await app.inject({ method: 'HEAD', url: '/report.csv' })
  t.equal(head.statusCode, 200, 'HEAD comes with GET')
  t.equal(head.body, '')
  t.equal(head.headers['content-disposition'], 'attachment; filename="report.csv"')

  const exported = await app.inject({ method: 'POST', url: '/export/42' })
  t.equal(exported.body, 'export 42')
  t.equal(exported.headers['content-disposition'], 'attachment; filename="export-42.txt"')
  t.equal((await app.inject({ method: 'POST', url: '/export/abc' })).statusCode, 400, 'the schema passes through')
  t.equal((await app.inject({ method: 'GET', url: '/export/42' })).statusCode, 404)
})

t.test('the factory checks its options when called', async (t) => {
  t.throws(() => virtualDownloadRoute({ url: '/x', getFile: () => null, mimetype: 'nope' }), { message: /"mimetype": must be a media type/ })
  t.throws(() => virtualDownloadRoute({ url: '/x' } as never), { message: /"getFile": must be a function, got undefined/ })
  t.throws(() => virtualDownloadRoute(null as never), { message: /"options": must be an object, got null/ })
})

t.test('a factory route without the plugin fails clearly', async (t) => {
  const app = Fastify()
  app.route(virtualDownloadRoute({ url: '/x', getFile: () => new ContentFile('x') }))
  const response = await app.inject('/x')
  t.equal(response.statusCode, 500)
  t.match(response.json(), { code: 'FST_DOWNLOADVIEW_NOT_REGISTERED', message: /not registered in the context of this route/ })
})

t.test('invalid plugin options fail at registration, naming the option', async (t) => {
  const app = Fastify()
  await t.rejects(async () => { await app.register(fastifyDownloadView, { attachment: 'yes' } as never) }, { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: /"attachment"/ })
  const typo = Fastify()
  await t.rejects(async () => { await typo.register(fastifyDownloadView, { cachecontrol: 'x' } as never) }, { message: /"cachecontrol": unknown option/ })
  const prefixed = Fastify()
  await prefixed.register(fastifyDownloadView, { prefix: '/ignored', logLevel: 'warn' } as never)
  await prefixed.ready()
})

t.test('encapsulation: defaults belong to the context the plugin is registered in', async (t) => {
  const app = Fastify()
  await app.register(async (child) => {
    await child.register(fastifyDownloadView, { attachment: false })
    child.get('/child', { virtualDownload: true }, () => new ContentFile('c', { name: 'c.txt' }))
    child.get('/child-decorator', (request, reply) => reply.virtualDownload(new ContentFile('c', { name: 'c.txt' })))
  })
  await app.register(async (other) => {
    await other.register(fastifyDownloadView)
    other.get('/other', { virtualDownload: true }, () => new ContentFile('o', { name: 'o.txt' }))
  })
  t.equal((await app.inject('/child')).headers['content-disposition'], 'inline; filename="c.txt"')
  t.equal((await app.inject('/child-decorator')).headers['content-disposition'], 'inline; filename="c.txt"')
  t.equal((await app.inject('/other')).headers['content-disposition'], 'attachment; filename="o.txt"')
})

t.test('Fastify hooks still run around a download', async (t) => {
  const { app } = await build()
  app.addHook('onRequest', async (request, reply) => { reply.header('x-request-hook', '1') })
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-send-hook', '1')
    return payload
  })
  app.get('/stream', { virtualDownload: true }, () => new VirtualFile(generateHello(), { name: 'h.txt' }))
  app.get('/memory', { virtualDownload: true }, () => new ContentFile('m', { name: 'm.txt' }))
  for (const url of ['/stream', '/memory']) {
    const response = await app.inject(url)
    t.equal(response.statusCode, 200)
    t.equal(response.headers['x-request-hook'], '1', url)
    t.equal(response.headers['x-send-hook'], '1', url)
  }
  t.equal((await app.inject('/stream')).body, 'Hello world!\n')
})
