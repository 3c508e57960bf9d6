// The demo (example/server.js) run as a user runs it: a child process on a free port, every link of
// its index page downloaded with the real curl, as `curl -OJ` saves it.
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'csv-parse/sync'
import { ROOT, describedAs, htmlText, resumableBytes, startDemo, withTimeout } from './demo-harness.js'
import { startNginxWith, type NginxSetup } from './protocols.js'
import { ArchiveFile, sha256 } from './zip-readers.js'

const CURL_TIMEOUT = 30_000
const SHUTDOWN_TIMEOUT = 10_000

interface Response {
  status: number
  headers: Record<string, string>
}

/** Parses the header block curl writes with `-D -` or `-I`. */
function parseHeaders (text: string): Response {
  const [statusLine = '', ...lines] = text.trim().split(/\r?\n/)
  const status = /^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1]
  if (status === undefined) throw new Error(`no status line in ${JSON.stringify(text)}`)
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status: Number(status), headers }
}

/** Runs the real curl; resolves with its stdout, rejects on a non-zero exit (e.g. --fail). */
async function curl (args: string[], cwd = ROOT): Promise<string> {
  return await new Promise((resolve, reject) => {
    execFile('curl', ['--max-time', String(CURL_TIMEOUT / 1000), ...args], { cwd, timeout: CURL_TIMEOUT + 5_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error !== null) reject(new Error(`curl ${args.join(' ')} failed: ${error.message}\n${stderr}`))
        else resolve(stdout)
      })
  })
}

const HELLO = 'Hello world!\n'
const ROWS = 1_000_000
/** The rows of the CSV in the demo's ZIP (example/app.js's BUNDLE_ROWS). */
const BUNDLE_ROWS = 20_000

/** The demo's generated CSV of `rows` rows. */
function exportCsv (rows: number): string {
  const lines = ['id,email,score\n']
  for (let i = 1; i <= rows; i++) lines.push(`${i},user${i}@example.com,${i * 3}\n`)
  return lines.join('')
}
/** The demo's on-disk files (example/files), served by the /disk/ links. */
const FILES = join(ROOT, 'example', 'files')
const NOTES = await readFile(join(FILES, 'notes.txt'))
const DEPENSES = await readFile(join(FILES, 'dépenses-2026.csv'))

/** example/export.js, typed here (the project type-checks no JavaScript). */
interface ExportModule {
  COLUMNS: string[]
  DEMO_CUSTOMERS: number
  sqliteUnavailable: () => string | undefined
}
const shop = await import(new URL('../example/export.js', import.meta.url).href) as ExportModule
/**
 * The SQLite export is on the index page when better-sqlite3 loads on this Node: on the Node that
 * installed node_modules, not on the other lines .ci/run tests (its binary is that Node's).
 */
const SQLITE = shop.sqliteUnavailable() === undefined

interface Expected {
  /** The name `curl -OJ` saves the file under. */
  file: string
  type: string
  disposition: string
  /** Content-Length, when the file's size is known. */
  length?: number
  /** Accept-Ranges: bytes, for the files that can serve a slice. */
  ranges: boolean
  check: (t: Test, path: string) => Promise<void>
}

const hasContent = (content: string | Buffer) => async (t: Test, path: string) => {
  if (typeof content === 'string') t.equal(await readFile(path, 'utf8'), content, 'the saved content')
  else t.ok((await readFile(path)).equals(content), 'the saved bytes are the file')
}

