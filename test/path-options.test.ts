// lib/path-options.ts: the checks of the path options, and resolvePathPlan (what @fastify/send and
// the pipeline are handed, once per route).
import { resolve } from 'node:path'
import t from 'tap'
import type { Offloader } from '../lib/offload.js'
import { validateOptions } from '../lib/options.js'
import { PATH_DOWNLOAD_OPTIONS, PATH_OPTION_NAMES, PLUGIN_OPTIONS, resolvePathPlan } from '../lib/path-options.js'
import type { FastifyDownloadViewOptions, PathDownloadOptions } from '../lib/types.js'

const YEAR = 365 * 24 * 60 * 60

t.test('Cache-Control: cacheControl wins; else maxAge (ms or a duration) and immutable; else none', async (t) => {
  const table: Array<[defaults: FastifyDownloadViewOptions, overrides: PathDownloadOptions, cacheControl: string | undefined]> = [
    [{}, {}, undefined],
    [{}, { immutable: false }, undefined],
    [{}, { maxAge: 0 }, 'public, max-age=0'],
    [{}, { maxAge: 999 }, 'public, max-age=0'],
    [{}, { maxAge: 1000 }, 'public, max-age=1'],
    [{}, { maxAge: 1999.9 }, 'public, max-age=1'],
    [{}, { maxAge: 60_000 }, 'public, max-age=60'],
    [{}, { maxAge: '1d' }, 'public, max-age=86400'],
    [{}, { maxAge: '2 hours' }, 'public, max-age=7200'],
    [{}, { maxAge: '1.5h' }, 'public, max-age=5400'],
    [{}, { maxAge: '500' }, 'public, max-age=0'],
    // @fastify/send's ceiling: one year
    [{}, { maxAge: YEAR * 1000 }, `public, max-age=${YEAR}`],
    [{}, { maxAge: YEAR * 1000 + 1000 }, `public, max-age=${YEAR}`],
    [{}, { maxAge: '10y' }, `public, max-age=${YEAR}`],
    [{}, { maxAge: Number.MAX_SAFE_INTEGER }, `public, max-age=${YEAR}`],
    [{}, { immutable: true }, 'public, max-age=0, immutable'],
    [{}, { maxAge: '1d', immutable: true }, 'public, max-age=86400, immutable'],
    [{}, { maxAge: '1d', immutable: false }, 'public, max-age=86400'],
    [{}, { cacheControl: 'no-store', maxAge: '1d', immutable: true }, 'no-store'],
    // defaults and overrides merge, option by option
    [{ maxAge: '1h' }, {}, 'public, max-age=3600'],
    [{ maxAge: '1h' }, { immutable: true }, 'public, max-age=3600, immutable'],
    [{ maxAge: '1h', immutable: true }, { maxAge: 0 }, 'public, max-age=0, immutable'],
    [{ maxAge: '1h' }, { cacheControl: 'private' }, 'private'],
    [{ cacheControl: 'private' }, {}, 'private'],
    // a plugin-wide cacheControl wins over a route's maxAge (cacheControl wins, whoever gives it)
    [{ cacheControl: 'private' }, { maxAge: '1d' }, 'private']
  ]
  for (const [defaults, overrides, cacheControl] of table) {
    t.equal(resolvePathPlan(defaults, overrides, undefined).plan.cacheControl, cacheControl, `${JSON.stringify(defaults)} + ${JSON.stringify(overrides)}`)
  }
})

t.test("send's options: only resolving, confining, dotfiles and the ETag are left to send", async (t) => {
  const plain = resolvePathPlan({}, {}, undefined)
  t.same(plain.path, {
    root: undefined,
    send: { root: undefined, dotfiles: 'ignore', etag: true, lastModified: false, cacheControl: false, contentType: false, acceptRanges: false, index: false, extensions: false },
    etag: true,
    lastModified: true,
    offload: undefined
  })
  const tuned = resolvePathPlan({ root: '/srv/files', dotfiles: 'allow', etag: false }, { dotfiles: 'deny', lastModified: false }, undefined).path
  t.same([tuned.root, tuned.send.root, tuned.send.dotfiles, tuned.send.etag, tuned.etag, tuned.lastModified, tuned.send.lastModified],
    ['/srv/files', '/srv/files', 'deny', false, false, false, false])
  t.equal(resolvePathPlan({ etag: false }, { etag: true }, undefined).path.send.etag, true, 'a route turns the ETag back on')
})

t.test('root is resolved to an absolute path, once', async (t) => {
  const table: Array<[root: string, resolved: string]> = [
    ['/srv/files', '/srv/files'],
    ['/srv/files/', '/srv/files'],
    ['/srv//files/../data', '/srv/data'],
    ['relative/dir', resolve('relative/dir')],
    ['.', process.cwd()]
  ]
  for (const [root, resolved] of table) {
    const { path } = resolvePathPlan({}, { root }, undefined)
    t.same([path.root, path.send.root], [resolved, resolved], root)
  }
  t.equal(resolvePathPlan({ root: '/a' }, { root: '/b' }, undefined).path.root, '/b', 'the route root wins')
  t.equal(resolvePathPlan({ root: '/a' }, {}, undefined).path.root, '/a', "the plugin's root")
})

