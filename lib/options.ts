import { boolean, func, integer, string, type Check } from './check-options.js'
import type { OnDownloadEnd } from './events.js'
import { InvalidOption, describe } from './errors.js'
import { contentDisposition } from './http/content-disposition.js'
import { contentType, DEFAULT_CHARSET } from './http/content-type.js'
import { isFieldValue, isMediaType, isToken } from './http/field-values.js'
import type { DownloadOptions } from './types.js'

/** Range-specs a request may send by default (RFC 9110 §14.2 lets a server ignore a Range with many). */
export const DEFAULT_MAX_RANGES = 16

/** DownloadOptions resolved for one route (or one plugin context): everything per-request work can reuse. */
export interface DownloadPlan {
  readonly dispositionType: 'attachment' | 'inline'
  readonly basename: string | undefined
  readonly mimetype: string | undefined
  readonly charset: string | undefined
  readonly cacheControl: string | undefined
  readonly acceptRanges: boolean
  readonly maxRanges: number
  readonly onDownloadEnd: OnDownloadEnd | undefined
  /** Content-Disposition when it does not depend on the file (basename given). */
  readonly disposition: string | undefined
  /** Content-Type when it does not depend on the file (mimetype given, with a charset when text-like). */
  readonly contentType: string | undefined
  /** Content-Type and Content-Disposition per file name (and the file type they were made for). */
  readonly headerCache: Map<string, HeaderCacheEntry>
}

export interface HeaderCacheEntry {
  readonly contentType: string | undefined
  readonly charset: string | undefined
  readonly headers: readonly [contentType: string, disposition: string]
}

export const DOWNLOAD_OPTION_NAMES = ['attachment', 'basename', 'mimetype', 'charset', 'cacheControl', 'acceptRanges', 'maxRanges', 'onDownloadEnd'] as const

export const DOWNLOAD_CHECKS = {
  attachment: boolean,
  basename: string((value) => value !== '', 'a non-empty file name'),
  mimetype: string(isMediaType, 'a media type such as "text/csv"'),
  charset: string(isToken, 'a charset name such as "utf-8"'),
  cacheControl: string(isFieldValue, 'a header value without control characters'),
  acceptRanges: boolean,
  maxRanges: integer(1, 'a positive integer'),
  onDownloadEnd: func
} satisfies Record<keyof DownloadOptions, Check>

/** The checks of one family of options, by name (a table without a prototype), and their names. */
export interface OptionSet {
  readonly checks: Partial<Record<string, Check>>
  readonly names: readonly string[]
}

/** An option set from a table of checks; the table loses its prototype ("toString" is no option). */
export function optionSet (checks: Record<string, Check>): OptionSet {
  return { checks: Object.setPrototypeOf({ ...checks }, null) as Partial<Record<string, Check>>, names: Object.keys(checks) }
}

export const DOWNLOAD_OPTIONS = optionSet(DOWNLOAD_CHECKS)

/**
 * Checks options where they are given (registration, route definition), so a mistake fails there
 * with the option's name, never at request time. `prefix` names where they come from; `ignore`
 * lists keys that belong to someone else (Fastify's register options, a route's own options).
 */
export function validateOptions<T extends object> (value: unknown, set: OptionSet, prefix = '', ignore: readonly string[] = []): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOption(prefix === '' ? 'options' : prefix.slice(0, -1), `must be an object, got ${describe(value)}`)
  }
  const options: Record<string, unknown> = {}
  for (const [key, option] of Object.entries(value)) {
    if (option === undefined || ignore.includes(key)) continue
    const check = set.checks[key]
    if (check === undefined) {
      throw new InvalidOption(prefix + key, `unknown option; known ones are ${set.names.join(', ')}`)
    }
    const problem = check(option)
    if (problem !== undefined) throw new InvalidOption(prefix + key, problem)
    options[key] = option
  }
  return options as T
}

/** DownloadOptions, checked. */
export function validateDownloadOptions (value: unknown, prefix = '', ignore: readonly string[] = []): DownloadOptions {
  return validateOptions<DownloadOptions>(value, DOWNLOAD_OPTIONS, prefix, ignore)
}

/** Route (or call) options over the plugin's defaults, resolved once. */
export function resolvePlan (defaults: DownloadOptions, overrides: DownloadOptions = {}): DownloadPlan {
  const options = { ...defaults, ...overrides }
  const dispositionType = options.attachment === false ? 'inline' : 'attachment'
  const { basename, mimetype, charset } = options
  return {
    dispositionType,
    basename,
    mimetype,
    charset,
    cacheControl: options.cacheControl,
    acceptRanges: options.acceptRanges !== false,
    maxRanges: options.maxRanges ?? DEFAULT_MAX_RANGES,
    onDownloadEnd: options.onDownloadEnd,
    disposition: basename === undefined ? undefined : contentDisposition(basename, { type: dispositionType }),
    // with a charset of its own, or a type that takes none, the file cannot change Content-Type
    contentType: mimetype !== undefined && (charset !== undefined || contentType(mimetype, DEFAULT_CHARSET) === mimetype)
      ? contentType(mimetype, charset ?? DEFAULT_CHARSET)
      : undefined,
    headerCache: new Map()
  }
}
