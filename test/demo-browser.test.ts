// The demo (example/server.js) in a real browser: Debian's Chromium (/usr/bin/chromium, which
// .ci/run installs) driven by playwright-core opens the index page and clicks every link. A download
// is checked under the name the browser picks (Content-Disposition's filename* first) and by the
// bytes it saved; the inline file is shown as a page.
import t, { type Test } from 'tap'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type Download } from 'playwright-core'
import { ROOT, resumableBytes, startDemo, withTimeout } from './demo-harness.js'

const CHROMIUM = '/usr/bin/chromium'
/** The bound of every wait on the browser: launch, navigation, click, download, close. */
const TIMEOUT = 30_000

const HELLO = 'Hello world!\n'
/** The demo's on-disk files. */
const FILES = join(ROOT, 'example', 'files')

/** The export's content, built as the demo's generator builds it. */
function exportCsv (rows: number): string {
  const lines = ['id,email,score\n']
  for (let i = 1; i <= rows; i++) lines.push(`${i},user${i}@example.com,${i * 3}\n`)
  return lines.join('')
}

type Expected =
  /** Saved by the browser: the name it suggests and the content. */
  | { download: string, content: string | Buffer }
  /** Shown as a page: its text. */
  | { shown: string }

/** example/export.js, typed here (the project type-checks no JavaScript). */
interface ExportModule { sqliteUnavailable: () => string | undefined }
const shop = await import(new URL('../example/export.js', import.meta.url).href) as ExportModule
/** The SQLite export is on the index page when better-sqlite3 loads on this Node (see test/demo.test.ts). */
const SQLITE = shop.sqliteUnavailable() === undefined

const expected: Record<string, Expected> = {
  '/hello.txt': { download: 'hello-world.txt', content: HELLO },
  '/stringio.txt': { download: 'hello-stringio.txt', content: HELLO },
  '/generated.txt': { download: 'hello-generated.txt', content: HELLO },
  '/export.csv': { download: 'export.csv', content: exportCsv(1_000_000) },
  '/async.txt': { download: 'countdown.txt', content: '10...\n9...\n8...\n7...\n6...\n5...\n4...\n3...\n2...\n1...\nLiftoff!\n' },
  // the browser reads filename* (RFC 6266): the real name, where curl -OJ takes the ASCII fallback
  '/unicode': { download: 'rapport-été-2026.csv', content: 'mois,ventes\njuillet,42\naoût,17\n' },
  // Content-Disposition: inline on text/plain: Chromium shows the text, no download
  '/inline.txt': { shown: 'This text is displayed by the browser (Content-Disposition: inline).\n' },
  // application/json, a type Chromium would display, but sent as an attachment: Chromium saves it
  '/blob': { download: 'data.json', content: '{"hello":"world"}\n' },
  '/resumable.bin': { download: 'resumable.bin', content: resumableBytes() },
  '/remote.bin': { download: 'remote.bin', content: resumableBytes() },
  '/disk/notes.txt': { download: 'notes.txt', content: await readFile(join(FILES, 'notes.txt')) },
  // filename* again: the real name
  '/disk/d%C3%A9penses-2026.csv': { download: 'dépenses-2026.csv', content: await readFile(join(FILES, 'dépenses-2026.csv')) }
}

