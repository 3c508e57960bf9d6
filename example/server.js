// Starts the demo: HOST (default 127.0.0.1) and PORT (default 3000; 0 picks a free port).
// OFFLOAD=nginx: the on-disk files (example/files, the /disk/ links) are answered with an empty 200
// and `X-Accel-Redirect: /protected-files/<name>`, for nginx in front to send them: run nginx with
// example/nginx.conf (its first lines say how); without nginx in front, those links save empty
// files. Unset or empty: the demo sends every file itself.
// stdout gets one line, the URL; the logs go to stderr.
import { buildDemo, FILES } from './app.js'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 3000)
const offload = process.env.OFFLOAD ?? ''
if (offload !== '' && offload !== 'nginx') {
  process.stderr.write(`OFFLOAD must be nginx or unset, got ${JSON.stringify(offload)}\n`)
  process.exit(2)
}

/** @type {import('fastify-downloadview').FastifyDownloadViewOptions} */
const pluginOptions = offload === 'nginx'
  ? { offload: { server: 'nginx', rules: [{ source: FILES, destination: '/protected-files' }] } }
  : {}
const app = await buildDemo({ logger: { level: 'info', stream: process.stderr } }, pluginOptions)
await app.listen({ host, port })

const address = app.server.address()
const boundPort = typeof address === 'object' && address !== null ? address.port : port
const shownHost = host.includes(':') ? `[${host}]` : host
process.stdout.write(`fastify-downloadview demo listening on http://${shownHost}:${boundPort}\n`)

let closing = false
/** @param {NodeJS.Signals} signal */
async function shutdown (signal) {
  if (closing) process.exit(1) // a second Ctrl-C does not wait for downloads in progress
  closing = true
  app.log.info({ signal }, 'closing')
  await app.close()
}
process.on('SIGINT', shutdown)
process.on('SIGTERM', shutdown)