const expected: Record<string, Expected> = {
  '/hello.txt': {
    file: 'hello-world.txt',
    type: 'text/plain; charset=utf-8',
    disposition: 'attachment; filename="hello-world.txt"',
    length: 13,
    ranges: true,
    check: hasContent(HELLO)
  },
  '/stringio.txt': {
    file: 'hello-stringio.txt',
    type: 'text/plain; charset=utf-8',
    disposition: 'attachment; filename="hello-stringio.txt"',
    length: 13,
    ranges: true,
    check: hasContent(HELLO)
  },
  '/generated.txt': {
    file: 'hello-generated.txt',
    type: 'text/plain; charset=utf-8',
    disposition: 'attachment; filename="hello-generated.txt"',
    ranges: false,
    check: hasContent(HELLO)
  },
  '/export.csv': {
    file: 'export.csv',
    type: 'text/csv; charset=utf-8',
    disposition: 'attachment; filename="export.csv"',
    ranges: false,
    check: async (t, path) => {
      const csv = await readFile(path)
      let lines = 0
      for (let i = csv.indexOf(10); i !== -1; i = csv.indexOf(10, i + 1)) lines++
      t.equal(lines, ROWS + 1, 'a header line and 1,000,000 rows')
      t.equal(csv.at(-1), 10, 'ends with a newline')
      t.equal(csv.subarray(0, csv.indexOf(10)).toString(), 'id,email,score', 'the header line')
      const second = csv.indexOf(10) + 1
      t.equal(csv.subarray(second, csv.indexOf(10, second)).toString(), '1,user1@example.com,3', 'the first row')
      t.equal(csv.subarray(csv.lastIndexOf(10, csv.length - 2) + 1, csv.length - 1).toString(),
        `${ROWS},user${ROWS}@example.com,${ROWS * 3}`, 'the last row')
    }
  },
  '/async.txt': {
    file: 'countdown.txt',
    type: 'text/plain; charset=utf-8',
    disposition: 'attachment; filename="countdown.txt"',
    ranges: false,
    check: hasContent('10...\n9...\n8...\n7...\n6...\n5...\n4...\n3...\n2...\n1...\nLiftoff!\n')
  },
  ...(SQLITE
    ? {
        '/customers.csv': {
          file: 'customers.csv',
          type: 'text/csv; charset=utf-8',
          disposition: 'attachment; filename="customers.csv"',
          ranges: true,
          check: async (t: Test, path: string) => {
            const records = parse(await readFile(path), { bom: true }) as string[][]
            t.same(records[0], shop.COLUMNS, 'the header line')
            t.equal(records.length, shop.DEMO_CUSTOMERS + 1, `a header line and ${shop.DEMO_CUSTOMERS} rows`)
            t.same(records[1]?.slice(0, 2), ['1', 'Ada Lovelace'], 'the first row')
            t.match(records.find((record) => record[1]?.includes('HYPERLINK'))?.[1], /^'=HYPERLINK\(/, 'a formula cell, escaped')
          }
        }
      }
    : {}),
  '/unicode': {
    // curl -J reads the plain filename= parameter: the ASCII fallback
    file: 'rapport-ete-2026.csv',
    type: 'text/csv; charset=utf-8',
    disposition: 'attachment; filename="rapport-ete-2026.csv"; filename*=UTF-8\'\'rapport-%C3%A9t%C3%A9-2026.csv',
    length: Buffer.byteLength('mois,ventes\njuillet,42\naoût,17\n'),
    ranges: true,
    check: hasContent('mois,ventes\njuillet,42\naoût,17\n')
  },
  '/inline.txt': {
    file: 'readme.txt',
    type: 'text/plain; charset=utf-8',
    disposition: 'inline; filename="readme.txt"',
    ranges: true,
    check: hasContent('This text is displayed by the browser (Content-Disposition: inline).\n')
  },
  '/blob': {
    file: 'data.json',
    type: 'application/json; charset=utf-8',
    disposition: 'attachment; filename="data.json"',
    length: 18,
    ranges: true,
    check: hasContent('{"hello":"world"}\n')
  },
  '/resumable.bin': {
    file: 'resumable.bin',
    type: 'application/octet-stream',
    disposition: 'attachment; filename="resumable.bin"',
    length: 1024 * 1024,
    ranges: true,
    check: hasContent(resumableBytes())
  },
  '/remote.bin': {
    file: 'remote.bin',
    type: 'application/octet-stream',
    disposition: 'attachment; filename="remote.bin"',
    length: 1024 * 1024,
    ranges: true,
    check: hasContent(resumableBytes())
  },
  '/bundle.zip': {
    file: 'bundle.zip',
    type: 'application/zip',
    disposition: 'attachment; filename="bundle.zip"',
    // the archive's exact length, set below from a first download (checked against its bytes there)
    length: -1,
    ranges: false,
    check: async (t, path) => {
      const archive = await ArchiveFile.of(await readFile(path))
      t.teardown(() => archive.remove())
      const unzip = await archive.unzipTest()
      t.equal(unzip.code, 0, 'unzip -t passes')
      t.match(unzip.output, /No errors detected/)
      const { entries, bad } = await archive.python()
      t.equal(bad, null, 'Python\'s zipfile: every CRC checks')
      const contents: Record<string, string | Buffer> = {
        'README.txt': 'Made by the fastify-downloadview demo: one ZIP, streamed, with an exact size.\n',
        'export/rows.csv': exportCsv(BUNDLE_ROWS),
        'reports/rapport-été-2026.csv': 'mois,ventes\njuillet,42\naoût,17\n',
        'data/resumable.bin': resumableBytes(),
        'notes.txt': NOTES
      }
      t.same(entries.map((entry) => entry.name), Object.keys(contents), 'its files, in order')
      t.same(entries.filter((entry) => entry.sha256 !== sha256(contents[entry.name] ?? '')).map((entry) => entry.name), [], 'each file\'s bytes')
    }
  },
  '/disk/notes.txt': {
    file: 'notes.txt',
    type: 'text/plain; charset=utf-8',
    disposition: 'attachment; filename="notes.txt"',
    length: NOTES.length,
    ranges: true,
    check: hasContent(NOTES)
  },
  '/disk/d%C3%A9penses-2026.csv': {
    // curl -J reads the plain filename= parameter: the ASCII fallback
    file: 'depenses-2026.csv',
    type: 'text/csv; charset=utf-8',
    disposition: 'attachment; filename="depenses-2026.csv"; filename*=UTF-8\'\'d%C3%A9penses-2026.csv',
    length: DEPENSES.length,
    ranges: true,
    check: hasContent(DEPENSES)
  }
}

const demo = await startDemo(t)

// No await between the root test's assertions until the subtests start: with a teardown (the
// demo's), tap's root test ends once idle for a few timer ticks.
const index = await withTimeout(fetch(demo.url + '/'), CURL_TIMEOUT, 'GET /')
const html = await withTimeout(index.text(), CURL_TIMEOUT, 'the index page body')
// the ZIP's length, known before any of its files is read: its Content-Length is its bytes' count
const bundle = await withTimeout(fetch(demo.url + '/bundle.zip'), CURL_TIMEOUT, 'GET /bundle.zip')
const bundleBytes = Buffer.from(await withTimeout(bundle.arrayBuffer(), CURL_TIMEOUT, 'the ZIP'))
t.equal(index.status, 200, 'the index page')
t.match(index.headers.get('content-type'), /^text\/html\b/, 'an HTML page')
const hrefs = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1] ?? '')
t.equal(bundle.headers.get('content-length'), String(bundleBytes.length), 'the ZIP\'s Content-Length is its length')
;(expected['/bundle.zip'] as Expected).length = bundleBytes.length
t.match(htmlText(describedAs(html, '/bundle.zip')), new RegExp(`a ${BUNDLE_ROWS.toLocaleString('en')}-row CSV`), 'the index page gives the CSV\'s rows')
t.same([...hrefs].sort(), Object.keys(expected).sort(), 'one link per example, each one tested here')

