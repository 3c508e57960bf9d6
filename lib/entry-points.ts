import type {
  ContextConfigDefault, FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, FastifyTypeProvider,
  FastifyTypeProviderDefault, HTTPMethods, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerBase,
  RawServerDefault, RouteGenericInterface, RouteOptions
} from 'fastify'
import { FileNotFound, InvalidOption, NotRegistered, describe } from './errors.js'
import { toPathFile } from './files/path-file.js'
import type { Offloader } from './offload.js'
import { DOWNLOAD_OPTION_NAMES, resolvePlan, validateDownloadOptions, validateOptions } from './options.js'
import { PATH_DOWNLOAD_OPTIONS, resolvePathPlan } from './path-options.js'
import { serve } from './serve.js'
import type { DownloadFile, DownloadOptions, FastifyDownloadViewOptions } from './types.js'

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

// ---- 2. the route options (virtualDownload, and pathDownload) ----------------------------------

export const kGetFile = Symbol('fastify-downloadview.getFile')
export type MarkedHandler = RouteOptions['handler'] & { [kGetFile]?: GetFile }
/** Serves what a route's handler returned (a file, a path). */
type Deliver = (reply: FastifyReply, value: unknown) => FastifyReply

/** A route's download option: undefined when off, the options (or {} for true) when on. */
function routeOption (routeOptions: RouteOptions, name: 'virtualDownload' | 'pathDownload', kind: string): object | undefined {
  const option: unknown = routeOptions[name]
  if (option === undefined || option === false) return undefined
  if (option === true) return {}
  if (option === null || typeof option !== 'object') {
    throw new InvalidOption(name, `must be true, false or ${kind}, got ${describe(option)} (route ${routeOptions.url})`)
  }
  return option
}

/**
 * The onRoute hook: a route with `virtualDownload` gets its handler (getFile) wrapped in the core,
 * one with `pathDownload` its handler (getPath) too, the path made a PathFile. Plans are made here,
 * once per route.
 */
export function downloadRouteHook (defaults: FastifyDownloadViewOptions, offload: Offloader | undefined) {
  return function onRoute (routeOptions: RouteOptions): void {
    const virtual = routeOption(routeOptions, 'virtualDownload', 'DownloadOptions')
    const path = routeOption(routeOptions, 'pathDownload', 'PathDownloadOptions')
    if (virtual === undefined && path === undefined) return
    if (virtual !== undefined && path !== undefined) {
      throw new InvalidOption('pathDownload', `cannot be on the same route as virtualDownload (route ${routeOptions.url})`)
    }
    const handler = routeOptions.handler as MarkedHandler
    const get = handler[kGetFile] ?? handler as unknown as GetFile
    if (virtual !== undefined) {
      const plan = resolvePlan(defaults, validateDownloadOptions(virtual, 'virtualDownload.'))
      routeOptions.handler = downloadHandler(get, (reply, file) => serve(reply, file, plan))
    } else {
      const plans = resolvePathPlan(defaults, validateOptions(path, PATH_DOWNLOAD_OPTIONS, 'pathDownload.'), offload)
      routeOptions.handler = downloadHandler(get, (reply, value) => serve(reply, toPathFile(value, plans.path), plans.plan))
    }
  }
}

function downloadHandler (get: GetFile, deliver: Deliver) {
  return function handler (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    const value = get.call(this, request, reply)
    if (value instanceof Promise) return value.then((value) => answer(reply, value, deliver))
    return answer(reply, value, deliver)
  }
}

function answer (reply: FastifyReply, value: unknown, deliver: Deliver): FastifyReply {
  // the handler answered on its own (reply.send, reply.redirect...)
  if (value === reply || reply.sent) return reply
  if (value === null || value === undefined) throw new FileNotFound()
  return deliver(reply, value)
}

/**
 * The RouteOptions of a route factory: `method` GET by default, the getter (getFile, getPath)
 * marked on a handler that throws NotRegistered until the plugin's onRoute hook replaces it, and
 * the download options, split from the route's own, under `option`.
 */
export function factoryRoute (options: unknown, getter: 'getFile' | 'getPath', option: 'virtualDownload' | 'pathDownload', names: readonly string[]): Record<string, unknown> {
  if (options === null || typeof options !== 'object') throw new InvalidOption('options', `must be an object, got ${describe(options)}`)
  const { [getter]: get, ...rest } = options as Record<string, unknown>
  if (typeof get !== 'function') throw new InvalidOption(getter, `must be a function, got ${describe(get)}`)
  const downloadOptions: Record<string, unknown> = {}
  const route: Record<string, unknown> = { method: 'GET' }
  for (const [key, value] of Object.entries(rest)) {
    if (names.includes(key)) downloadOptions[key] = value
    else route[key] = value
  }
  const handler: MarkedHandler = function notRegistered () {
    throw new NotRegistered()
  }
  handler[kGetFile] = get as GetFile
  return { ...route, handler, [option]: downloadOptions }
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
  const route = factoryRoute(options, 'getFile', 'virtualDownload', DOWNLOAD_OPTION_NAMES)
  // checked now, so a mistake fails where the factory is called
  route.virtualDownload = validateDownloadOptions(route.virtualDownload)
  return route as unknown as RouteOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>
}
