// The entry points of on-disk files: reply.pathDownload(path, options?) and pathDownloadRoute().
// (The pathDownload route option is applied by the plugin's one onRoute hook, in entry-points.ts.)
import type {
  ContextConfigDefault, FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, FastifySchema, FastifyTypeProvider,
  FastifyTypeProviderDefault, HTTPMethods, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerBase,
  RawServerDefault, RouteGenericInterface, RouteOptions
} from 'fastify'
import { factoryRoute, type GetFileResult } from './entry-points.js'
import { toPathFile } from './files/path-file.js'
import type { Offloader } from './offload.js'
import { validateOptions } from './options.js'
import { PATH_DOWNLOAD_OPTIONS, PATH_OPTION_NAMES, resolvePathPlan } from './path-options.js'
import { serve } from './serve.js'
import type { FastifyDownloadViewOptions, PathDownloadOptions } from './types.js'

/**
 * Returns the file's path (relative to `root`, or absolute without it); null or undefined answers
 * 404; returning the reply means getPath answered itself. Generic like Fastify's handlers.
 */
export type GetPath<
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
) => GetPathResult | Promise<GetPathResult>

/** A path, nothing (404), or the reply when getPath answered on its own. */
export type GetPathResult = string | Exclude<GetFileResult, object> | Extract<GetFileResult, { readonly sent: boolean }>

/** reply.pathDownload(path, options?): options given per call are checked and resolved per call. */
export function pathDownloadDecorator (defaults: FastifyDownloadViewOptions, offload: Offloader | undefined) {
  const plans = resolvePathPlan(defaults, {}, offload)
  return function pathDownload (this: FastifyReply, path: string, options?: PathDownloadOptions): FastifyReply {
    const { plan, path: pathPlan } = options === undefined
      ? plans
      : resolvePathPlan(defaults, validateOptions<PathDownloadOptions>(options, PATH_DOWNLOAD_OPTIONS), offload)
    return serve(this, toPathFile(path, pathPlan), plan)
  }
}

export interface PathDownloadRouteOptions<
  RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
  RawServer extends RawServerBase = RawServerDefault,
  RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
  RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
  ContextConfig = ContextConfigDefault,
  SchemaCompiler extends FastifySchema = FastifySchema,
  TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
  Logger extends FastifyBaseLogger = FastifyBaseLogger
> extends Omit<RouteOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>, 'method' | 'handler' | 'virtualDownload' | 'pathDownload'>,
  PathDownloadOptions {
  /** Default 'GET' (HEAD comes with it). */
  method?: HTTPMethods | HTTPMethods[] | undefined
  getPath: GetPath<RouteGeneric, RawServer, RawRequest, RawReply, ContextConfig, SchemaCompiler, TypeProvider, Logger>
}

/** A full RouteOptions object for app.route() serving on-disk files: GET by default, getPath gives the path. */
export function pathDownloadRoute<
  RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
  RawServer extends RawServerBase = RawServerDefault,
  RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
  RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
  ContextConfig = ContextConfigDefault,
  SchemaCompiler extends FastifySchema = FastifySchema,
  TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
  Logger extends FastifyBaseLogger = FastifyBaseLogger
> (
  options: PathDownloadRouteOptions<RouteGeneric, RawServer, RawRequest, RawReply, ContextConfig, SchemaCompiler, TypeProvider, Logger>
): RouteOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger> {
  const route = factoryRoute(options, 'getPath', 'pathDownload', PATH_OPTION_NAMES)
  // checked now, so a mistake fails where the factory is called
  route.pathDownload = validateOptions(route.pathDownload, PATH_DOWNLOAD_OPTIONS)
  return route as unknown as RouteOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>
}
