// The options of path downloads (on-disk files) and of the plugin, checked where they are given and
// resolved once per route into what @fastify/send and the pipeline need.
import { resolve } from 'node:path'
import { parse as parseDuration } from '@lukeed/ms'
import type { SendOptions } from '@fastify/send'
import { boolean, string, type Check } from './check-options.js'
import { describe } from './errors.js'
import { checkOffload, type Offloader } from './offload.js'
import { DOWNLOAD_CHECKS, optionSet, resolvePlan, type DownloadPlan } from './options.js'
import type { FastifyDownloadViewOptions, PathDownloadOptions, PathOptions } from './types.js'

/** @fastify/send's ceiling for max-age: one year. */
const MAX_AGE_LIMIT = 365 * 24 * 60 * 60 * 1000

const dotfiles: Check = (value) => value === 'allow' || value === 'deny' || value === 'ignore'
  ? undefined
  : `must be 'allow', 'deny' or 'ignore', got ${typeof value === 'string' ? JSON.stringify(value) : describe(value)}`

/** Milliseconds, or an `ms`-style duration ('1d', '2h') as @fastify/send takes it (its own parser). */
const maxAge: Check = (value) => {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? undefined : `must be a non-negative number of milliseconds, got ${value}`
  if (typeof value !== 'string') return `must be milliseconds or a duration such as "1d", got ${describe(value)}`
  const parsed = parseDuration(value)
  return parsed !== undefined && parsed >= 0 ? undefined : `must be milliseconds or a duration such as "1d", got ${JSON.stringify(value)}`
}

export const PATH_CHECKS = {
  root: string((value) => value !== '', 'a non-empty directory path'),
  dotfiles,
  etag: boolean,
  lastModified: boolean,
  maxAge,
  immutable: boolean
} satisfies Record<keyof PathOptions, Check>

/** reply.pathDownload(), the pathDownload route option, pathDownloadRoute(). */
export const PATH_DOWNLOAD_OPTIONS = optionSet({ ...DOWNLOAD_CHECKS, ...PATH_CHECKS, offload: boolean })
/** The plugin: defaults for every download, path defaults, and the offload rules. */
export const PLUGIN_OPTIONS = optionSet({ ...DOWNLOAD_CHECKS, ...PATH_CHECKS, offload: checkOffload })
export const PATH_OPTION_NAMES: readonly string[] = PATH_DOWNLOAD_OPTIONS.names

/** What a path download needs besides the DownloadPlan, resolved once per route. */
export interface PathPlan {
  /** Absolute; paths are relative to it and confined to its real path. */
  readonly root: string | undefined
  readonly send: SendOptions
  readonly etag: boolean
  readonly lastModified: boolean
  readonly offload: Offloader | undefined
}

/** `public, max-age=SECONDS[, immutable]` from maxAge / immutable, as @fastify/send writes it. */
function cacheControlOf (options: PathOptions): string | undefined {
  if (options.maxAge === undefined && options.immutable !== true) return undefined
  const ms = typeof options.maxAge === 'string' ? parseDuration(options.maxAge) as number : options.maxAge ?? 0
  const seconds = Math.floor(Math.min(ms, MAX_AGE_LIMIT) / 1000)
  return `public, max-age=${seconds}${options.immutable === true ? ', immutable' : ''}`
}

/** Route (or call) path options over the plugin's, both checked: the two plans of a path download. */
export function resolvePathPlan (defaults: FastifyDownloadViewOptions, overrides: PathDownloadOptions, offload: Offloader | undefined): { plan: DownloadPlan, path: PathPlan } {
  const options: PathDownloadOptions = { ...defaults, ...overrides, offload: overrides.offload }
  const root = options.root === undefined ? undefined : resolve(options.root)
  const etag = options.etag !== false
  const lastModified = options.lastModified !== false
  return {
    plan: resolvePlan({ ...options, cacheControl: options.cacheControl ?? cacheControlOf(options) }),
    path: {
      root,
      // send resolves, confines to root and applies dotfiles; this plugin decides and answers the rest
      send: { root, dotfiles: options.dotfiles ?? 'ignore', etag, lastModified: false, cacheControl: false, contentType: false, acceptRanges: false, index: false, extensions: false },
      etag,
      lastModified,
      offload: options.offload === false ? undefined : offload
    }
  }
}
