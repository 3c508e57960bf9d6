import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import type { Downloadable } from './entry-points.js'
import { downloadRouteHook, virtualDownloadDecorator } from './entry-points.js'
import { compileOffload } from './offload.js'
import { validateOptions } from './options.js'
import { pathDownloadDecorator } from './path-entry-points.js'
import { PLUGIN_OPTIONS } from './path-options.js'
import type { DownloadOptions, FastifyDownloadViewOptions, PathDownloadOptions } from './types.js'

// Options Fastify itself may pass along with the plugin's own.
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers']

// async, so that a bad option rejects register() instead of throwing out of avvio
const plugin: FastifyPluginAsync<FastifyDownloadViewOptions> = async (fastify, options) => {
  const defaults = validateOptions<FastifyDownloadViewOptions>(options, PLUGIN_OPTIONS, '', REGISTER_OPTIONS)
  const offload = defaults.offload === undefined ? undefined : compileOffload(defaults.offload)
  fastify.decorateReply('virtualDownload', virtualDownloadDecorator(defaults))
  fastify.decorateReply('pathDownload', pathDownloadDecorator(defaults, offload))
  fastify.addHook('onRoute', downloadRouteHook(defaults, offload))
}

export const fastifyDownloadView = fp(plugin, { fastify: '5.x', name: 'fastify-downloadview' })
export default fastifyDownloadView

export {
  FileNotFound, InvalidOption, InvalidFile, InvalidFileField, ContentConsumed, SizeMismatch, ContentClosed,
  InvalidIteratorItem, NotRegistered, SerializedFile, Forbidden, InvalidPath, BadGateway, InvalidZipEntry
} from './errors.js'
export { VirtualFile, type VirtualContent, type VirtualFileOptions, type ContentFactory, type FactoryFileOptions } from './files/virtual-file.js'
export { ContentFile, type ContentFileOptions } from './files/content-file.js'
export { HTTPFile, type HTTPFileOptions } from './files/http-file.js'
export { ZipFile, type ZipFileOptions, type ZipEntry } from './files/zip-file.js'
export { TextIteratorIO, type TextIteratorIOOptions } from './io/text-iterator-io.js'
export { BytesIteratorIO, type BytesIteratorIOOptions } from './io/bytes-iterator-io.js'
export { virtualDownloadRoute, type VirtualDownloadRouteOptions, type GetFile, type Downloadable } from './entry-points.js'
export { DOWNLOAD_CHANNEL, type DownloadEvent, type OnDownloadEnd } from './events.js'
export { contentDisposition, type ContentDispositionOptions } from './http/content-disposition.js'
export { pathDownloadRoute, type PathDownloadRouteOptions, type GetPath, type GetPathResult } from './path-entry-points.js'
export type {
  ByteRange, DownloadFile, DownloadOptions, OpenContext, StreamContent, PathOptions, PathDownloadOptions, OffloadOptions, OffloadRule,
  NginxOffloadOptions, FastifyDownloadViewOptions
} from './types.js'

declare module 'fastify' {
  interface FastifyReply {
    /** Sends a file wrapper (or a Web Blob/File) as a download; returns the reply. */
    virtualDownload(file: Downloadable, options?: DownloadOptions): FastifyReply
    /** Sends an on-disk file as a download (@fastify/send resolves and confines it); returns the reply. */
    pathDownload(path: string, options?: PathDownloadOptions): FastifyReply
  }
  interface RouteShorthandOptions {
    /** The handler returns the file (getFile); true means the plugin's defaults. */
    virtualDownload?: boolean | DownloadOptions
    /** The handler returns a file-system path (getPath); true means the plugin's defaults. */
    pathDownload?: boolean | PathDownloadOptions
  }
}