for (const href of hrefs) {
  await t.test(`${href} with curl -OJ`, async (t) => {
    const want = expected[href]
    if (want === undefined) return t.fail(`no expectation for ${href}`)
    const url = new URL(href, demo.url).href
    const dir = t.testdir()
    const get = parseHeaders(await curl(['-sS', '--fail', '-OJ', '-D', '-', url], dir))
    t.equal(get.status, 200, 'curl --fail got a 200')
    t.same(await readdir(dir), [want.file], `saved as ${want.file}`)
    await want.check(t, join(dir, want.file))

    const head = parseHeaders(await curl(['-sS', '--fail', '-I', url]))
    for (const [method, response] of [['GET', get], ['HEAD', head]] as const) {
      t.equal(response.status, 200, `${method} status`)
      t.equal(response.headers['content-type'], want.type, `${method} Content-Type`)
      t.equal(response.headers['content-disposition'], want.disposition, `${method} Content-Disposition`)
      if (want.length !== undefined) t.equal(response.headers['content-length'], String(want.length), `${method} Content-Length`)
      t.equal(response.headers['accept-ranges'], want.ranges ? 'bytes' : undefined, `${method} Accept-Ranges`)
    }
    if (want.length === undefined && !want.ranges) {
      t.equal(get.headers['content-length'], undefined, 'a generated file is streamed without a length')
      t.equal(get.headers['transfer-encoding'], 'chunked', 'sent chunked')
    }
  })
}

