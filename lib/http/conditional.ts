import type { IncomingHttpHeaders } from 'node:http'
import type { DownloadFile } from '../types.js'

// Conditional requests, evaluated in the order of RFC 9110 §13.2.2.

type Validators = Pick<DownloadFile, 'etag' | 'modifiedTime' | 'wasModifiedSince'>

// HTTP-date's three forms (RFC 9110 §5.6.7); Date.parse alone would take '1' for a date.
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/
const RFC850_DATE = /^[A-Z][a-z]{5,8}, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/

const ENTITY_TAG = /(?:W\/)?"[^"]*"/g

/** The entity-tags of an If-Match / If-None-Match list, or '*'. Junk between tags is skipped. */
function entityTags (value: string): string[] | '*' {
  if (value.trim() === '*') return '*'
  return value.match(ENTITY_TAG) ?? []
}

function opaque (tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag
}

/** Weak comparison (RFC 9110 §8.8.3.2): the opaque tags match, W/ or not. */
export function weakMatch (value: string, etag: string | undefined): boolean {
  const tags = entityTags(value)
  if (tags === '*') return true
  if (etag === undefined) return false
  const wanted = opaque(etag)
  return tags.some((tag) => opaque(tag) === wanted)
}

/** Strong comparison (RFC 9110 §8.8.3.2): both tags strong and identical. */
export function strongMatch (value: string, etag: string | undefined): boolean {
  const tags = entityTags(value)
  if (tags === '*') return true
  if (etag === undefined || etag.startsWith('W/')) return false
  return tags.includes(etag)
}

/** An HTTP-date (RFC 9110 §5.6.7), or undefined when the value is not one. */
export function parseHttpDate (value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  let time = NaN
  if (IMF_FIXDATE.test(value) || RFC850_DATE.test(value)) time = Date.parse(value)
  // asctime carries no zone; it is GMT, whatever the server's local zone
  else if (ASCTIME_DATE.test(value)) time = Date.parse(`${value} GMT`)
  return Number.isNaN(time) ? undefined : new Date(time)
}

/** Whole seconds: HTTP dates carry no more (RFC 9110 §5.6.7). */
export function seconds (date: Date): number {
  return Math.floor(date.getTime() / 1000)
}

/**
 * Has the file changed since `since`? The wrapper's own answer is trusted when it has one;
 * else modifiedTime decides at one-second precision; else the file counts as modified,
 * as django-downloadview does for generated content.
 */
export function modifiedSince (file: Validators, since: Date): boolean | Promise<boolean> {
  if (file.wasModifiedSince !== undefined) return file.wasModifiedSince(since)
  if (file.modifiedTime !== undefined) return seconds(file.modifiedTime) > seconds(since)
  return true
}

/** If-Match / If-Unmodified-Since (RFC 9110 §13.1.1, §13.1.4): true means 412 Precondition Failed. */
export function preconditionFailed (headers: IncomingHttpHeaders, file: Validators): boolean | Promise<boolean> {
  const ifMatch = headers['if-match']
  if (ifMatch !== undefined) return !strongMatch(ifMatch, file.etag)
  const since = parseHttpDate(headers['if-unmodified-since'])
  // Without a known modification time there is nothing to hold the date against.
  if (since === undefined || (file.modifiedTime === undefined && file.wasModifiedSince === undefined)) return false
  return modifiedSince(file, since)
}

/** If-None-Match / If-Modified-Since (RFC 9110 §13.1.2, §13.1.3): true means 304 Not Modified. */
export function notModified (headers: IncomingHttpHeaders, file: Validators): boolean | Promise<boolean> {
  const ifNoneMatch = headers['if-none-match']
  // §13.1.3: If-Modified-Since is ignored when If-None-Match is present.
  if (ifNoneMatch !== undefined) return weakMatch(ifNoneMatch, file.etag)
  const since = parseHttpDate(headers['if-modified-since'])
  if (since === undefined) return false
  const modified = modifiedSince(file, since)
  return typeof modified === 'boolean' ? !modified : modified.then((value) => !value)
}
