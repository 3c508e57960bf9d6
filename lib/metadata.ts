import { InvalidFileField } from './errors.js'
import { toEntityTag } from './http/field-values.js'
import type { ByteRange, DownloadFile } from './types.js'

/** Where a file holds the redirect headers of a reverse-proxy offload (set by PathFile.open()). */
export const kOffload = Symbol('fastify-downloadview.offload')

/**
 * Where a file holds the answer its source already gave to the request's Range (a remote file's
 * upstream 206 or 416), which the decision then follows.
 */
export const kRangeAnswer = Symbol('fastify-downloadview.rangeAnswer')
/**
 * Where a file whose content cannot seek (a VirtualFile's factory without `seekable`) offers it whole
 * for a multipart answer: produced once, the parts cut from it in one pass.
 */
export const kOnePass = Symbol('fastify-downloadview.onePass')

/** The slice the source answered with, or 'unsatisfiable' (its 416). */
export type RangeAnswer = ByteRange | 'unsatisfiable'

/** A file's fields, read once after open() and checked, so every later stage can trust them. */
export interface FileMetadata {
  readonly name: string | undefined
  readonly size: number | undefined
  readonly modifiedTime: Date | undefined
  /** A valid entity-tag, quoted. */
  readonly etag: string | undefined
  readonly contentType: string | undefined
  readonly charset: string | undefined
  /** The file can serve a slice and its size is known. */
  readonly ranges: boolean
  /** ...and several, one after the other (multipart/byteranges). */
  readonly multipleRanges: boolean
  /** The internal-redirect headers of a file the reverse proxy sends (offload). */
  readonly offload: Record<string, string> | undefined
  /** The source's own answer to the Range (a remote file's upstream 206 or 416). */
  readonly rangeAnswer: RangeAnswer | undefined
}

export function readMetadata (file: DownloadFile): FileMetadata {
  const { name, size, modifiedTime, etag, contentType, charset } = file
  if (name !== undefined && typeof name !== 'string') throw new InvalidFileField('name', 'must be a string')
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
    throw new InvalidFileField('size', `must be a non-negative integer, got ${String(size)}`)
  }
  if (modifiedTime !== undefined && !(modifiedTime instanceof Date && !Number.isNaN(modifiedTime.getTime()))) {
    throw new InvalidFileField('modifiedTime', 'must be a valid Date')
  }
  let entityTag: string | undefined
  if (etag !== undefined) {
    entityTag = typeof etag === 'string' ? toEntityTag(etag) : undefined
    if (entityTag === undefined) throw new InvalidFileField('etag', `${JSON.stringify(etag)} is not an entity-tag`)
  }
  return {
    name,
    size,
    modifiedTime,
    etag: entityTag,
    contentType,
    charset,
    ranges: file.acceptsRanges === true && size !== undefined,
    multipleRanges: file.acceptsMultipleRanges === true,
    offload: (file as { [kOffload]?: Record<string, string> })[kOffload],
    rangeAnswer: (file as { [kRangeAnswer]?: RangeAnswer })[kRangeAnswer]
  }
}