t.test('every link with curl -OJ into one directory, one after another: each saves under its own name', async (t) => {
  const dir = t.testdir()
  for (const href of hrefs) {
    // curl -J refuses to overwrite a file: a link saving under a name already taken fails here
    await curl(['-sS', '--fail', '-OJ', new URL(href, demo.url).href], dir)
      .then(() => t.pass(`${href} saved`), (error: unknown) => t.fail(`${href}: ${error instanceof Error ? error.message : String(error)}`))
  }
  const names = hrefs.map((href) => expected[href]?.file ?? `(no expectation for ${href})`)
  t.equal(new Set(names).size, names.length, 'the expected names are distinct')
  t.same((await readdir(dir)).sort(), [...names].sort(), 'the directory holds one file per link, each under its expected name')
})

t.test('the non-ASCII name is the real name in filename*', async (t) => {
  const { headers } = parseHeaders(await curl(['-sS', '--fail', '-I', new URL('/unicode', demo.url).href]))
  const encoded = /(?:^|;)\s*filename\*=UTF-8''([^;\s]+)/i.exec(headers['content-disposition'] ?? '')?.[1]
  t.ok(encoded, 'has filename*')
  t.equal(decodeURIComponent(encoded ?? ''), 'rapport-été-2026.csv', 'filename* decodes to the real name')
  t.match(headers['content-disposition'], /filename="[\x20-\x7e]+"/, 'the plain filename is ASCII')
  t.match(htmlText(describedAs(html, '/unicode')), /\bcurl -OJ saves [^;]*\brapport-ete-2026\.csv\b/,
    'the index page says curl -OJ saves the ASCII fallback')
  t.match(htmlText(describedAs(html, '/disk/d%C3%A9penses-2026.csv')), /\bcurl -OJ as depenses-2026\.csv\b/,
    'the index page says curl -OJ saves the on-disk file under the ASCII fallback')
})

