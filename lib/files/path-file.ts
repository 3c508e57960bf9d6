// An on-disk file as one more DownloadFile. @fastify/send resolves the path, confines it to root,
// applies the dotfiles rule and supplies the stat and its ETag; the pipeline decides conditionals,
// ranges and HEAD like for every file, and stream() reads only the bytes it is asked for.
import { createReadStream, realpathSync } from 'node:fs'
import { realpath } from 'node:fs/promises'
import { isAbsolute, sep } from 'node:path'
import type { Readable } from 'node:stream'
import send from '@fastify/send'
import { FileNotFound, Forbidden, InvalidPath, describe } from '../errors.js'
import { kOffload } from '../metadata.js'
import type { PathPlan } from '../path-options.js'
import type { ByteRange, DownloadFile } from '../types.js'

// send reads only `method` and `headers`: a HEAD without conditions makes it stat, and open nothing
const STAT_ONLY = { method: 'HEAD', headers: {} } as unknown as Readable

/** A `..` segment, between slashes or backslashes, or at either end. */
const UP_SEGMENT = /(?:^|[\\/])\.\.(?:[\\/]|$)/

/** `inner` lies under the directory `outer` (both real, absolute paths; `/` ends with its separator). */
const inside = (inner: string, outer: string): boolean => inner.startsWith(outer.endsWith(sep) ? outer : outer + sep)

export class PathFile implements DownloadFile {
  name: string | undefined
  size: number | undefined
  modifiedTime: Date | undefined
  etag: string | undefined
  readonly acceptsRanges = true
  readonly acceptsMultipleRanges = true;
  [kOffload]: Record<string, string> | undefined
  readonly #path: string
  readonly #plan: PathPlan
  /** The real path, checked; what stream() reads. */
  #real = ''
  /** The whole file as stat'ed (none for an empty file). */
  #whole: ByteRange | undefined

  /** `path` is a file-system path, never URL-decoded: with root, relative to it; without, absolute. */
  constructor (path: string, plan: PathPlan) {
    this.#path = path
    this.#plan = plan
    // the last segment of the path as given (the pipeline's names take the part after the last / or \)
    this.name = path
  }

  async open (): Promise<void> {
    const path = this.#path
    const { root } = this.#plan
    if (root === undefined && !isAbsolute(path)) throw new InvalidPath('without the root option, a path must be absolute')
    // any `..` segment is refused, even one that stays inside root (send would normalize `a/../b`
    // first when it has a root); the path is never decoded, so the literal test is the whole test
    if (UP_SEGMENT.test(path)) throw new Forbidden()
    // trailing slashes name a directory, no file: send sees the path without them (so a denied
    // dotfile is still a 403), the answer is a 404 (send would redirect or look for an index)
    const bare = path.replace(/\/+$/, '')
    // send percent-decodes what it is handed; a path is never decoded again, so its % go escaped
    const result = await send(STAT_ONLY, bare.replaceAll('%', '%25'), this.#plan.send)
    if (result.type !== 'file') {
      // 403: a dotfile under 'deny'; anything else (missing, malformed, a directory): 404
      throw result.statusCode === 403 ? new Forbidden() : new FileNotFound()
    }
    if (bare !== path) throw new FileNotFound()
    const { stat, path: resolved } = result.metadata
    if (!stat.isFile()) throw new FileNotFound()
    // synchronous: the stat has just walked the same path, its entries are in the kernel's cache
    // (a few µs here, where a thread-pool round trip costs 30+; BENCHMARKS.md, section 6)
    const real = realPathOf(resolved)
    if (real === undefined) throw new FileNotFound()
    // send confines the path as written; a symlink may still lead out of root: its real path may not.
    // Without a symlink on the way (the real path is the path), send's confinement is the answer.
    if (root !== undefined && real !== resolved && !inside(real, await realpath(root))) throw new FileNotFound()
    this.#real = real
    this.size = stat.size
    this.#whole = stat.size > 0 ? { start: 0, end: stat.size - 1 } : undefined
    if (this.#plan.lastModified) this.modifiedTime = stat.mtime
    if (this.#plan.etag) this.etag = result.headers.ETag
    this[kOffload] = this.#plan.offload?.(resolved)
  }

  stream (range?: ByteRange): Readable {
    // the whole file is the bytes stat'ed: a file still growing (a log) is sent as it was when the
    // headers were decided, not reset for outgrowing its Content-Length; a shorter one still fails
    return createReadStream(this.#real, range ?? this.#whole)
  }
}

function realPathOf (path: string): string | undefined {
  try {
    return realpathSync.native(path)
  } catch {
    return undefined
  }
}

/** What a pathDownload handler, getPath or reply.pathDownload() was given, as a PathFile. */
export function toPathFile (path: unknown, plan: PathPlan): PathFile {
  if (typeof path !== 'string') throw new InvalidPath(`expected a file-system path (a string), got ${describe(path)}`)
  return new PathFile(path, plan)
}
