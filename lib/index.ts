import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Downloadable } from './entry-points.js'
import { virtualDownloadDecorator, virtualDownloadRouteHook } from './entry-points.js'
import { validateDownloadOptions } from './options.js'
import type { DownloadOptions } from './types.js'

export type FastifyDownloadViewOptions = DownloadOptions

// Options Fastify itself may pass along with the plugin's own.
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers']

// async, so that a bad option rejects register() instead of throwing out of avvio
const plugin: FastifyPluginAsync<FastifyDownloadViewOptions> = async (fastify, options) => {
  const defaults = validateDownloadOptions(options, '', REGISTER_OPTIONS)
  fastify.decorateReply('virtualDownload', virtualDownloadDecorator(defaults))
  fastify.addHook('onRoute', virtualDownloadRouteHook(defaults))
}

export const fastifyDownloadView = fp(plugin, { fastify: '5.x', name: 'fastify-downloadview' })
export default fastifyDownloadView

export {
  FileNotFound, InvalidOption, InvalidFile, InvalidFileField, ContentConsumed, SizeMismatch, ContentClosed,
  InvalidIteratorItem, NotRegistered, SerializedFile
} from './errors.js'
export { VirtualFile, type VirtualContent, type VirtualFileOptions } from './files/virtual-file.js'
export { ContentFile, type ContentFileOptions } from './files/content-file.js'
export { TextIteratorIO, type TextIteratorIOOptions } from './io/text-iterator-io.js'
export { BytesIteratorIO, type BytesIteratorIOOptions } from './io/bytes-iterator-io.js'
export { virtualDownloadRoute, type VirtualDownloadRouteOptions, type GetFile, type Downloadable } from './entry-points.js'
export { contentDisposition, type ContentDispositionOptions } from './http/content-disposition.js'
export type { ByteRange, DownloadFile, DownloadOptions, StreamContent } from './types.js'

declare module 'fastify' {
  interface FastifyReply {
    /** Sends a file wrapper (or a Web Blob/File) as a download; returns the reply. */
    virtualDownload(file: Downloadable, options?: DownloadOptions): FastifyReply
  }
  interface RouteShorthandOptions {
    /** The handler returns the file (getFile); true means the plugin's defaults. */
    virtualDownload?: boolean | DownloadOptions
  }
}
