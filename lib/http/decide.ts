import type { FastifyRequest } from 'fastify'
import type { FileMetadata } from '../metadata.js'
import type { ByteRange, DownloadFile } from '../types.js'
import { notModified, preconditionFailed, weakMatch } from './conditional.js'
import { ifRangeMatches, parseRanges } from './range.js'

/** What to answer: the status, the slice(s) for a 206, and whether a body goes out at all. */
export interface Decision {
  readonly status: 200 | 206 | 304 | 412 | 416
  /** The one slice of a single-part 206. */
  readonly range?: ByteRange
  /** The slices of a multipart/byteranges 206 (two or more, ascending, apart). */
  readonly ranges?: readonly ByteRange[]
  readonly body: boolean
  /** The reverse proxy sends the file: an empty answer with its redirect headers. */
  readonly offload?: true
}

type MaybePromise<T> = T | Promise<T>

function then<T, U> (value: MaybePromise<T>, next: (value: T) => MaybePromise<U>): MaybePromise<U> {
  return value instanceof Promise ? value.then(next) : next(value)
}

// the answers that carry no range are the same for every request: made once
const FULL: Decision = Object.freeze({ status: 200, body: true })
const FULL_HEAD: Decision = Object.freeze({ status: 200, body: false })
const NOT_MODIFIED: Decision = Object.freeze({ status: 304, body: false })
const PRECONDITION_FAILED: Decision = Object.freeze({ status: 412, body: false })
const UNSATISFIABLE: Decision = Object.freeze({ status: 416, body: false })
const OFFLOADED: Decision = Object.freeze({ status: 200, body: false, offload: true })

/**
 * The decision for one request (RFC 9110 §13.2.2 order): preconditions (412), then If-None-Match /
 * If-Modified-Since (304), then Range / If-Range (206 / 416), else 200. HEAD gets no body, and,
 * since range handling is defined for GET only (§14.2), HEAD answers as a GET without Range would.
 * Synchronous unless the file's wasModifiedSince answers with a promise.
 */
/** What the decision takes from the route's options. */
export interface RangeOptions {
  readonly acceptRanges: boolean
  readonly maxRanges: number
}

export function decide (request: FastifyRequest, meta: FileMetadata, file: DownloadFile, options: RangeOptions): MaybePromise<Decision> {
  // an offloaded file: the proxy answers Range, conditionals and HEAD, with its own validators
  if (meta.offload !== undefined) return OFFLOADED
  const { headers, method } = request
  const get = method === 'GET'
  const full = get || method !== 'HEAD' ? FULL : FULL_HEAD
  if (headers['if-match'] === undefined && headers['if-unmodified-since'] === undefined &&
    headers['if-none-match'] === undefined && headers['if-modified-since'] === undefined) {
    return ranged(request, meta, full, options, get)
  }
  const validators = { etag: meta.etag, modifiedTime: meta.modifiedTime, wasModifiedSince: file.wasModifiedSince?.bind(file) }
  return then(preconditionFailed(headers, validators), (failed) => {
    if (failed) return PRECONDITION_FAILED
    // §13.1.2 / §13.1.3: If-None-Match and If-Modified-Since give a 304 on GET and HEAD;
    // for other methods a matching If-None-Match is a failed precondition
    if (!get && method !== 'HEAD') {
      const ifNoneMatch = headers['if-none-match']
      return ifNoneMatch !== undefined && weakMatch(ifNoneMatch, meta.etag) ? PRECONDITION_FAILED : full
    }
    return then(notModified(headers, validators), (unchanged): Decision =>
      unchanged ? NOT_MODIFIED : ranged(request, meta, full, options, get))
  })
}

function ranged (request: FastifyRequest, meta: FileMetadata, full: Decision, { acceptRanges, maxRanges }: RangeOptions, get: boolean): Decision {
  const header = request.headers.range
  if (header === undefined || !acceptRanges || !get) return full
  // the source answered the Range itself (a remote file's upstream 206 or 416): so do we
  const answered = meta.rangeAnswer
  if (answered !== undefined) return answered === 'unsatisfiable' ? UNSATISFIABLE : { status: 206, range: answered, body: true }
  if (!meta.ranges) return full
  const ifRange = request.headers['if-range'] as string | undefined
  if (ifRange !== undefined && !ifRangeMatches(ifRange, meta)) return full
  const ranges = parseRanges(header, meta.size as number, maxRanges)
  if (ranges === undefined) return full
  if (ranges === 'unsatisfiable') return UNSATISFIABLE
  // one range left (after coalescing): a plain 206 for any file; several: multipart where it can
  if (ranges.length === 1) return { status: 206, range: ranges[0] as ByteRange, body: true }
  return meta.multipleRanges ? { status: 206, ranges, body: true } : full
}
