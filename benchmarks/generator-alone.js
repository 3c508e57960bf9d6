// The limits of the CSV export, in process, without HTTP: the generator alone (iterated, lengths
// summed), or with MODE=encode the generator through TextIteratorIO (gathered, joined, UTF-8
// encoded) into a sink that drops the bytes. One warm-up run, then one measured run; prints seconds.
import { Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { TextIteratorIO } from 'fastify-downloadview'
import { csvRows } from './servers.js'

async function once () {
  const start = process.hrtime.bigint()
  let length = 0
  if (process.env.MODE === 'encode') {
    await pipeline(new TextIteratorIO(csvRows()), new Writable({
      write (chunk, _encoding, callback) {
        length += chunk.length
        callback()
      }
    }))
  } else {
    for (const row of csvRows()) length += row.length
  }
  if (length === 0) throw new Error('no rows')
  return Number(process.hrtime.bigint() - start) / 1e9
}
await once()
console.log(await once())