// The resumable file, and the same file fetched from the demo's upstream through HTTPFile (the
// upstream's 206 and 416 relayed): each resumes with the command its description gives.
async function resumes (t: Test, href: string): Promise<void> {
  const url = new URL(href, demo.url).href
  const full = resumableBytes()
  const half = full.length / 2
  const dir = t.testdir()
  const name = href.slice(1)
  const path = join(dir, name)

  const first = parseHeaders(await curl(['-sS', '--fail', '-r', `0-${half - 1}`, '-o', name, '-D', '-', url], dir))
  t.equal(first.status, 206, 'the first half')
  t.equal(first.headers['content-range'], `bytes 0-${half - 1}/${full.length}`, 'Content-Range of the first half')
  t.equal(first.headers['content-length'], String(half), 'Content-Length of the first half')
  t.ok((await readFile(path)).equals(full.subarray(0, half)), 'the first half is saved')

  // the page's resume command, run as written with the link in place of <this link>: curl refuses
  // some combinations (-C - with -J), and the test fails if the page suggests one
  const code = /<code>(curl\b[^<]*)<\/code>/.exec(describedAs(html, href))?.[1]
  t.ok(code, 'the index page gives a curl command to resume')
  const command = htmlText(code ?? '')
  t.match(command, /\s-C -(\s|$)/, 'the command resumes (-C -)')
  t.ok(command.includes('<this link>'), 'the command takes the link')
  const [program, ...args] = command.replace('<this link>', url).trim().split(/\s+/)
  t.equal(program, 'curl', 'a curl command')
  const rest = parseHeaders(await curl(['-sS', '--fail', '-D', '-', ...args], dir))
  t.equal(rest.status, 206, `${command} asks for the rest`)
  t.equal(rest.headers['content-range'], `bytes ${half}-${full.length - 1}/${full.length}`, 'Content-Range of the rest')
  t.ok((await readFile(path)).equals(full), 'the resumed file is the whole file')

  const unsatisfiable = parseHeaders(await curl(['-sS', '-r', '2000000-3000000', '-o', '/dev/null', '-D', '-', url]))
  t.equal(unsatisfiable.status, 416, 'a range past the end (the upstream\'s 416, relayed, for the remote file)')
  t.equal(unsatisfiable.headers['content-range'], `bytes */${full.length}`, 'Content-Range: bytes */SIZE')
  t.equal(unsatisfiable.headers['content-disposition'], undefined, 'no download headers on a 416')
}

t.test('/resumable.bin and /remote.bin resume with the command the index page gives', async (t) => {
  for (const href of ['/resumable.bin', '/remote.bin']) await t.test(href, (t) => resumes(t, href))
})

t.test('/customers.csv, the SQLite export, resumes with the command the index page gives', { skip: SQLITE ? false : 'better-sqlite3 does not load on this Node line: the demo leaves the export out' }, async (t) => {
  const url = new URL('/customers.csv', demo.url).href
  const dir = t.testdir()
  const whole = parseHeaders(await curl(['-sS', '--fail', '-o', 'whole.csv', '-D', '-', url], dir))
  const full = await readFile(join(dir, 'whole.csv'))
  t.equal(whole.headers['content-length'], String(full.length), 'Content-Length is the size of the CSV')
  t.match(whole.headers.etag, /^"[0-9a-f]{16}-v1"$/, 'the ETag: the database and the table\'s version')
  const half = Math.floor(full.length / 2)
  const first = parseHeaders(await curl(['-sS', '--fail', '-r', `0-${half - 1}`, '-o', 'customers.csv', '-D', '-', url], dir))
  t.equal(first.status, 206, 'the first half')
  const code = /<code>(curl\b[^<]*)<\/code>/.exec(describedAs(html, '/customers.csv'))?.[1]
  t.ok(code, 'the index page gives a curl command to resume')
  const command = htmlText(code ?? '')
  t.match(command, /\s-C -(\s|$)/, 'the command resumes (-C -)')
  const [program, ...args] = command.replace('<this link>', url).trim().split(/\s+/)
  t.equal(program, 'curl', 'a curl command')
  const rest = parseHeaders(await curl(['-sS', '--fail', '-D', '-', ...args], dir))
  t.equal(rest.status, 206, `${command} asks for the rest`)
  t.equal(rest.headers['content-range'], `bytes ${half}-${full.length - 1}/${full.length}`, 'Content-Range of the rest')
  t.ok((await readFile(join(dir, 'customers.csv'))).equals(full), 'the resumed file is the whole file')
})

