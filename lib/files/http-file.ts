// A remote file (an HTTP(S) resource) as one more DownloadFile, on undici. open() sends the upstream
// request: one Range and its If-Range forwarded, identity encoding asked, HEAD as an upstream HEAD.
// The metadata come from the upstream's answer, and the decision follows it (an upstream 206 or 416
// is relayed as such). The upstream request is aborted when the download ends without reading it.
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import type { FastifyRequest } from 'fastify'
import { parse as parseDisposition } from 'content-disposition'
import { parse as parseContentType } from 'content-type'
import { Agent, interceptors, request as undiciRequest, type Dispatcher } from 'undici'
import { anyString, checkOptions, integer, optionChecks, type Check } from '../check-options.js'
import { BadGateway, FileNotFound, InvalidOption, describe } from '../errors.js'
import { isFieldValue, isMediaType, isToken, toEntityTag } from '../http/field-values.js'
import { kRangeAnswer, type RangeAnswer } from '../metadata.js'
import type { ByteRange, DownloadFile, OpenContext } from '../types.js'

export interface HTTPFileOptions {
  /** The client-side name; else the upstream's Content-Disposition filename, else the URL's last segment. */
  name?: string | undefined
  /** Sent upstream with every request (credentials, a user agent...). */
  headers?: Record<string, string> | undefined
  /** undici's Dispatcher (an Agent, a Pool, a ProxyAgent...); default an Agent of this package's own. */
  dispatcher?: Dispatcher | undefined
  /** Milliseconds to wait for the upstream's headers, and between two body chunks (default 30000). */
  timeout?: number | undefined
}

const DEFAULT_TIMEOUT = 30_000
const MAX_REDIRECTIONS = 5
/**
 * Headers the `headers` option cannot set: open() sets the first three from the client's request
 * (in another case they would be sent beside them: a Range on every request, HEAD included, or
 * an Accept-Encoding other than identity), and undici refuses the others on every request.
 */
const REFUSED_HEADERS = new Map([
  ['accept-encoding', 'HTTPFile asks for identity encoding itself'],
  ['range', 'HTTPFile forwards the client\'s own'],
  ['if-range', 'HTTPFile forwards the client\'s own'],
  ['transfer-encoding', 'undici refuses to send it'],
  ['keep-alive', 'undici refuses to send it'],
  ['upgrade', 'undici refuses to send it'],
  ['expect', 'undici refuses to send it']
])

const headersCheck: Check = (value) => {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return `must be an object of header names to strings, got ${describe(value)}`
  for (const [name, header] of Object.entries(value)) {
    if (typeof header !== 'string') return `must map header names to strings, got ${describe(header)} for "${name}"`
    // else every request would fail, as a 502 (the value is not quoted: it may be a credential)
    if (!isToken(name)) return `must have header names that are tokens, got ${JSON.stringify(name)}`
    if (!isFieldValue(header)) return `must have header values without control characters, which "${name}" has`
    const refused = REFUSED_HEADERS.get(name.toLowerCase())
    if (refused !== undefined) return `cannot set "${name}": ${refused}`
  }
  return undefined
}
const dispatcherCheck: Check = (value) =>
  value !== null && typeof value === 'object' && typeof (value as Partial<Dispatcher>).dispatch === 'function'
    ? undefined
    : `must be an undici Dispatcher (an Agent, a Pool...), got ${describe(value)}`

const OPTIONS = optionChecks<HTTPFileOptions>('HTTPFile', {
  name: anyString,
  headers: headersCheck,
  dispatcher: dispatcherCheck,
  timeout: integer(1, 'a positive number of milliseconds')
})

// The default dispatcher: an Agent of the undici this package depends on. Not undici's global
// dispatcher: on Node 22 and later, Node's own fetch installs there an Agent of its bundled undici,
// whose handler interface the redirect interceptor of undici 7 cannot drive.
let defaultAgent: Agent | undefined

// each dispatcher gets its redirect-following twin once
const following = new WeakMap<Dispatcher, Dispatcher>()
function redirecting (dispatcher: Dispatcher): Dispatcher {
  let composed = following.get(dispatcher)
  if (composed === undefined) {
    composed = dispatcher.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS }))
    following.set(dispatcher, composed)
  }
  return composed
}

