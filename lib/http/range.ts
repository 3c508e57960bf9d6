import rangeParser from 'range-parser'
import type { ByteRange, DownloadFile } from '../types.js'
import { parseHttpDate, seconds } from './conditional.js'

// One byte-range-spec (RFC 9110 §14.1.2): first-last, first-, or -suffix.
const RANGE_SPEC = /^\s*(?:(\d+)-(\d*)|-(\d+))\s*$/

/**
 * Ranges closer than this are sent as one: a part's headers cost about as much as the bytes
 * between them, and a client gains nothing from many tiny parts (RFC 9110 §14.2 lets a server
 * coalesce; 80 bytes is Go's net/http choice, too).
 */
export const COALESCE_GAP = 80

/**
 * The Range header of a request against a file of `size` bytes (RFC 9110 §14.2), as the ranges to
 * send: satisfiable ones, coalesced (overlapping or fewer than 80 bytes apart) and ascending;
 * 'unsatisfiable' when none is satisfiable; undefined when the header is to be ignored (another
 * unit, a malformed or invalid spec anywhere in it, more than `maxRanges` specs, an empty file).
 */
export function parseRanges (header: string, size: number, maxRanges: number): readonly ByteRange[] | 'unsatisfiable' | undefined {
  // an empty file: a non-zero suffix is satisfiable (§14.1.1), yet no Content-Range can describe
  // a part of nothing (§14.4): the full, empty 200 answers every Range, valid or not (§14.2)
  if (size === 0) return undefined
  const equals = header.indexOf('=')
  // range units are case-insensitive (§14.1)
  if (equals === -1 || header.slice(0, equals).trim().toLowerCase() !== 'bytes') return undefined
  // empty list elements are allowed and skipped (§5.6.1); the specs are counted as sent, before
  // any is dropped or coalesced, so a flood of tiny ranges costs nothing (§14.2: a server may ignore)
  const specs = header.slice(equals + 1).split(',').filter((spec) => spec.trim() !== '')
  if (specs.length === 0 || specs.length > maxRanges) return undefined
  const ranges: ByteRange[] = []
  for (const spec of specs) {
    const match = RANGE_SPEC.exec(spec)
    if (match === null) return undefined
    const [, first, last, suffix] = match
    // first-pos greater than last-pos makes the whole header invalid, not unsatisfiable (§14.1.1)
    if (last !== undefined && last !== '' && Number(first) > Number(last)) return undefined
    // a suffix longer than the file means the whole file (§14.1.2); range-parser would refuse it
    const parsed = rangeParser(size, suffix !== undefined && Number(suffix) > size ? 'bytes=0-' : `bytes=${spec}`)
    // an unsatisfiable spec is dropped (§14.1.1: satisfiable if any of them is)
    if (typeof parsed === 'number') continue
    const { start, end } = parsed[0] as rangeParser.Range
    ranges.push({ start, end })
  }
  if (ranges.length === 0) return 'unsatisfiable'
  return ranges.length === 1 ? ranges : coalesce(ranges)
}

/** Ranges sorted ascending, those that overlap or lie fewer than COALESCE_GAP bytes apart merged. */
function coalesce (ranges: ByteRange[]): ByteRange[] {
  ranges.sort((a, b) => a.start - b.start)
  const merged: ByteRange[] = [ranges[0] as ByteRange]
  for (let i = 1; i < ranges.length; i++) {
    const range = ranges[i] as ByteRange
    const previous = merged[merged.length - 1] as ByteRange
    if (range.start - previous.end - 1 < COALESCE_GAP) previous.end = Math.max(previous.end, range.end)
    else merged.push(range)
  }
  return merged
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
