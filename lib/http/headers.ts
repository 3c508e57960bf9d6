import { InvalidFileField } from '../errors.js'
import type { FileMetadata } from '../metadata.js'
import type { DownloadPlan } from '../options.js'
import { contentDisposition, safeBasename } from './content-disposition.js'
import { contentType, DEFAULT_CHARSET, guessMimetype } from './content-type.js'
import type { Decision } from './decide.js'
import { isMediaType, isToken } from './field-values.js'

const CACHE_LIMIT = 1000

/** Content-Type and Content-Disposition of a file under a plan; cached per plan by file name. */
export function typeAndDisposition (plan: DownloadPlan, meta: FileMetadata): readonly [contentType: string, disposition: string] {
  const name = plan.basename ?? meta.name
  const key = name ?? ''
  let entry = plan.headerCache.get(key)
  // a hit needs the same file type and charset too (a name served with another type is recomputed)
  if (entry === undefined || entry.contentType !== meta.contentType || entry.charset !== meta.charset) {
    if (plan.headerCache.size >= CACHE_LIMIT) plan.headerCache.clear()
    entry = {
      contentType: meta.contentType,
      charset: meta.charset,
      headers: [
        plan.contentType ?? contentType(plan.mimetype ?? fileContentType(meta) ?? guessMimetype(name === undefined ? undefined : safeBasename(name)), plan.charset ?? fileCharset(meta) ?? DEFAULT_CHARSET),
        plan.disposition ?? contentDisposition(name, { type: plan.dispositionType })
      ]
    }
    plan.headerCache.set(key, entry)
  }
  return entry.headers
}

function fileContentType (meta: FileMetadata): string | undefined {
  const value = meta.contentType
  if (value !== undefined && !(typeof value === 'string' && isMediaType(value))) {
    throw new InvalidFileField('contentType', `${JSON.stringify(value)} is not a media type`)
  }
  return value
}

function fileCharset (meta: FileMetadata): string | undefined {
  const value = meta.charset
  if (value !== undefined && !(typeof value === 'string' && isToken(value))) {
    throw new InvalidFileField('charset', `${JSON.stringify(value)} is not a charset name`)
  }
  return value
}

/** The response headers of a decision (RFC 9110 §8, §14, §15.4.5 for 304). */
export function responseHeaders (plan: DownloadPlan, meta: FileMetadata, decision: Decision): Record<string, string> {
  const headers: Record<string, string> = {}
  const { status } = decision
  if (status === 412) return headers
  if (decision.offload === true) {
    // no ETag, Last-Modified or Content-Length: those are the proxy's, from the file it sends
    const [type, disposition] = typeAndDisposition(plan, meta)
    headers['content-type'] = type
    headers['content-disposition'] = disposition
    if (plan.cacheControl !== undefined) headers['cache-control'] = plan.cacheControl
    return Object.assign(headers, meta.offload)
  }
  if (status === 416) {
    headers['content-range'] = `bytes */${meta.size as number}`
    headers['accept-ranges'] = 'bytes'
    return headers
  }
  // a 304 carries the validators and caching headers a 200 would (§15.4.5), not the content's
  if (status !== 304) {
    const [type, disposition] = typeAndDisposition(plan, meta)
    headers['content-type'] = type
    headers['content-disposition'] = disposition
    if (decision.range !== undefined) {
      const { start, end } = decision.range
      headers['content-length'] = String(end - start + 1)
      headers['content-range'] = `bytes ${start}-${end}/${meta.size as number}`
    } else if (meta.size !== undefined && decision.ranges === undefined) {
      // (multipart/byteranges: the body's type and length come with its layout, in serve.ts; the
      // Content-Type here is the parts' own)
      headers['content-length'] = String(meta.size)
    }
    if (plan.acceptRanges && meta.ranges) headers['accept-ranges'] = 'bytes'
  }
  if (meta.modifiedTime !== undefined) headers['last-modified'] = meta.modifiedTime.toUTCString()
  if (meta.etag !== undefined) headers.etag = meta.etag
  if (plan.cacheControl !== undefined) headers['cache-control'] = plan.cacheControl
  return headers
}
