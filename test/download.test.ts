import t from 'tap'
import type { FastifyReply } from 'fastify'
import { resetConnection } from '../lib/download.js'

// The connection reset, on sockets that are not what a server hands out: over HTTP (reset it),
// TLS (reset the TCP socket under it), and a socket that cannot be reset (destroyed all the same).
t.test('resetConnection resets the TCP socket, under TLS too, and destroys what cannot be reset', async (t) => {
  const calls: string[] = []
  const socket = (name: string, reset: () => void, parent?: object): object => ({
    _parent: parent,
    resetAndDestroy: () => { calls.push(`${name} reset`); reset() },
    destroy: () => { calls.push(`${name} destroy`) }
  })
  const reply = (raw: object): FastifyReply => ({ raw: {}, request: { raw: { socket: raw } } }) as unknown as FastifyReply
  resetConnection(reply(socket('tcp', () => {})), new Error('late'))
  t.same(calls.splice(0), ['tcp reset', 'tcp destroy'])
  resetConnection(reply(socket('tls', () => {}, socket('tcp', () => {}))), new Error('late'))
  t.same(calls.splice(0), ['tcp reset', 'tls destroy'])
  resetConnection(reply(socket('odd', () => { throw new Error('ERR_INVALID_HANDLE_TYPE') })), new Error('late'))
  t.same(calls.splice(0), ['odd reset', 'odd destroy'])
})
