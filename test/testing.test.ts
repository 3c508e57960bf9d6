// assertDownloadResponse (fastify-downloadview/testing), on both kinds of response users test with:
// app.inject()'s, and fetch's over a real socket. Each expectation passes on the right response and
// fails, naming itself and what it saw, on a wrong one.
import { AssertionError } from 'node:assert'
import Fastify from 'fastify'
import t from 'tap'
import fastifyDownloadView, { ContentFile } from '../lib/index.js'
import { assertDownloadResponse, type DownloadExpectations } from '../lib/testing.js'

const app = Fastify()
await app.register(fastifyDownloadView)
app.get('/report', (request, reply) => reply.virtualDownload(new ContentFile('mois,ventes\naoût,17\n', { name: 'rapport-été.csv' })))
app.get('/inline', { virtualDownload: { attachment: false } }, () => new ContentFile(new Uint8Array([0, 1, 2]), { name: 'bytes.bin' }))
app.get('/nameless', (request, reply) => reply.virtualDownload(new ContentFile('x')))
app.get('/broken-disposition', (request, reply) => reply.header('content-disposition', 'attachment; filename="a').send('x'))
app.get('/missing', { virtualDownload: true }, () => null)
app.get('/plain', async () => 'not a download')
app.get('/long', (request, reply) => reply.virtualDownload(new ContentFile('x'.repeat(100), { name: 'long.txt' })))
const base = await app.listen({ host: '127.0.0.1', port: 0 })
t.teardown(() => app.close())

const REPORT = 'mois,ventes\naoût,17\n'

// [url, expectations, failure message or undefined when it passes]
const table: Array<[string, DownloadExpectations, RegExp | undefined]> = [
  ['/report', {}, undefined],
  ['/report', { basename: 'rapport-été.csv', content: REPORT, mimeType: 'TEXT/CSV', contentType: 'text/csv; charset=utf-8', attachment: true }, undefined],
  ['/report', { content: Buffer.from(REPORT) }, undefined],
  ['/report', { basename: 'rapport-ete.csv' }, /expected basename "rapport-ete\.csv", saw "rapport-été\.csv"/],
  ['/report', { content: 'mois,ventes\n' }, /expected content "mois,ventes\\n", saw "mois,ventes\\naoût,17\\n"/],
  ['/report', { mimeType: 'text/plain' }, /expected media type "text\/plain", saw "text\/csv"/],
  ['/report', { contentType: 'text/csv' }, /expected Content-Type "text\/csv", saw "text\/csv; charset=utf-8"/],
  ['/report', { attachment: false }, /expected Content-Disposition type "inline", saw "attachment"/],
  ['/inline', { attachment: false, basename: 'bytes.bin', content: new Uint8Array([0, 1, 2]), mimeType: 'application/octet-stream' }, undefined],
  ['/inline', { attachment: true }, /expected Content-Disposition type "attachment", saw "inline"/],
  ['/inline', { content: new Uint8Array([0, 1, 3]) }, /expected content/],
  ['/nameless', { attachment: true }, undefined],
  ['/nameless', { basename: 'x.txt' }, /expected basename "x\.txt", saw undefined/],
  ['/missing', {}, /expected status 200, saw 404/],
  ['/broken-disposition', { basename: 'a' }, /expected a valid Content-Disposition "attachment", saw "attachment; filename=\\"a"/],
  ['/broken-disposition', { attachment: false }, /expected a valid Content-Disposition "inline"/],
  ['/missing', { mimeType: 'text/csv' }, /expected status 200/],
  ['/plain', { attachment: true }, /expected a Content-Disposition header "attachment", saw undefined/],
  // long bodies are shown by their start and their length
  ['/long', { content: 'y'.repeat(100) }, /expected content "y{64}… \(100 bytes\)", saw "x{64}… \(100 bytes\)"/]
]

t.test('inject() responses: nothing returned, an AssertionError naming the expectation', async (t) => {
  for (const [url, expected, failure] of table) {
    const response = await app.inject(url)
    const what = `${url} ${JSON.stringify(expected)}`
    let caught: unknown
    try {
      t.equal(assertDownloadResponse(response, expected), undefined, `${what}: returns nothing`)
    } catch (error) {
      caught = error
    }
    if (failure === undefined) t.equal(caught, undefined, `${what}: passes`)
    else {
      t.type(caught, AssertionError, `${what}: an AssertionError`)
      t.match(caught, { message: failure }, what)
    }
  }
})

t.test('fetch responses: a Promise, rejected with the same messages', async (t) => {
  for (const [url, expected, failure] of table) {
    const response = await fetch(base + url)
    const what = `${url} ${JSON.stringify(expected)}`
    const result = assertDownloadResponse(response, expected)
    t.type(result, Promise, `${what}: a Promise`)
    if (failure === undefined) await t.resolves(result, what)
    else await t.rejects(result, { name: 'AssertionError', message: failure }, what)
  }
  // headers only: the body is left unread
  const response = await fetch(base + '/report')
  await assertDownloadResponse(response, { basename: 'rapport-été.csv' })
  t.equal(response.bodyUsed, false, 'no content expected: the body is not read')
  await response.body?.cancel()
})

t.test('a header missing: no Content-Disposition on a plain reply', async (t) => {
  const plain = Fastify()
  plain.get('/', async () => 'hello')
  const response = await plain.inject('/')
  t.throws(() => assertDownloadResponse(response, { attachment: true }), { message: /expected a Content-Disposition header "attachment", saw undefined/ })
  t.throws(() => assertDownloadResponse(response, { attachment: false }), { message: /expected a Content-Disposition header "inline"/ })
  t.throws(() => assertDownloadResponse(response, { mimeType: 'text/csv' }), { message: /expected media type "text\/csv", saw "text\/plain"/ })
  await plain.close()
})

t.test('bad expectations and non-responses are TypeErrors', async (t) => {
  const response = await app.inject('/report')
  const typeError = (fn: () => unknown, message: RegExp, what: string): void => {
    let caught: unknown
    try {
      fn()
    } catch (error) {
      caught = error
    }
    t.type(caught, TypeError, `${what}: a TypeError`)
    t.match(caught, { message }, what)
  }
  typeError(() => assertDownloadResponse(response, { nmae: 'x' } as DownloadExpectations), /"assertDownloadResponse\.nmae": unknown option/, 'an unknown key')
  typeError(() => assertDownloadResponse(response, { attachment: 'yes' } as unknown as DownloadExpectations), /"assertDownloadResponse\.attachment": must be a boolean/, 'attachment')
  typeError(() => assertDownloadResponse(response, { content: 5 } as unknown as DownloadExpectations), /"assertDownloadResponse\.content": must be a string or a Uint8Array, got number/, 'content')
  typeError(() => assertDownloadResponse({ statusCode: 200 } as never), /expected an app\.inject\(\) response or a fetch Response, got an instance of Object/, 'not a response')
  typeError(() => assertDownloadResponse(null as never), /got null/, 'null')
})
