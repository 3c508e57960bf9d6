// autocannon in its own process (so it can be pinned to a CPU): prints the average requests/second.
// node benchmarks/load.js URL SECONDS CONNECTIONS HEADERS_JSON
import autocannon from 'autocannon'

const [url, seconds, connections, headers] = process.argv.slice(2)
const result = await autocannon({ url, duration: Number(seconds), connections: Number(connections), headers: JSON.parse(headers ?? '{}') })
if (result.non2xx > 0 || result.errors > 0) {
  console.error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`)
  process.exit(1)
}
console.log(result.requests.average)
