import { anyString, checkOptions, optionChecks, validDate } from '../check-options.js'
import { textEncoding, ENCODING_NAMES, UTF8 } from '../encoding.js'
import { CheckedOptions, VirtualFile } from './virtual-file.js'

export interface ContentFileOptions {
  name?: string | undefined
  modifiedTime?: Date | undefined
  etag?: string | undefined
  contentType?: string | undefined
  /** Encodes string content, and is the charset (default utf-8). */
  encoding?: string | undefined
}

// no size (it is the content's), no charset (it is the encoding's), no wasModifiedSince
const OPTIONS = optionChecks<ContentFileOptions>('ContentFile', {
  name: anyString,
  modifiedTime: validDate,
  etag: anyString,
  contentType: anyString,
  encoding: anyString
})

/** In-memory content, like Django's ContentFile: size known, served in ranges. */
export class ContentFile extends VirtualFile {
  constructor (content: string | Uint8Array, options: ContentFileOptions = {}) {
    checkOptions(OPTIONS, options)
    const encoding = options.encoding === undefined ? UTF8 : textEncoding(options.encoding)
    if (encoding === undefined) {
      throw new TypeError(`ContentFile: unknown encoding ${JSON.stringify(options.encoding)}; use one of ${ENCODING_NAMES.join(', ')}`)
    }
    if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
      throw new TypeError('ContentFile: content must be a string or a Uint8Array')
    }
    // VirtualFile keeps UTF-8 text as a string: no bytes to make until a range is asked for
    super(typeof content === 'string' && encoding !== UTF8 ? Buffer.from(content, encoding.node) : content,
      new CheckedOptions(options.name, options.modifiedTime, options.etag, options.contentType, encoding.charset))
  }
}
