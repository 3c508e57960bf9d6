// The layout of a multipart/byteranges body (RFC 9110 §14.6, with RFC 2046 §5.1.1's delimiters):
// every part's header block and the closing delimiter, as bytes, and the body's exact length, known
// before any byte of content is read. Pure: the parts' content goes between the blocks.
import { randomUUID } from 'node:crypto'
import type { ByteRange } from '../types.js'

export interface MultipartLayout {
  /** `multipart/byteranges; boundary=...`: the response's Content-Type. */
  readonly contentType: string
  /** Before each part's content: its delimiter and header fields, then the empty line. */
  readonly heads: readonly Buffer[]
  /** After the last part's content: the close delimiter. */
  readonly tail: Buffer
  /** The whole body's length in bytes: the response's Content-Length. */
  readonly length: number
}

/**
 * A boundary (RFC 2046 §5.1.1: 1 to 70 characters of bchars, not ending with a space) that no
 * content holds by chance: 122 random bits per response.
 */
export function newBoundary (): string {
  return randomUUID()
}

/**
 * The layout of `ranges` (two or more, ascending, disjoint) of a `size`-byte file whose 200 would
 * carry `contentType`. The CRLF before each delimiter belongs to the delimiter (RFC 2046 §5.1.1),
 * so a part's content is sent as is, and the first delimiter needs none.
 */
export function multipartLayout (ranges: readonly ByteRange[], size: number, contentType: string, boundary: string): MultipartLayout {
  let length = 0
  const heads = ranges.map(({ start, end }, index) => {
    const head = Buffer.from(`${index === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: bytes ${start}-${end}/${size}\r\n\r\n`, 'latin1')
    length += head.length + end - start + 1
    return head
  })
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1')
  return { contentType: `multipart/byteranges; boundary=${boundary}`, heads, tail, length: length + tail.length }
}
