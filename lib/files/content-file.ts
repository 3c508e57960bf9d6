import { textEncoding, ENCODING_NAMES, UTF8 } from '../encoding.js'
import { VirtualFile } from './virtual-file.js'

export interface ContentFileOptions {
  name?: string
  modifiedTime?: Date
  etag?: string
  contentType?: string
  /** Encodes string content, and is the charset (default utf-8). */
  encoding?: string
}

/** In-memory content, like Django's ContentFile: size known, served in ranges. */
export class ContentFile extends VirtualFile {
  constructor (content: string | Uint8Array, options: ContentFileOptions = {}) {
    const encoding = options.encoding === undefined ? UTF8 : textEncoding(options.encoding)
    if (encoding === undefined) {
      throw new TypeError(`ContentFile: unknown encoding ${JSON.stringify(options.encoding)}; use one of ${ENCODING_NAMES.join(', ')}`)
    }
    if (typeof content !== 'string' && !(content instanceof Uint8Array)) {
      throw new TypeError('ContentFile: content must be a string or a Uint8Array')
    }
    // VirtualFile keeps UTF-8 text as a string: no bytes to make until a range is asked for
    super(typeof content === 'string' && encoding !== UTF8 ? Buffer.from(content, encoding.node) : content, {
      name: options.name,
      modifiedTime: options.modifiedTime,
      etag: options.etag,
      contentType: options.contentType,
      charset: encoding.charset
    })
  }
}
