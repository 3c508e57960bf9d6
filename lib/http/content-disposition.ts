import contentDispositionHeader from 'content-disposition'

export interface ContentDispositionOptions {
  /** 'attachment' (default): save as a file; 'inline': display in the browser when it can. */
  type?: 'attachment' | 'inline' | undefined
}

// RFC 6266 §4.3 leaves sanitizing the name to the recipient; clients differ, so it is cleaned here
// too. Replaced by '_' (ASCII, not a dot, valid on every file system): control characters (C0,
// DEL, C1), the double quote (curl ends the quoted name at the first one, ignoring quoted-pairs)
// and the bidirectional controls of UAX #9, with which 'invoice\u202Efdp.exe' shows as a PDF.
// '/' and '\' cannot be left after basename().
const UNSAFE = /[\p{Cc}"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu
const REPLACEMENT = '_'
// A lone surrogate is not text; percent-encoding it for filename* (RFC 8187 §3.2.1) would throw.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g
// '.', '..', ' . ', NBSP, U+3000: no file name (RFC 6266 §4.3: not to be taken as a path).
const NO_NAME = /^[\s.]*$/u
// The longest name most file systems take (ext4, APFS); a bound for the header too.
const MAX_BYTES = 255
// The last '.' and 1 to 16 characters (code points, so at most 65 bytes) after it.
const EXTENSION = /\.[^.]{1,16}$/u
// Printable ASCII that a decoded name may hold: not '"', '/' or '\'.
const SAFE_ASCII = /^(?!["/\\])[\x20-\x7e]$/
const MARKS = /\p{M}/gu
const LETTERS = /^[A-Za-z0-9 ]+$/
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' })

/** What follows the last `/` or `\`. */
export function basename (name: string): string {
  return name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1)
}

/**
 * The client-side name of a file name or path, safe to put in a header and to save: cleaned,
 * shortened to 255 UTF-8 bytes; '' when nothing usable is left.
 */
export function safeBasename (name: string): string {
  return usable(shorten(basename(name).replace(LONE_SURROGATE, '\uFFFD').replace(UNSAFE, REPLACEMENT)))
}

/**
 * A pure-ASCII stand-in for clients that ignore filename* (RFC 6266 §4.3), made from a cleaned
 * name: 'résumé.pdf' -> 'resume.pdf'; '_' when nothing usable is left.
 */
export function asciiFallback (name: string): string {
  let ascii = ''
  for (const { segment } of graphemes.segment(name)) ascii += asciiGrapheme(segment)
  return usable(shorten(ascii)) || REPLACEMENT
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

function usable (name: string): string {
  return NO_NAME.test(name) ? '' : name
}

// Kept as is when printable and safe; otherwise its compatibility decomposition (NFKD) without the
// marks ('é' -> 'e', 'ﬁ' -> 'fi') when only letters, digits and spaces are left, so that '＂', '／',
// '＼' or '‥' cannot turn back into '"', '/', '\' or '..'; else one '_' for the whole grapheme.
function asciiGrapheme (grapheme: string): string {
  if (SAFE_ASCII.test(grapheme)) return grapheme
  const letters = grapheme.normalize('NFKD').replace(MARKS, '')
  return LETTERS.test(letters) ? letters : REPLACEMENT
}

// At most MAX_BYTES of UTF-8: the start, cut at a grapheme boundary (UAX #29), then the extension.
function shorten (name: string): string {
  if (Buffer.byteLength(name) <= MAX_BYTES) return name
  let extension = EXTENSION.exec(name)?.[0] ?? ''
  // a dot inside a grapheme ('\u0600.') does not start an extension
  const split = name.length - extension.length
  if (extension !== '' && graphemes.segment(name).containing(split)?.index !== split) extension = ''
  let budget = MAX_BYTES - Buffer.byteLength(extension)
  let end = 0
  for (const { segment } of graphemes.segment(name.slice(0, name.length - extension.length))) {
    budget -= Buffer.byteLength(segment)
    if (budget < 0) break
    end += segment.length
  }
  const start = name.slice(0, end)
  // the cut must not make a '..' where the start meets the extension
  return extension === '' ? start : start.replace(/\.+$/, '') + extension
}
