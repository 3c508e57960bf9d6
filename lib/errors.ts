import createError from '@fastify/error'

// Every error of the plugin, once, with a code (the Fastify core way).

/** Throw from getFile (or a route handler) when there is nothing to download: answers 404. */
export const FileNotFound = createError<'FST_DOWNLOADVIEW_FILE_NOT_FOUND', 404, []>(
  'FST_DOWNLOADVIEW_FILE_NOT_FOUND', 'File not found', 404)

/**
 * A path download refused: a `..` segment, or a dotfile under `dotfiles: 'deny'`: answers 403. The
 * message never holds the path.
 */
export const Forbidden = createError<'FST_DOWNLOADVIEW_FORBIDDEN', 403, []>(
  'FST_DOWNLOADVIEW_FORBIDDEN', 'Forbidden', 403)

/**
 * A remote file's upstream failed: refused or reset, too slow (the HTTPFile timeout), an answer
 * other than 200/206/416 (404 and 410 are FileNotFound), too many redirects. Answers 502; the
 * message never holds the URL (it may hold credentials), the upstream error is its cause.
 */
export const BadGateway = createError<'FST_DOWNLOADVIEW_BAD_GATEWAY', 502, [problem: string, options?: { cause: unknown }]>(
  'FST_DOWNLOADVIEW_BAD_GATEWAY', 'Bad gateway: %s', 502)

/** A path download got something that is not a path it can use (not a string; relative without root). */
export const InvalidPath = createError<'FST_DOWNLOADVIEW_INVALID_PATH', 500, [problem: string]>(
  'FST_DOWNLOADVIEW_INVALID_PATH', 'Invalid path: %s', 500, TypeError)

/** A DownloadOptions value (plugin, route or decorator) is wrong; thrown at definition time. */
export const InvalidOption = createError<'FST_DOWNLOADVIEW_INVALID_OPTION', 500, [name: string, problem: string]>(
  'FST_DOWNLOADVIEW_INVALID_OPTION', 'Invalid option "%s": %s', 500, TypeError)

/** getFile returned something that is neither a DownloadFile nor a Blob. */
export const InvalidFile = createError<'FST_DOWNLOADVIEW_INVALID_FILE', 500, [seen: string]>(
  'FST_DOWNLOADVIEW_INVALID_FILE', 'Expected a DownloadFile (an object with a stream() method) or a Blob, got %s', 500, TypeError)

/** A file wrapper's metadata cannot be put in a header (bad etag, content type...). */
export const InvalidFileField = createError<'FST_DOWNLOADVIEW_INVALID_FILE_FIELD', 500, [field: string, problem: string]>(
  'FST_DOWNLOADVIEW_INVALID_FILE_FIELD', 'Invalid file %s: %s', 500, TypeError)

/** Content that is read once (a stream, an iterator, an archive) was asked for a second time. */
export const ContentConsumed = createError<'FST_DOWNLOADVIEW_CONTENT_CONSUMED', 500, [kind?: string]>(
  'FST_DOWNLOADVIEW_CONTENT_CONSUMED', 'This %s can be read only once (a stream, an iterator, an archive), and was asked for a second time', 500)

/** The content produced a number of bytes other than the size the wrapper declared. */
export const SizeMismatch = createError<'FST_DOWNLOADVIEW_SIZE_MISMATCH', 500, [declared: number, seen: string]>(
  'FST_DOWNLOADVIEW_SIZE_MISMATCH', 'The file declared %s bytes, but its content produced %s', 500)

/** A stream content closed (destroyed without an error) before it ended. */
export const ContentClosed = createError<'FST_DOWNLOADVIEW_CONTENT_CLOSED', 500, []>(
  'FST_DOWNLOADVIEW_CONTENT_CLOSED', 'The content stream closed before it ended', 500)

/** TextIteratorIO / BytesIteratorIO got an item of the wrong type. */
export const InvalidIteratorItem = createError<'FST_DOWNLOADVIEW_INVALID_ITEM', 500, [reader: string, expected: string, seen: string]>(
  'FST_DOWNLOADVIEW_INVALID_ITEM', '%s expects %s items, got %s', 500, TypeError)

/** A ZipFile entry that cannot be archived: not { name, file }, or a refused name (empty, a directory, absolute, `..`). */
export const InvalidZipEntry = createError<'FST_DOWNLOADVIEW_INVALID_ZIP_ENTRY', 500, [entry: string, problem: string]>(
  'FST_DOWNLOADVIEW_INVALID_ZIP_ENTRY', 'Invalid ZIP entry %s: %s', 500, TypeError)

/** A route built by virtualDownloadRoute ran without the plugin registered in its context. */
export const NotRegistered = createError<'FST_DOWNLOADVIEW_NOT_REGISTERED', 500, []>(
  'FST_DOWNLOADVIEW_NOT_REGISTERED', 'fastify-downloadview is not registered in the context of this route; register it before defining the route', 500)

/** A file wrapper reached JSON serialization: the route's virtualDownload option was never applied. */
export const SerializedFile = createError<'FST_DOWNLOADVIEW_SERIALIZED_FILE', 500, [kind: string]>(
  'FST_DOWNLOADVIEW_SERIALIZED_FILE',
  'A %s was about to be sent as JSON: the route\'s virtualDownload option had no effect because fastify-downloadview was not registered in its context when the route was defined; register the plugin with `await app.register(...)` before defining such routes', 500)

/** A short description of a value for error messages: its type, or its class. */
export function describe (value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name
  return typeof name === 'string' && name !== '' ? `an instance of ${name}` : 'an object'
}
