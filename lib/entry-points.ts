import type {
  ContextConfigDefault, FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, FastifyTypeProvider,
  FastifyTypeProviderDefault, HTTPMethods, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerBase,
  RawServerDefault, RouteGenericInterface, RouteOptions
} from 'fastify'
import { FileNotFound, InvalidOption, NotRegistered, describe } from './errors.js'
import { DOWNLOAD_OPTION_NAMES, resolvePlan, validateDownloadOptions, type DownloadPlan } from './options.js'
import { serve } from './serve.js'
import type { DownloadFile, DownloadOptions } from './types.js'

/** What getFile (or a virtualDownload route's handler) may return. */
export type Downloadable = DownloadFile | Blob

/**
 * Returns the file; null or undefined answers 404; returning the reply means getFile answered itself.
 * Generic over the route (params, querystring...) and, like Fastify's own handlers, over the server
 * (HTTP/1, HTTPS, HTTP/2), its logger and its type provider.
 */
export type GetFile<
  RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
  RawServer extends RawServerBase = RawServerDefault,
  RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
  RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
  ContextConfig = ContextConfigDefault,
  SchemaCompiler extends FastifySchema = FastifySchema,
  TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
  Logger extends FastifyBaseLogger = FastifyBaseLogger
> = (
  this: FastifyInstance<RawServer, RawRequest, RawReply, Logger, TypeProvider>,
  request: FastifyRequest<RouteGeneric, RawServer, RawRequest, SchemaCompiler, TypeProvider, ContextConfig, Logger>,
  reply: FastifyReply<RouteGeneric, RawServer, RawRequest, RawReply, ContextConfig, SchemaCompiler, TypeProvider>
) => GetFileResult | Promise<GetFileResult>

/** Any server's reply counts: getFile answered on its own. */
export type GetFileResult = Downloadable | { readonly sent: boolean, readonly raw: unknown, send (payload?: unknown): unknown } | null | undefined

// ---- 1. the reply decorator ------------------------------------------------------------------

/** reply.virtualDownload(file, options?): options given per call are checked and resolved per call. */
export function virtualDownloadDecorator (defaults: DownloadOptions) {
  const plan = resolvePlan(defaults)
  return function virtualDownload (this: FastifyReply, file: Downloadable, options?: DownloadOptions): FastifyReply {
    return serve(this, file, options === undefined ? plan : resolvePlan(defaults, validateDownloadOptions(options)))
  }
}

// ---- 2. the route option ---------------------------------------------------------------------

const kGetFile = Symbol('fastify-downloadview.getFile')
type MarkedHandler = RouteOptions['handler'] & { [kGetFile]?: GetFile }

/** The onRoute hook: a route with `virtualDownload` gets its handler (getFile) wrapped in the core. */
export function virtualDownloadRouteHook (defaults: DownloadOptions) {
  return function onRoute (routeOptions: RouteOptions): void {
    const option = routeOptions.virtualDownload
    if (option === undefined || option === false) return
    if (option !== true && (option === null || typeof option !== 'object')) {
      throw new InvalidOption('virtualDownload', `must be true, false or DownloadOptions, got ${describe(option)} (route ${routeOptions.url})`)
    }
    const plan = resolvePlan(defaults, option === true ? {} : validateDownloadOptions(option, 'virtualDownload.'))
    const handler = routeOptions.handler as MarkedHandler
    routeOptions.handler = downloadHandler(handler[kGetFile] ?? handler as unknown as GetFile, plan)
  }
}

function downloadHandler (getFile: GetFile, plan: DownloadPlan) {
  return function handler (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    const file = getFile.call(this, request, reply)
    if (file instanceof Promise) return file.then((file) => deliver(reply, file, plan))
    return deliver(reply, file, plan)
  }
}

function deliver (reply: FastifyReply, file: GetFileResult, plan: DownloadPlan): FastifyReply {
  // getFile answered on its own (reply.send, reply.redirect...)
  if (file === reply || reply.sent) return reply
  if (file === null || file === undefined) throw new FileNotFound()
  return serve(reply, file, plan)
}

// ---- 3. the route factory --------------------------------------------------------------------

export interface VirtualDownloadRouteOptions<
  RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
  RawServer extends RawServerBase = RawServerDefault,
  RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
  RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
  ContextConfig = ContextConfigDefault,
  SchemaCompiler extends FastifySchema = FastifySchema,
  TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
  Logger extends FastifyBaseLogger = FastifyBaseLogger
> extends Omit<RouteOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>, 'method' | 'handler' | 'virtualDownload'>,
  DownloadOptions {
  /** Default 'GET' (HEAD comes with it). */
  method?: HTTPMethods | HTTPMethods[] | undefined
  getFile: GetFile<RouteGeneric, RawServer, RawRequest, RawReply, ContextConfig, SchemaCompiler, TypeProvider, Logger>
}

/**
 * A full RouteOptions object for app.route(): method GET by default, getFile as its handler. The
 * server types come from the app it is handed to (`Fastify({ http2: true }).route(...)`).
 */
export function virtualDownloadRoute<
  RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
  RawServer extends RawServerBase = RawServerDefault,
  RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
  RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
  ContextConfig = ContextConfigDefault,
  SchemaCompiler extends FastifySchema = FastifySchema,
  TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
  Logger extends FastifyBaseLogger = FastifyBaseLogger
> (
  options: VirtualDownloadRouteOptions<RouteGeneric, RawServer, RawRequest, RawReply, ContextConfig, SchemaCompiler, TypeProvider, Logger>
): RouteOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger> {
  if (options === null || typeof options !== 'object') throw new InvalidOption('options', `must be an object, got ${describe(options)}`)
  const { getFile, ...rest } = options
  if (typeof getFile !== 'function') throw new InvalidOption('getFile', `must be a function, got ${describe(getFile)}`)
  const downloadOptions: Record<string, unknown> = {}
  const route: Record<string, unknown> = { method: 'GET' }
  for (const [key, value] of Object.entries(rest)) {
    if ((DOWNLOAD_OPTION_NAMES as readonly string[]).includes(key)) downloadOptions[key] = value
    else route[key] = value
  }
  const handler: MarkedHandler = function notRegistered () {
    throw new NotRegistered()
  }
  handler[kGetFile] = getFile as unknown as GetFile
  return { ...route, handler, virtualDownload: validateDownloadOptions(downloadOptions) } as unknown as RouteOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>
}