t.test('/resumable.bin answers conditional requests', async (t) => {
  const url = new URL('/resumable.bin', demo.url).href
  const full = resumableBytes()
  const { headers } = parseHeaders(await curl(['-sS', '--fail', '-I', url]))
  const etag = headers.etag
  const lastModified = headers['last-modified']
  t.match(etag, /^"[^"]+"$/, 'a strong ETag')
  t.equal(lastModified, 'Thu, 01 Jan 2026 00:00:00 GMT', 'Last-Modified')
  t.equal(headers['cache-control'], 'public, max-age=3600', 'Cache-Control')

  const ranged = async (ifRange: string) => {
    const response = await withTimeout(fetch(url, { headers: { range: 'bytes=10-19', 'if-range': ifRange } }), CURL_TIMEOUT, 'If-Range')
    return { status: response.status, body: Buffer.from(await response.arrayBuffer()) }
  }
  const sameEtag = await ranged(etag ?? '')
  t.equal(sameEtag.status, 206, 'If-Range with the current ETag: the slice')
  t.ok(sameEtag.body.equals(full.subarray(10, 20)), 'bytes 10-19')
  const sameDate = await ranged(lastModified ?? '')
  t.equal(sameDate.status, 206, 'If-Range with the current Last-Modified: the slice')
  const stale = await ranged('"stale"')
  t.equal(stale.status, 200, 'If-Range with another ETag: the whole file')
  t.ok(stale.body.equals(full), 'all the bytes')

  const notModified = await withTimeout(fetch(url, { headers: { 'if-none-match': etag ?? '' } }), CURL_TIMEOUT, 'If-None-Match')
  t.equal(notModified.status, 304, 'If-None-Match with the current ETag')
  t.equal(notModified.headers.get('etag'), etag, 'the 304 carries the ETag')
})

/** The directory example/nginx.conf keeps nginx's pid and temporary files in. */
const NGINX_TMP = '/tmp/fastify-downloadview-nginx'

/**
 * example/nginx.conf as this test runs it. Only what must differ on a test machine is replaced, in
 * the directives (comments stay as they are), and each replacement must apply:
 * - `listen 127.0.0.1:8080;` -> nginx's free port, `server 127.0.0.1:3000;` -> the demo's port;
 * - /tmp/fastify-downloadview-nginx (pid, temp paths) -> the test's scratch directory;
 * - `error_log stderr;` -> the scratch directory's error log, level info;
 * - `user root;` first, when the tests run as root (the scratch directory is root's alone).
 * nginx runs with `-p <repository>/example/` as the file's first lines say: `alias files/` is
 * example/files/, as for a user.
 */
