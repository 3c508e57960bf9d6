import rangeParser from 'range-parser'
import type { ByteRange, DownloadFile } from '../types.js'
import { parseHttpDate, seconds } from './conditional.js'

// One byte-range-spec (RFC 9110 §14.1.2): first-last, first-, or -suffix.
const RANGE_SPEC = /^\s*(?:(\d+)-(\d*)|-(\d+))\s*$/

/**
 * The Range header of a request against a file of `size` bytes (RFC 9110 §14.2):
 * one satisfiable range -> that range; no satisfiable range -> 'unsatisfiable';
 * anything else (another unit, several ranges, a malformed spec, an empty file) -> undefined:
 * ignore the header. Several ranges would need multipart/byteranges; a full 200 is the answer
 * RFC 9110 allows.
 */
export function parseRange (header: string, size: number): ByteRange | 'unsatisfiable' | undefined {
  // an empty file: a non-zero suffix is satisfiable (§14.1.1), yet no Content-Range can describe
  // a part of nothing (§14.4): the full, empty 200 answers every Range, valid or not (§14.2)
  if (size === 0) return undefined
  const equals = header.indexOf('=')
  // range units are case-insensitive (§14.1)
  if (equals === -1 || header.slice(0, equals).trim().toLowerCase() !== 'bytes') return undefined
  // empty list elements are allowed and skipped (§5.6.1)
  const specs = header.slice(equals + 1).split(',').filter((spec) => spec.trim() !== '')
  if (specs.length !== 1) return undefined
  const spec = specs[0] as string
  const match = RANGE_SPEC.exec(spec)
  if (match === null) return undefined
  const [, first, last, suffix] = match
  // first-pos greater than last-pos makes the whole header invalid, not unsatisfiable (§14.1.1)
  if (last !== undefined && last !== '' && Number(first) > Number(last)) return undefined
  // a suffix longer than the file means the whole file (§14.1.2); range-parser would refuse it
  const ranges = rangeParser(size, suffix !== undefined && Number(suffix) > size ? 'bytes=0-' : `bytes=${spec}`)
  if (typeof ranges === 'number') return 'unsatisfiable'
  const { start, end } = ranges[0] as rangeParser.Range
  return { start, end }
}

/**
 * Does If-Range allow a partial answer (RFC 9110 §13.1.5)? An entity-tag must match strongly;
 * a date must equal the file's modification time; anything else (a weak tag, junk) does not match.
 */
export function ifRangeMatches (value: string, file: Pick<DownloadFile, 'etag' | 'modifiedTime'>): boolean {
  const trimmed = value.trim()
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) {
    return file.etag !== undefined && !file.etag.startsWith('W/') && trimmed === file.etag
  }
  const date = parseHttpDate(trimmed)
  return date !== undefined && file.modifiedTime !== undefined && seconds(date) === seconds(file.modifiedTime)
}
