// A steady measure of the per-request cost of the on-disk servers, for a noisy machine: COUNT
// sequential app.inject() GETs of the 1 MiB file of benchmark 6 (in a temporary directory), in one
// process, nothing timed. Run it under a counter and take the difference of two counts:
//
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p node benchmarks/disk-profile.js disk-downloadview 1200
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p node benchmarks/disk-profile.js disk-downloadview 200
//   -> (instructions of the first - of the second) / 1000 per request
//   strace -f -c -o /tmp/sc node benchmarks/disk-profile.js disk-static 1000   (system calls)
//
// node benchmarks/disk-profile.js NAME COUNT [RANGE]; NAME is a Fastify server of
// benchmarks/disk-servers.js; RANGE a Range header value (default bytes=1000-4999, '' for none).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { servers } from './disk-servers.js'
import { rangeBytes } from './servers.js'

const [name, count = '1000', range = 'bytes=1000-4999'] = process.argv.slice(2)
const build = servers[name]
if (build === undefined) throw new Error(`usage: disk-profile.js NAME COUNT [RANGE]; names: ${Object.keys(servers).join(', ')}`)
const root = mkdtempSync(join(tmpdir(), 'fdv-disk-profile-'))
try {
  writeFileSync(join(root, 'range.bin'), rangeBytes())
  const app = await build(root)
  if (typeof app.inject !== 'function') throw new Error(`${name} is no Fastify app`)
  await app.ready()
  const headers = range === '' ? {} : { range }
  const status = range === '' ? 200 : 206
  for (let i = 0; i < Number(count); i++) {
    const response = await app.inject({ method: 'GET', url: '/range.bin', headers })
    if (response.statusCode !== status) throw new Error(`${name}: HTTP ${response.statusCode}`)
  }
  await app.close()
} finally {
  rmSync(root, { recursive: true, force: true })
}