function shippedConfig (shipped: string, setup: NginxSetup, demoPort: string): string {
  const counts = { listen: 0, upstream: 0, tmp: 0, errorLog: 0 }
  const lines = shipped.split('\n').map((line) => {
    if (/^\s*#/.test(line)) return line
    let out = line
    if (out.includes('listen 127.0.0.1:8080;')) { counts.listen++; out = out.replace('listen 127.0.0.1:8080;', `listen 127.0.0.1:${setup.port};`) }
    if (out.includes('server 127.0.0.1:3000;')) { counts.upstream++; out = out.replace('server 127.0.0.1:3000;', `server 127.0.0.1:${demoPort};`) }
    if (out.includes(NGINX_TMP)) { counts.tmp++; out = out.replaceAll(NGINX_TMP, setup.scratch) }
    if (out.includes('error_log stderr;')) { counts.errorLog++; out = out.replace('error_log stderr;', `error_log ${setup.errorLog} info;`) }
    return out
  })
  if (counts.listen !== 1 || counts.upstream !== 1 || counts.tmp === 0 || counts.errorLog !== 1) {
    throw new Error(`example/nginx.conf no longer has the lines this test replaces: ${JSON.stringify(counts)}`)
  }
  const config = (setup.asRoot ? 'user root;\n' : '') + lines.join('\n')
  if (!config.includes(`pid ${setup.pidFile};`)) throw new Error(`example/nginx.conf's pid is no longer in ${NGINX_TMP}`)
  return config
}

t.test('OFFLOAD=nginx behind the shipped example/nginx.conf: nginx sends the on-disk files', async (t) => {
  const offloaded = await startDemo(t, { OFFLOAD: 'nginx' })
  const shipped = await readFile(join(ROOT, 'example', 'nginx.conf'), 'utf8')
  const nginx = await startNginxWith((setup) => shippedConfig(shipped, setup, new URL(offloaded.url).port), { prefix: join(ROOT, 'example') + '/' })
  t.teardown(nginx.stop)
  const disk = hrefs.filter((href) => href.startsWith('/disk/'))
  t.equal(disk.length, 2, 'the index page has two on-disk files')

  for (const href of disk) {
    const response = await withTimeout(fetch(new URL(href, offloaded.url)), CURL_TIMEOUT, `GET ${href} from the demo`)
    const body = Buffer.from(await withTimeout(response.arrayBuffer(), CURL_TIMEOUT, `the body of ${href}`))
    t.equal(response.status, 200, `${href}: the demo answers 200`)
    t.equal(body.length, 0, `${href}: with no body`)
    t.equal(response.headers.get('x-accel-redirect'), href.replace(/^\/disk\//, '/protected-files/'), `${href}: and X-Accel-Redirect`)
    t.equal(response.headers.get('content-disposition'), expected[href]?.disposition, `${href}: and its Content-Disposition`)
    t.equal(response.headers.get('etag'), null, `${href}: no ETag of its own`)
  }

  t.test('every link through nginx with curl -OJ', async (t) => {
    for (const href of hrefs) {
      const want = expected[href]
      if (want === undefined) {
        t.fail(`no expectation for ${href}`)
        continue
      }
      const dir = t.testdir()
      const get = parseHeaders(await curl(['-sS', '--fail', '-OJ', '-D', '-', new URL(href, nginx.base).href], dir))
      t.equal(get.status, 200, `${href}: 200`)
      t.same(await readdir(dir), [want.file], `${href}: saved as ${want.file}`)
      await want.check(t, join(dir, want.file))
      t.equal(get.headers['content-type'], want.type, `${href}: Content-Type`)
      t.equal(get.headers['content-disposition'], want.disposition, `${href}: Content-Disposition`)
      if (href.startsWith('/disk/')) {
        const { mtime, size } = await stat(join(FILES, decodeURIComponent(href.slice('/disk/'.length))))
        t.equal(get.headers.etag, `"${Math.floor(mtime.getTime() / 1000).toString(16)}-${size.toString(16)}"`, `${href}: nginx's ETag: nginx sent the file`)
        t.equal(get.headers['content-length'], String(size), `${href}: nginx's Content-Length`)
      }
    }
  })

  t.test('nginx answers Range and the internal location stays internal', async (t) => {
    const url = new URL('/disk/notes.txt', nginx.base).href
    const dir = t.testdir()
    const slice = parseHeaders(await curl(['-sS', '--fail', '-r', '6-10', '-o', 'slice', '-D', '-', url], dir))
    t.equal(slice.status, 206, 'a range: 206')
    t.equal(slice.headers['content-range'], `bytes 6-10/${NOTES.length}`, 'Content-Range')
    t.ok((await readFile(join(dir, 'slice'))).equals(NOTES.subarray(6, 11)), 'bytes 6-10')
    const internal = parseHeaders(await curl(['-sS', '-o', '/dev/null', '-D', '-', new URL('/protected-files/notes.txt', nginx.base).href]))
    t.equal(internal.status, 404, '/protected-files/ is not reachable from outside')
  })

  t.test('the offloading demo logged no error', async (t) => {
    t.notMatch(offloaded.stderr(), /"level":50/, 'nothing logged at error')
  })
})

t.test('the demo prints one line on stdout and closes cleanly on SIGTERM', async (t) => {
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    demo.child.once('exit', (code, signal) => resolve([code, signal])))
  demo.child.kill('SIGTERM')
  const [code, signal] = await withTimeout(exited, SHUTDOWN_TIMEOUT, 'the demo did not exit on SIGTERM')
  t.equal(code, 0, 'exit code 0')
  t.equal(signal, null, 'not killed by the signal')
  t.equal(demo.stdout(), `fastify-downloadview demo listening on ${demo.url}\n`, 'stdout has the URL line only')
  t.notMatch(demo.stderr(), /"level":50/, 'nothing logged at error')
})
