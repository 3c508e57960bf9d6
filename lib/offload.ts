// Reverse-proxy offload: an on-disk file that matches a rule is answered with an empty body and an
// internal-redirect header; the proxy (nginx, Apache, lighttpd) reads and sends the file itself,
// with its own Range, conditional and HEAD handling.
import { isAbsolute, posix } from 'node:path'
import { describe } from './errors.js'
import { isToken } from './http/field-values.js'
import type { OffloadOptions } from './types.js'

/** The redirect headers for a resolved file path, or undefined when no rule matches it. */
export type Offloader = (path: string) => Record<string, string> | undefined

const SERVERS = ['nginx', 'apache', 'lighttpd'] as const
const KEYS = new Set(['server', 'rules', 'nginx'])
const NGINX_KEYS = new Set(['limitRate', 'buffering', 'expires', 'charset'])

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value)

/** A path without its trailing slashes ('/' stays '/'). */
const trimmed = (path: string): string => path.length > 1 ? path.replace(/\/+$/, '') || '/' : path

/** Each segment of a path percent-encoded (RFC 3986 §2.1), its slashes kept. */
const encodeSegments = (path: string): string => path.split('/').map(encodeURIComponent).join('/')

/** What is wrong with an `offload` option, for InvalidOption; undefined when it is fine. */
export function checkOffload (value: unknown): string | undefined {
  if (!isObject(value)) return `must be an object { server, rules, nginx? }, got ${describe(value)}`
  for (const key of Object.keys(value)) {
    if (!KEYS.has(key)) return `has an unknown key "${key}"; known ones are server, rules, nginx`
  }
  const { server, rules, nginx } = value
  if (!SERVERS.includes(server as typeof SERVERS[number])) {
    return `server must be 'nginx', 'apache' or 'lighttpd', got ${JSON.stringify(server) ?? 'undefined'}`
  }
  if (!Array.isArray(rules) || rules.length === 0) return 'rules must be a non-empty array of { source, destination }'
  for (const [i, rule] of (rules as unknown[]).entries()) {
    if (!isObject(rule) || Object.keys(rule).some((key) => key !== 'source' && key !== 'destination')) {
      return `rules[${i}] must be an object { source, destination }`
    }
    const { source, destination } = rule
    if (typeof source !== 'string' || !isAbsolute(source)) return `rules[${i}].source must be an absolute file-system path, got ${JSON.stringify(source) ?? 'undefined'}`
    if (typeof destination !== 'string' || !destination.startsWith('/') || /[\0-\x1f\x7f]/.test(destination)) {
      return `rules[${i}].destination must be ${server === 'nginx' ? 'a URI path' : 'an absolute file-system path'} starting with "/", got ${JSON.stringify(destination) ?? 'undefined'}`
    }
  }
  if (nginx === undefined) return undefined
  if (server !== 'nginx') return `nginx options are for server 'nginx', not '${String(server)}'`
  if (!isObject(nginx)) return `nginx must be an object, got ${describe(nginx)}`
  for (const [key, option] of Object.entries(nginx)) {
    if (!NGINX_KEYS.has(key)) return `nginx has an unknown key "${key}"; known ones are limitRate, buffering, expires, charset`
    if (option === undefined) continue
    if (key === 'limitRate' && !(Number.isSafeInteger(option) && (option as number) >= 0)) return `nginx.limitRate must be a non-negative integer (bytes per second), got ${String(option)}`
    if (key === 'buffering' && typeof option !== 'boolean') return `nginx.buffering must be a boolean, got ${describe(option)}`
    if (key === 'expires' && option !== 'off' && !(Number.isSafeInteger(option) && (option as number) >= 0)) return `nginx.expires must be a non-negative integer (seconds) or 'off', got ${String(option)}`
    if (key === 'charset' && !(typeof option === 'string' && isToken(option))) return `nginx.charset must be a charset name, got ${String(option)}`
  }
  return undefined
}

/**
 * The offloader of checked options, made once at registration. Rules match the resolved file path
 * on path-segment boundaries (`/srv/files` matches `/srv/files/a.txt`, never `/srv/files-old/a.txt`),
 * first rule first. The rest of the path follows the destination with each segment
 * percent-encoded: nginx takes X-Accel-Redirect as a URI (a non-ASCII or `%`, `?`, `#` name would
 * otherwise 404, django-downloadview's issues #85 and #110), and Apache's mod_xsendfile
 * (XSendFileUnescape, on by default) and lighttpd (since 1.4.40) URL-decode X-Sendfile alike.
 */
export function compileOffload (options: OffloadOptions): Offloader {
  // the destination is written plainly (a path, a location's prefix) and decoded by the proxy like
  // the rest: its segments are percent-encoded too
  const rules = options.rules.map(({ source, destination }) => ({ source: trimmed(posix.normalize(source)), destination: encodeSegments(trimmed(destination)) }))
  const headers: Record<string, string> = {}
  const nginx = options.nginx ?? {}
  if (nginx.limitRate !== undefined) headers['x-accel-limit-rate'] = String(nginx.limitRate)
  if (nginx.buffering !== undefined) headers['x-accel-buffering'] = nginx.buffering ? 'yes' : 'no'
  if (nginx.expires !== undefined) headers['x-accel-expires'] = String(nginx.expires)
  if (nginx.charset !== undefined) headers['x-accel-charset'] = nginx.charset
  const header = options.server === 'nginx' ? 'x-accel-redirect' : 'x-sendfile'
  return (path) => {
    for (const { source, destination } of rules) {
      let rest: string
      if (source === '/') rest = path.slice(1)
      else if (path.startsWith(source + '/')) rest = path.slice(source.length + 1)
      else continue
      const encoded = encodeSegments(rest)
      return { ...headers, [header]: destination === '/' ? '/' + encoded : `${destination}/${encoded}` }
    }
    return undefined
  }
}
