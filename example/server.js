// Starts the demo: HOST (default 127.0.0.1) and PORT (default 3000; 0 picks a free port).
// stdout gets one line, the URL; the logs go to stderr.
import { buildDemo } from './app.js'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 3000)

const app = await buildDemo({ logger: { level: 'info', stream: process.stderr } })
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
