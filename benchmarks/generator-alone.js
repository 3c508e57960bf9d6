// The limit of the CSV export: the generator alone, iterated in process, its lengths summed.
// One warm-up run, then one measured run; prints seconds.
import { csvRows } from './servers.js'

function once () {
  const start = process.hrtime.bigint()
  let length = 0
  for (const row of csvRows()) length += row.length
  if (length === 0) throw new Error('no rows')
  return Number(process.hrtime.bigint() - start) / 1e9
}
once()
console.log(once())
