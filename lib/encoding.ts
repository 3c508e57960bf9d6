// Text encodings a string can be turned into bytes with, and the charset name each goes by in
// Content-Type (IANA names). Node's other encodings (base64, hex) are not text encodings.

export interface TextEncoding {
  /** Node's name, for Buffer.from(string, encoding). */
  readonly node: BufferEncoding
  /** The IANA charset, for `; charset=`. */
  readonly charset: string
}

export const UTF8: TextEncoding = { node: 'utf8', charset: 'utf-8' }
const UTF16LE: TextEncoding = { node: 'utf16le', charset: 'utf-16le' }
const LATIN1: TextEncoding = { node: 'latin1', charset: 'iso-8859-1' }
const ASCII: TextEncoding = { node: 'ascii', charset: 'us-ascii' }

const ENCODINGS = new Map<string, TextEncoding>([
  ['utf8', UTF8], ['utf-8', UTF8],
  ['utf16le', UTF16LE], ['utf-16le', UTF16LE], ['ucs2', UTF16LE], ['ucs-2', UTF16LE],
  ['latin1', LATIN1], ['binary', LATIN1], ['iso-8859-1', LATIN1],
  ['ascii', ASCII], ['us-ascii', ASCII]
])

export const ENCODING_NAMES = [...ENCODINGS.keys()]

/** The text encoding called `name` (case-insensitive), or undefined. */
export function textEncoding (name: string): TextEncoding | undefined {
  return ENCODINGS.get(name.toLowerCase())
}