t.test('offload: the plugin offloader unless the route or call says false', async (t) => {
  const offloader: Offloader = () => ({ 'x-accel-redirect': '/x' })
  const defaults: FastifyDownloadViewOptions = { offload: { server: 'nginx', rules: [{ source: '/srv', destination: '/p' }] } }
  t.equal(resolvePathPlan(defaults, {}, offloader).path.offload, offloader)
  t.equal(resolvePathPlan(defaults, { offload: true }, offloader).path.offload, offloader)
  t.equal(resolvePathPlan(defaults, { offload: false }, offloader).path.offload, undefined)
  t.equal(resolvePathPlan({}, {}, undefined).path.offload, undefined)
})

t.test('the DownloadPlan: download options merged, path options left out', async (t) => {
  const { plan } = resolvePathPlan({ attachment: false, charset: 'latin1', maxAge: 1000 }, { basename: 'x.csv', acceptRanges: false }, undefined)
  t.same([plan.dispositionType, plan.basename, plan.charset, plan.acceptRanges, plan.cacheControl, plan.disposition],
    ['inline', 'x.csv', 'latin1', false, 'public, max-age=1', 'inline; filename="x.csv"'])
})

t.test('the checks of the path options', async (t) => {
  t.same([...PATH_OPTION_NAMES].sort(), ['acceptRanges', 'attachment', 'basename', 'cacheControl', 'charset', 'dotfiles', 'etag', 'immutable', 'lastModified', 'maxAge', 'maxRanges', 'mimetype', 'offload', 'onDownloadEnd', 'root'])
  const invalid: Array<[options: Record<string, unknown>, message: string]> = [
    [{ root: '' }, '"root": must be a non-empty directory path, got ""'],
    [{ root: 5 }, '"root": must be a string, got number'],
    [{ dotfiles: 'hide' }, '"dotfiles": must be \'allow\', \'deny\' or \'ignore\', got "hide"'],
    [{ dotfiles: 'Allow' }, '"dotfiles": must be \'allow\', \'deny\' or \'ignore\', got "Allow"'],
    [{ dotfiles: true }, '"dotfiles": must be \'allow\', \'deny\' or \'ignore\', got boolean'],
    [{ dotfiles: null }, '"dotfiles": must be \'allow\', \'deny\' or \'ignore\', got null'],
    [{ etag: 'weak' }, '"etag": must be a boolean, got string'],
    [{ lastModified: 1 }, '"lastModified": must be a boolean, got number'],
    [{ immutable: 'yes' }, '"immutable": must be a boolean, got string'],
    [{ maxAge: -1 }, '"maxAge": must be a non-negative number of milliseconds, got -1'],
    [{ maxAge: Number.NaN }, '"maxAge": must be a non-negative number of milliseconds, got NaN'],
    [{ maxAge: Infinity }, '"maxAge": must be a non-negative number of milliseconds, got Infinity'],
    [{ maxAge: 'soon' }, '"maxAge": must be milliseconds or a duration such as "1d", got "soon"'],
    [{ maxAge: '' }, '"maxAge": must be milliseconds or a duration such as "1d", got ""'],
    [{ maxAge: '-1d' }, '"maxAge": must be milliseconds or a duration such as "1d", got "-1d"'],
    [{ maxAge: ' 1d' }, '"maxAge": must be milliseconds or a duration such as "1d", got " 1d"'],
    [{ maxAge: true }, '"maxAge": must be milliseconds or a duration such as "1d", got boolean'],
    [{ maxAge: {} }, '"maxAge": must be milliseconds or a duration such as "1d", got an instance of Object'],
    [{ offload: {} }, '"offload": must be a boolean, got an instance of Object'],
    [{ offload: 'nginx' }, '"offload": must be a boolean, got string']
  ]
  for (const [options, message] of invalid) {
    t.throws(() => validateOptions(options, PATH_DOWNLOAD_OPTIONS), { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message: `Invalid option ${message}` }, JSON.stringify(options) ?? message)
  }
  t.same(validateOptions({ root: '/srv', dotfiles: 'deny', etag: false, lastModified: true, maxAge: '1d', immutable: true, offload: false, basename: 'x' }, PATH_DOWNLOAD_OPTIONS),
    { root: '/srv', dotfiles: 'deny', etag: false, lastModified: true, maxAge: '1d', immutable: true, offload: false, basename: 'x' })
  t.same(validateOptions({ maxAge: 0, dotfiles: undefined }, PATH_DOWNLOAD_OPTIONS), { maxAge: 0 })
  // the plugin's offload is the rules object, a call's or route's a boolean
  t.throws(() => validateOptions({ offload: true }, PLUGIN_OPTIONS), { message: /"offload": must be an object \{ server, rules, nginx\? \}, got boolean/ })
  t.same(validateOptions({ offload: { server: 'apache', rules: [{ source: '/a', destination: '/b' }] } }, PLUGIN_OPTIONS),
    { offload: { server: 'apache', rules: [{ source: '/a', destination: '/b' }] } })
  t.throws(() => validateOptions({ toString: 'x' }, PATH_DOWNLOAD_OPTIONS), { message: /"toString": unknown option/ })
})