// Everything runs in one subtest, which owns the teardowns (the demo, the browser): a teardown on
// tap's root test would end it once idle for a few ticks, which a browser's round trips outlast.
t.test('the demo in Chromium', async (t) => {
  const demo = await startDemo(t)
  const index = new URL('/', demo.url).href
  // the ZIP as the demo sends it: what the browser must save
  const bundle = await withTimeout(fetch(new URL('/bundle.zip', demo.url)), TIMEOUT, 'GET /bundle.zip')
  const bundleBytes = Buffer.from(await withTimeout(bundle.arrayBuffer(), TIMEOUT, 'the ZIP'))
  expected['/bundle.zip'] = { download: 'bundle.zip', content: bundleBytes }
  if (SQLITE) {
    // the CSV of the demo's database (its rows are checked by test/demo.test.ts): what the browser
    // must save is what the demo sends
    const response = await withTimeout(fetch(new URL('/customers.csv', demo.url)), TIMEOUT, 'GET /customers.csv')
    expected['/customers.csv'] = { download: 'customers.csv', content: Buffer.from(await withTimeout(response.arrayBuffer(), TIMEOUT, 'the CSV')) }
  }

  const browser = await withTimeout(
    chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: TIMEOUT }),
    TIMEOUT, `launching ${CHROMIUM}`
  ).catch((error: unknown) => {
    throw new Error(`could not launch ${CHROMIUM} (Debian's chromium package; .ci/run installs it): ${String(error)}`)
  })
  t.teardown(async () => { await withTimeout(browser.close(), TIMEOUT, 'closing Chromium') })
  const context = await browser.newContext({ acceptDownloads: true })
  context.setDefaultTimeout(TIMEOUT)
  context.setDefaultNavigationTimeout(TIMEOUT)

  /** Opens the index page in a new tab, closed when `t` ends; every download it starts is collected. */
  async function openIndex (t: Test) {
    const page = await context.newPage()
    t.teardown(async () => { await withTimeout(page.close(), TIMEOUT, 'closing a tab') })
    const downloads: Download[] = []
    page.on('download', (download) => { downloads.push(download) })
    const response = await page.goto(index)
    t.equal(response?.status(), 200, 'the index page')
    return { page, downloads }
  }

  const { page: indexPage } = await openIndex(t)
  t.equal(await indexPage.title(), 'fastify-downloadview demo', 'the index page\'s title')
  const unicode = await indexPage.locator('li', { has: indexPage.locator('a[href="/unicode"]') }).textContent()
  t.match(unicode, /\bbrowsers save it as rapport-été-2026\.csv\b/, 'the index page says browsers save the real name')
  const disk = await indexPage.locator('li', { has: indexPage.locator('a[href="/disk/d%C3%A9penses-2026.csv"]') }).textContent()
  t.match(disk, /\bbrowsers save it as dépenses-2026\.csv\b/, 'the index page says browsers save the on-disk file\'s real name')
  const hrefs: string[] = []
  for (const link of await indexPage.locator('a[href]').all()) hrefs.push(await link.getAttribute('href') ?? '')
  t.same([...hrefs].sort(), Object.keys(expected).sort(), 'one link per example, each one tested here')

  // What Chromium's download manager reports, from the Browser domain of the DevTools protocol: a
  // context of its own whose downloads go to a directory of the test's, with their events
  await t.test('/bundle.zip: Chromium knows the ZIP\'s total size from its first byte (a real progress bar)', async (t) => {
    const zipContext = await browser.newContext({ acceptDownloads: true })
    t.teardown(async () => { await withTimeout(zipContext.close(), TIMEOUT, 'closing a context') })
    const page = await zipContext.newPage()
    await page.goto(index)
    // the tab's own session tells its browser context; the browser's session sets its downloads
    const tab = await zipContext.newCDPSession(page)
    const { targetInfo } = await tab.send('Target.getTargetInfo')
    await tab.detach()
    const { browserContextId } = targetInfo
    t.ok(browserContextId, 'the tab\'s browser context')
    const session = await browser.newBrowserCDPSession()
    t.teardown(async () => { await session.detach() })
    const downloadPath = t.testdir()
    await session.send('Browser.setDownloadBehavior', { behavior: 'allowAndName', browserContextId, downloadPath, eventsEnabled: true })

    /** Clicks `href`; resolves with every progress event of its download, the last one not in progress. */
    const progress = async (href: string): Promise<Array<{ totalBytes: number, receivedBytes: number, state: string, guid: string }>> => {
      const events: Array<{ totalBytes: number, receivedBytes: number, state: string, guid: string }> = []
      let listener: (event: { totalBytes: number, receivedBytes: number, state: string, guid: string }) => void = () => {}
      const over = new Promise<void>((resolve) => {
        listener = (event) => {
          events.push(event)
          if (event.state !== 'inProgress') resolve()
        }
        session.on('Browser.downloadProgress', listener)
      })
      await page.locator(`a[href="${href}"]`).click()
      await withTimeout(over, TIMEOUT, `the download of ${href}`)
      session.off('Browser.downloadProgress', listener)
      return events
    }

    const events = await progress('/bundle.zip')
    const last = events.at(-1)
    t.equal(last?.state, 'completed', 'the download completed')
    t.equal(last?.receivedBytes, bundleBytes.length, `all ${bundleBytes.length} bytes received`)
    const inProgress = events.filter((event) => event.state === 'inProgress')
    t.ok(inProgress.length > 0, 'progress was reported while it ran')
    t.same([...new Set(events.map((event) => event.totalBytes))], [bundleBytes.length], 'every report, from the first, gives the archive\'s size as the total')
    t.equal(inProgress[0]?.receivedBytes, 0, 'the first report came before any byte was received')
    const saved = await readFile(join(downloadPath, last?.guid ?? ''))
    t.ok(saved.equals(bundleBytes), 'the saved file is the archive')

    // a file streamed without a length: Chromium reports no total while it runs
    const unsized = await progress('/generated.txt')
    t.equal(unsized.at(-1)?.state, 'completed')
    t.same([...new Set(unsized.filter((event) => event.state === 'inProgress' && event.receivedBytes === 0).map((event) => event.totalBytes))], [0],
      'for comparison, /generated.txt (chunked): a total of 0, unknown, before its bytes arrive')
  })

  for (const href of hrefs) {
    await t.test(`${href} clicked in Chromium`, async (t) => {
      const want = expected[href]
      if (want === undefined) return t.fail(`no expectation for ${href}`)
      const url = new URL(href, demo.url).href
      const { page, downloads } = await openIndex(t)
      const link = page.locator(`a[href="${href}"]`)

      if ('shown' in want) {
        await Promise.all([page.waitForURL(url), link.click()])
        t.equal(await page.textContent('body'), want.shown, 'the page shows the text')
        t.same(downloads, [], 'no download')
        return
      }

      const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
      t.equal(download.url(), url, 'the link\'s URL')
      t.equal(download.suggestedFilename(), want.download, `saved as ${want.download}`)
      const path = await withTimeout(download.path(), TIMEOUT, `the download of ${href}`)
      t.equal(await withTimeout(download.failure(), TIMEOUT, `the download of ${href}`), null, 'the download completed')
      const saved = await readFile(path)
      if (typeof want.content === 'string') {
        // the export is 37 MB: compare the bytes, and print the texts only when they are short
        const same = saved.equals(Buffer.from(want.content))
        t.ok(same, `the saved content (${saved.length} bytes)`)
        if (!same && saved.length < 1000) t.equal(saved.toString(), want.content, 'the saved text')
      } else {
        t.ok(saved.equals(want.content), `the saved bytes are the file (${saved.length} bytes)`)
      }
      t.equal(page.url(), index, 'the tab stays on the index page')
      t.equal(downloads.length, 1, 'one download')
    })
  }
})
