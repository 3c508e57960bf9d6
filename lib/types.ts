import type { FastifyRequest } from 'fastify'
import type { DownloadEvent } from './events.js'

/** A slice of a file, inclusive at both ends, like HTTP's Range and fs.createReadStream. */
export interface ByteRange {
  start: number
  end: number
}

/** What a file wrapper's stream() may hand back: bytes in any of the shapes Node and the Web use. */
export type StreamContent =
  | NodeJS.ReadableStream
  | ReadableStream<Uint8Array>
  | AsyncIterable<Uint8Array | string>
  | Iterable<Uint8Array | string>
  | Uint8Array
  | string

/**
 * The file-wrapper protocol: anything with a stream() method can be downloaded.
 * Metadata fields are optional; a header is sent only for the fields that are present.
 */
export interface DownloadFile {
  /** e.g. 'reports/2026/hello-world.txt'; the client-side name is its basename. */
  readonly name?: string | undefined
  /** Content-Length; never computed by reading the content. */
  readonly size?: number | undefined
  /** Last-Modified, and the base of If-Modified-Since when wasModifiedSince is absent. */
  readonly modifiedTime?: Date | undefined
  /** ETag: 'abc', '"abc"' or 'W/"abc"'. */
  readonly etag?: string | undefined
  readonly contentType?: string | undefined
  readonly charset?: string | undefined
  /** True when stream(range) can serve a slice. */
  readonly acceptsRanges?: boolean | undefined
  /**
   * True when stream(range) may also be called once per part of a multipart/byteranges answer (in
   * order, each part's stream ended or destroyed before the next); else several ranges get a 200.
   */
  readonly acceptsMultipleRanges?: boolean | undefined
  /** Trusted for If-Modified-Since when present (a property, so a wrapper may hold undefined). */
  readonly wasModifiedSince?: ((since: Date) => boolean | Promise<boolean>) | undefined
  /** Awaited before anything else; may fill in the fields above. */
  open?(request: FastifyRequest, context: OpenContext): void | Promise<void>
  /**
   * Called once instead of stream() when no body is sent (HEAD, 304, 416, an error, a client gone
   * before the content started). May be async; a failure is logged and changes nothing of the answer.
   */
  close?(): void | Promise<void>
  stream(range?: ByteRange): StreamContent
}

/** What open() may want to know of the download besides the request. */
export interface OpenContext {
  /** The route answers Range (its acceptRanges option): a source that forwards Range asks for it only then. */
  readonly acceptRanges: boolean
  /** Aborted when the response is over (the client left) while open() runs: stop waiting then. */
  readonly signal: AbortSignal
}

/** Options shared by the plugin (as defaults), the route option, the route factory and the decorator. */
export interface DownloadOptions {
  /** `attachment` (true, the default) or `inline` (false) Content-Disposition. */
  attachment?: boolean | undefined
  /** Client-side file name; defaults to the basename of file.name. */
  basename?: string | undefined
  /** Content-Type without charset; defaults to file.contentType, else guessed from the basename. */
  mimetype?: string | undefined
  /** Charset of text-like types; defaults to file.charset, else utf-8. */
  charset?: string | undefined
  /** Cache-Control value, when given. */
  cacheControl?: string | undefined
  /** Honour Range when the file can serve a slice and its size is known (default true). */
  acceptRanges?: boolean | undefined
  /**
   * Most range-specs one request may send (default 16): more, and the Range header is ignored (a
   * full 200). Two or more ranges get a multipart/byteranges 206; 1 turns that off.
   */
  maxRanges?: number | undefined
  /**
   * Called once per response to a file when it is over, with what was delivered (also published on
   * the `fastify-downloadview:download` diagnostics channel). A throw is logged and changes nothing.
   */
  onDownloadEnd?: ((event: DownloadEvent) => void) | undefined
}

/** How on-disk files are found and validated: with DownloadOptions, a path download's options. */
export interface PathOptions {
  /** The directory paths are relative to, and confined to (by real path: no symlink out of it). */
  root?: string | undefined
  /** Paths with a segment starting with a dot: 'ignore' (404, the default), 'deny' (403) or 'allow'. */
  dotfiles?: 'allow' | 'deny' | 'ignore' | undefined
  /** Send @fastify/send's weak ETag (W/"size-mtime"); default true. */
  etag?: boolean | undefined
  /** Send Last-Modified from the file's mtime; default true. */
  lastModified?: boolean | undefined
  /** `Cache-Control: public, max-age=SECONDS` when `cacheControl` is not given: milliseconds, or a string such as '1d'. */
  maxAge?: number | string | undefined
  /** Adds `immutable` to the Cache-Control made from maxAge. */
  immutable?: boolean | undefined
}

/** The options of reply.pathDownload(), the pathDownload route option and pathDownloadRoute(). */
export interface PathDownloadOptions extends DownloadOptions, PathOptions {
  /** false: serve the file from the app even when the plugin's offload rules match it. */
  offload?: boolean | undefined
}

/** One offload rule: files under `source` (a file-system directory) are handed to the proxy at `destination`. */
export interface OffloadRule {
  /** An absolute file-system path; matches the resolved file path on path-segment boundaries. */
  source: string
  /** nginx: a URI prefix of an `internal` location; apache, lighttpd: a file-system path. */
  destination: string
}

/** nginx's X-Accel-* response headers, sent with every X-Accel-Redirect. */
export interface NginxOffloadOptions {
  /** X-Accel-Limit-Rate, bytes per second. */
  limitRate?: number | undefined
  /** X-Accel-Buffering: yes / no. */
  buffering?: boolean | undefined
  /** X-Accel-Expires, seconds, or 'off'. */
  expires?: number | 'off' | undefined
  /** X-Accel-Charset. */
  charset?: string | undefined
}

/** Reverse-proxy offload: matching on-disk files are answered with an internal redirect, the proxy sends them. */
export interface OffloadOptions {
  server: 'nginx' | 'apache' | 'lighttpd'
  /** Tried in order, the first match wins. */
  rules: readonly OffloadRule[]
  nginx?: NginxOffloadOptions | undefined
}

/** The plugin's options: defaults for every download, path options for path downloads, and offload. */
export interface FastifyDownloadViewOptions extends DownloadOptions, PathOptions {
  offload?: OffloadOptions | undefined
}