/** One `bytes=` range of the request, never several (RFC 9110 §14.2): what may be forwarded. */
const SINGLE_RANGE = /^bytes=\s*(?:\d+-\d*|-\d+)\s*$/
/** `bytes a-b/total`, `bytes a-b/*` or `bytes * /total` (RFC 9110 §14.4). */
const CONTENT_RANGE = /^bytes\s+(?:(\d+)-(\d+)|\*)\/(\d+|\*)$/

const integerHeader = (value: string | string[] | undefined): number | undefined => {
  if (typeof value !== 'string' || !/^\d+$/.test(value)) return undefined
  const number = Number(value)
  return Number.isSafeInteger(number) ? number : undefined
}

export class HTTPFile implements DownloadFile {
  name: string | undefined
  size: number | undefined
  modifiedTime: Date | undefined
  etag: string | undefined
  contentType: string | undefined
  charset: string | undefined
  acceptsRanges = false;
  [kRangeAnswer]: RangeAnswer | undefined
  readonly #url: URL
  readonly #options: HTTPFileOptions
  readonly #controller = new AbortController()
  #body: Readable | undefined
  /** The upstream body is the whole file (a 200), not a slice of it. */
  #whole = true
  /** A Range was sent upstream: only then can a 206 or a 416 be relayed. */
  #ranged = false

  constructor (url: string | URL, options: HTTPFileOptions = {}) {
    checkOptions(OPTIONS, options)
    let parsed: URL
    try {
      parsed = new URL(url)
    } catch {
      throw new InvalidOption('HTTPFile url', `must be an absolute http(s) URL, got ${typeof url === 'string' ? JSON.stringify(url) : describe(url)}`)
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new InvalidOption('HTTPFile url', `must be an http(s) URL, got a ${parsed.protocol} one`)
    }
    this.#url = parsed
    this.#options = options
    this.name = options.name
  }

