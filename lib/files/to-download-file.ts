import { InvalidFile, describe } from '../errors.js'
import type { DownloadFile } from '../types.js'
import { VirtualFile } from './virtual-file.js'

/** What getFile returned (a wrapper, a custom DownloadFile or a Web Blob/File) as a DownloadFile. */
export function toDownloadFile (value: unknown): DownloadFile {
  if (value instanceof Blob) return new VirtualFile(value)
  if (value !== null && typeof value === 'object' && typeof (value as Partial<DownloadFile>).stream === 'function') {
    return value as DownloadFile
  }
  throw new InvalidFile(describe(value))
}
