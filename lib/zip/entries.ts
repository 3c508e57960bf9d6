// What an archive's entry may be: `{ name, file }`, a name that extracts inside the target
// directory (no "zip slip") and names a file, and a DownloadFile (a Blob is wrapped as one).
import { InvalidZipEntry, describe } from '../errors.js'
import { VirtualFile } from '../files/virtual-file.js'
import type { DownloadFile } from '../types.js'

/** One file of a ZipFile: its path inside the archive, and the file. */
export interface ZipEntry {
  /** 'reports/2026/summary.csv': `/`-separated (`\` counts as `/`), relative, without `..`. */
  name: string
  file: DownloadFile | Blob
}

/** An entry checked: its name as stored (`/` only), its file a DownloadFile. */
export interface CheckedEntry {
  readonly name: string
  readonly file: DownloadFile
}

/** A drive letter: `C:x` is absolute on Windows, whatever follows the colon. */
const DRIVE = /^[a-zA-Z]:/
/** The longest name a ZIP record holds (its length field has 16 bits). */
const MAX_NAME_BYTES = 0xffff

/** Why a name (with `\` already made `/`) is refused, or undefined when it is fine. */
function refusal (name: string): string | undefined {
  if (name === '') return 'an empty name'
  if (name.endsWith('/')) return 'a name ending with "/" names a directory, not a file'
  if (name.startsWith('/') || DRIVE.test(name)) return 'an absolute name'
  if (name.split('/').includes('..')) return 'a ".." segment'
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) return `a name longer than ${MAX_NAME_BYTES} bytes in UTF-8`
  return undefined
}

/** How an entry is named in an error: its place, and its name, cut short. */
function which (index: number, name?: string): string {
  if (name === undefined) return `#${index + 1}`
  return `#${index + 1} ${JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}…` : name)}`
}

/** Entry `index` (from 0) of an archive, checked; an InvalidZipEntry (a TypeError) says what is wrong. */
export function checkEntry (value: unknown, index: number): CheckedEntry {
  if (value === null || typeof value !== 'object') throw new InvalidZipEntry(which(index), `must be an object { name, file }, got ${describe(value)}`)
  const { name, file } = value as Partial<ZipEntry>
  if (typeof name !== 'string') throw new InvalidZipEntry(which(index), `its name must be a string, got ${describe(name)}`)
  // `\` counts as `/` (a Windows path): checked, and stored, as `/`
  const stored = name.replaceAll('\\', '/')
  const refused = refusal(stored)
  if (refused !== undefined) throw new InvalidZipEntry(which(index, name), `refused: ${refused}`)
  if (file instanceof Blob) return { name: stored, file: new VirtualFile(file) }
  if (file === null || typeof file !== 'object' || typeof (file as Partial<DownloadFile>).stream !== 'function') {
    throw new InvalidZipEntry(which(index, name), `its file must be a DownloadFile (an object with a stream() method) or a Blob, got ${describe(file)}`)
  }
  return { name: stored, file: file as DownloadFile }
}