  async open (request: FastifyRequest, context: OpenContext): Promise<void> {
    const head = request.method === 'HEAD'
    const headers: Record<string, string> = { ...this.#options.headers, 'accept-encoding': 'identity' }
    const { range } = request.headers
    // a single range of a GET is forwarded, with its If-Range; several ranges get the whole file
    if (!head && request.method === 'GET' && context.acceptRanges && typeof range === 'string' && SINGLE_RANGE.test(range)) {
      headers.range = range
      this.#ranged = true
      const ifRange = request.headers['if-range']
      if (typeof ifRange === 'string') headers['if-range'] = ifRange
    }
    const timeout = this.#options.timeout ?? DEFAULT_TIMEOUT
    let response: Dispatcher.ResponseData
    try {
      response = await undiciRequest(this.#url, {
        method: head ? 'HEAD' : 'GET',
        headers,
        dispatcher: redirecting(this.#options.dispatcher ?? (defaultAgent ??= new Agent())),
        // close() aborts it, and so does the client leaving while the upstream is slow to answer
        signal: AbortSignal.any([this.#controller.signal, context.signal]),
        headersTimeout: timeout,
        bodyTimeout: timeout
      })
    } catch (error) {
      throw new BadGateway(upstreamFailure(error, timeout), { cause: error })
    }
    const { statusCode: status, headers: upstream, body } = response
    this.#body = body
    // an answer without a body to read is drained of nothing: destroyed
    if (status === 404 || status === 410) {
      body.destroy()
      throw new FileNotFound()
    }
    if (status !== 200 && status !== 206 && status !== 416) {
      body.destroy()
      // a redirect still there after the last one followed (a loop, a chain, no usable Location)
      throw new BadGateway(status >= 300 && status < 400 ? `the upstream still redirected (${status}) after ${MAX_REDIRECTIONS} redirects` : `the upstream answered ${status}`)
    }
    this.#readMetadata(status, upstream)
  }

  #readMetadata (status: number, upstream: Dispatcher.ResponseData['headers']): void {
    const header = (name: string): string | undefined => {
      const value = upstream[name]
      return typeof value === 'string' ? value : undefined
    }
    this.name ??= nameOf(header('content-disposition'), this.#url)
    const type = header('content-type')
    if (type !== undefined) {
      // content-type 2 parses leniently, never throws: a type (or a charset) no header can carry
      // is no type, guessed from the name instead (a file field would fail the download: a 500)
      const parsed = parseContentType(type)
      if (isMediaType(parsed.type)) {
        this.contentType = parsed.type
        const { charset } = parsed.parameters
        if (charset !== undefined && isToken(charset)) this.charset = charset
      }
    }
    const modified = header('last-modified')
    const date = modified === undefined ? Number.NaN : Date.parse(modified)
    if (!Number.isNaN(date)) this.modifiedTime = new Date(date)
    const etag = header('etag')
    if (etag !== undefined) this.etag = toEntityTag(etag)
    const length = integerHeader(upstream['content-length'])
    if (status === 200) {
      this.size = length
      this.acceptsRanges = length !== undefined
      return
    }
    // a 206 or a 416 answers a Range: to a request that sent none (HEAD, a route without ranges,
    // several ranges) it answers nothing the decision could relay
    if (!this.#ranged) throw new BadGateway(`the upstream answered ${status} to a request without Range`)
    // 206 `bytes a-b/total` or 416 `bytes */total`: the answer to relay
    const match = CONTENT_RANGE.exec(header('content-range') ?? '')
    const total = integerHeader(match?.[3])
    if (status === 416) {
      if (total === undefined) throw new BadGateway('the upstream answered 416 without the size')
      this.size = total
      this[kRangeAnswer] = 'unsatisfiable'
      return
    }
    const start = integerHeader(match?.[1])
    const end = integerHeader(match?.[2])
    // the slice must lie in the file, and the body (when its length is given) be that slice
    if (start === undefined || end === undefined || total === undefined || start > end || end >= total ||
      (length !== undefined && length !== end - start + 1)) {
      throw new BadGateway('the upstream answered 206 without a single, sized Content-Range that holds')
    }
    this.size = total
    this.acceptsRanges = true
    this.#whole = false
    this[kRangeAnswer] = { start, end }
  }

  stream (range?: ByteRange): Readable {
    const body = this.#body as Readable
    // the upstream sent the slice itself, or the whole file was asked for
    if (!this.#whole || range === undefined) return body
    // an upstream 200 to a range: sliced here
    return slice(body, range)
  }

  /** No body will be read: the upstream request is aborted. */
  close (): void {
    this.#controller.abort()
    this.#body?.destroy()
  }
}

/** The name: the upstream's Content-Disposition filename, else the URL's last segment, decoded. */
function nameOf (disposition: string | undefined, url: URL): string | undefined {
  if (disposition !== undefined) {
    try {
      const { filename } = parseDisposition(disposition).parameters as Record<string, string | undefined>
      if (filename !== undefined && filename !== '') return filename
    } catch {
      // a malformed header names nothing
    }
  }
  const segment = url.pathname.slice(url.pathname.lastIndexOf('/') + 1)
  try {
    return segment === '' ? undefined : decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** What went wrong upstream, for the 502 (never the URL: it may hold credentials). */
function upstreamFailure (error: unknown, timeout: number): string {
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return `the upstream sent no headers within ${timeout} ms`
  // undici's redirect handler refuses a loop and a Location that is not http(s)
  if (code === 'UND_ERR_INVALID_ARG') return 'the upstream redirected where no request can follow (a loop, or not http(s))'
  return `the upstream request failed${typeof code === 'string' ? ` (${code})` : ''}`
}

const ignore = (): void => {}

/**
 * The bytes `start` to `end` of `body`, then the end: the rest of the upstream body is not read,
 * its request is aborted. Destroying the slice destroys the body.
 */
function slice (body: Readable, { start, end }: ByteRange): Transform {
  let toSkip = start
  let left = end - start + 1
  const part = new Transform({
    transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      if (left === 0) return callback()
      const skipped = Math.min(toSkip, chunk.length)
      toSkip -= skipped
      const taken = chunk.subarray(skipped, skipped + left)
      left -= taken.length
      if (taken.length > 0) this.push(taken)
      if (left === 0) {
        this.push(null)
        // the rest is not read: the upstream request is aborted, and the abort's own error
        // (undici's RequestAbortedError) is no failure of the slice, whose end may still be unread
        body.off('error', fail).on('error', ignore)
        body.destroy()
      }
      callback()
    },
    destroy (error, callback) {
      body.destroy()
      callback(error)
    }
  })
  const fail = (error: Error): void => { part.destroy(error) }
  body.on('error', fail)
  return body.pipe(part)
}
