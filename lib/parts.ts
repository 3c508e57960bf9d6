// The body of a multipart/byteranges answer: the layout's heads and tail around the parts' bytes,
// streamed part after part from the file (RFC 9110 §14.6).
import { Readable } from 'node:stream'
import { toBody } from './files/content.js'
import type { MultipartLayout } from './http/multipart.js'
import { SlicesReadable, type OpenPart, type PartSource } from './io/slices.js'
import { kOnePass } from './metadata.js'
import type { ByteRange, DownloadFile, StreamContent } from './types.js'

type OnePass = () => StreamContent | Promise<StreamContent>

/**
 * The parts of `ranges` (ascending, apart) of `file`, laid out by `layout`. A file that offers its
 * content in one pass (kOnePass) is produced once: the gaps are skipped, and its producer stopped
 * after the last part. Any other file's stream(range) is called once per part, when its turn comes.
 */
export function multipartBody (file: DownloadFile, ranges: readonly ByteRange[], layout: MultipartLayout): Readable {
  const parts = ranges.map(({ start, end }, index) => ({ head: layout.heads[index] as Buffer, length: end - start + 1 }))
  const onePass = (file as { [kOnePass]?: () => OnePass | undefined })[kOnePass]?.()
  const open: OpenPart = onePass === undefined
    ? (index) => ({ content: toBody(file.stream(ranges[index])), skip: 0, exact: true })
    : onePassParts(onePass, ranges)
  return new SlicesReadable(parts, layout.tail, open)
}

function onePassParts (produce: OnePass, ranges: readonly ByteRange[]): OpenPart {
  let content: Readable | Buffer | string
  // bytes in memory are cut where each part starts; a stream reads on from the previous part's end
  const sourceOf = (index: number): PartSource => {
    const { start } = ranges[index] as ByteRange
    const skip = content instanceof Readable && index > 0 ? start - (ranges[index - 1] as ByteRange).end - 1 : start
    return { content, skip, exact: false }
  }
  return (index) => {
    if (index > 0) return sourceOf(index)
    const produced = produce()
    const first = (whole: StreamContent): PartSource => {
      content = toBody(whole)
      return sourceOf(0)
    }
    return produced instanceof Promise ? produced.then(first) : first(produced)
  }
}
