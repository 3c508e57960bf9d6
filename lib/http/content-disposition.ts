import contentDispositionHeader from 'content-disposition'

export interface ContentDispositionOptions {
  /** 'attachment' (default): save as a file; 'inline': display in the browser when it can. */
  type?: 'attachment' | 'inline'
}

// Control characters (C0, DEL, C1) and the double quote are replaced: none of them may survive in
// the name a client decodes, whatever the client's parser (RFC 6266 §4.3 leaves sanitizing to it).
const UNSAFE = /[\u0000-\u001f"\u007f-\u009f]/g
// A lone surrogate is not text; percent-encoding it for filename* would throw.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
const COMBINING_MARKS = /\p{M}/gu
const NON_ASCII_PRINTABLE = /[^\x20-\x7e]/g

/** What follows the last `/` or `\`. */
export function basename (name: string): string {
  return name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1)
}

/** The client-side name of a file name or path, safe to put in a header; '' when nothing is left. */
export function safeBasename (name: string): string {
  return basename(name).replace(UNSAFE, '_').replace(LONE_SURROGATE, '\uFFFD')
}

/** A pure-ASCII stand-in for clients that ignore filename* (RFC 6266 §4.3): 'résumé.pdf' -> 'resume.pdf'. */
export function asciiFallback (name: string): string {
  return name.normalize('NFKD').replace(COMBINING_MARKS, '').replace(NON_ASCII_PRINTABLE, '_')
}

/**
 * The Content-Disposition header for a file name (RFC 6266): `attachment; filename="a.txt"`.
 * A non-ASCII name also gets `filename*=UTF-8''...` (RFC 8187) next to an ASCII `filename`.
 * No name (or nothing left of it) gives the bare type.
 */
export function contentDisposition (filename?: string, options: ContentDispositionOptions = {}): string {
  const type = options.type ?? 'attachment'
  const name = filename === undefined ? '' : safeBasename(filename)
  if (name === '') return type
  return contentDispositionHeader(name, { type, fallback: asciiFallback(name) })
}
