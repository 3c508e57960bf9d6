// assertDownloadResponse, for users' own tests (django-downloadview's assert_download_response):
// one call checks that a response is the download it should be. Imported from
// 'fastify-downloadview/testing', so the plugin itself never loads node:assert.
import { AssertionError } from 'node:assert'
import { parse as parseDisposition } from 'content-disposition'
import { anyString, boolean, checkOptions, optionChecks, type Check } from './check-options.js'
import { describe } from './errors.js'

export interface DownloadExpectations {
  /** The client-side file name, decoded (`filename*` preferred over `filename`). */
  basename?: string | undefined
  /** The body, byte for byte (a string is compared as UTF-8). */
  content?: string | Uint8Array | undefined
  /** The media type, without parameters, in any case: 'text/csv'. */
  mimeType?: string | undefined
  /** The Content-Type header, exactly: 'text/csv; charset=utf-8'. */
  contentType?: string | undefined
  /** true: `attachment`; false: `inline`. */
  attachment?: boolean | undefined
}

/** A light-my-request response (`app.inject()`), as far as the assertion reads it. */
export interface InjectedResponse {
  readonly statusCode: number
  readonly headers: Record<string, string | string[] | number | undefined>
  readonly rawPayload: Buffer
}

const content: Check = (value) => typeof value === 'string' || value instanceof Uint8Array
  ? undefined
  : `must be a string or a Uint8Array, got ${describe(value)}`

const OPTIONS = optionChecks<DownloadExpectations>('assertDownloadResponse', {
  basename: anyString,
  content,
  mimeType: anyString,
  contentType: anyString,
  attachment: boolean
})

interface Seen {
  status: number
  header: (name: string) => string | undefined
}

/**
 * Asserts that `response` is a download (status 200) matching `expected`: nothing is returned
 * for an `app.inject()` response, a Promise for a fetch `Response` (its body is read
 * asynchronously). A failure throws an AssertionError naming the expectation and what was seen.
 */
export function assertDownloadResponse (response: InjectedResponse, expected?: DownloadExpectations): void
export function assertDownloadResponse (response: Response, expected?: DownloadExpectations): Promise<void>
export function assertDownloadResponse (response: InjectedResponse | Response, expected: DownloadExpectations = {}): void | Promise<void> {
  checkOptions(OPTIONS, expected)
  if (response instanceof Response) return checkFetched(response, expected)
  if (response === null || typeof response !== 'object' || !Buffer.isBuffer((response as Partial<InjectedResponse>).rawPayload)) {
    throw new TypeError(`assertDownloadResponse: expected an app.inject() response or a fetch Response, got ${describe(response)}`)
  }
  const injected = response as InjectedResponse
  const header = (name: string): string | undefined => {
    const value = injected.headers[name]
    return value === undefined ? undefined : String(value)
  }
  checkHeaders({ status: injected.statusCode, header }, expected)
  if (expected.content !== undefined) checkContent(injected.rawPayload, expected.content)
}

/** A fetch Response: the headers, then the body when content is expected (left unread otherwise). */
async function checkFetched (response: Response, expected: DownloadExpectations): Promise<void> {
  checkHeaders({ status: response.status, header: (name) => response.headers.get(name) ?? undefined }, expected)
  if (expected.content !== undefined) checkContent(Buffer.from(await response.arrayBuffer()), expected.content)
}

function fail (what: string, actual: unknown, expected: unknown): never {
  throw new AssertionError({
    message: `download response: expected ${what} ${JSON.stringify(expected)}, saw ${JSON.stringify(actual)}`,
    actual,
    expected,
    operator: 'assertDownloadResponse'
  })
}

function checkHeaders ({ status, header }: Seen, expected: DownloadExpectations): void {
  if (status !== 200) fail('status', status, 200)
  const disposition = header('content-disposition')
  if (expected.attachment !== undefined || expected.basename !== undefined) {
    if (disposition === undefined) fail('a Content-Disposition header', undefined, expected.attachment === false ? 'inline' : 'attachment')
    const parsed = dispositionOf(disposition, expected)
    if (expected.attachment !== undefined && parsed.type !== (expected.attachment ? 'attachment' : 'inline')) {
      fail('Content-Disposition type', parsed.type, expected.attachment ? 'attachment' : 'inline')
    }
    // content-disposition decodes filename* (RFC 8187) and prefers it over filename
    if (expected.basename !== undefined && parsed.filename !== expected.basename) {
      fail('basename', parsed.filename, expected.basename)
    }
  }
  const type = header('content-type')
  if (expected.contentType !== undefined && type !== expected.contentType) fail('Content-Type', type, expected.contentType)
  if (expected.mimeType !== undefined) {
    const mime = type?.split(';')[0]?.trim().toLowerCase()
    if (mime !== expected.mimeType.toLowerCase()) fail('media type', mime, expected.mimeType)
  }
}

/** The disposition type and decoded filename of a Content-Disposition header, or an assertion failure. */
function dispositionOf (header: string, expected: DownloadExpectations): { type: string, filename: string | undefined } {
  try {
    const { type, parameters } = parseDisposition(header)
    return { type, filename: (parameters as Record<string, string | undefined>).filename }
  } catch {
    return fail('a valid Content-Disposition', header, expected.attachment === false ? 'inline' : 'attachment')
  }
}

function checkContent (body: Buffer, expected: string | Uint8Array): void {
  const wanted = typeof expected === 'string' ? Buffer.from(expected) : Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength)
  if (!body.equals(wanted)) {
    const show = (bytes: Buffer): string => bytes.length > 64 ? `${bytes.subarray(0, 64).toString()}… (${bytes.length} bytes)` : bytes.toString()
    fail('content', show(body), show(wanted))
  }
}
