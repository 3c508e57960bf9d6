import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { FastifyInstance } from 'fastify'
import t from 'tap'

// The README's usage snippet, run as a user would paste it (against the built package, dist/).
t.test('the README usage snippet works', async (t) => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const snippet = /## Usage\n\n```js\n([\s\S]*?)```/.exec(readme)?.[1]
  if (snippet === undefined) throw new Error('no usage snippet in README.md')
  t.match(snippet, /await app\.listen\(\{ port: 3000 \}\)/)
  const dir = t.testdir({})
  const file = join(dir, 'usage.mjs')
  await writeFile(file, snippet.replace('await app.listen({ port: 3000 })', 'export default app').replace('{ logger: true }', ''))
  const { default: app } = await import(pathToFileURL(file).href) as { default: FastifyInstance }
  t.teardown(() => app.close())

  const hello = await app.inject('/hello.txt')
  t.equal(hello.body, 'Hello world!\n')
  t.equal(hello.headers['content-disposition'], 'attachment; filename="hello-world.txt"')
  const generated = await app.inject('/generated.txt')
  t.equal(generated.body, 'Hello world!\n')
  t.equal(generated.headers['content-disposition'], 'inline; filename="hello-world.txt"')
  const report = await app.inject('/reports/42')
  t.equal(report.body, 'id,total\n1,9.99\n')
  t.equal(report.headers['content-disposition'], 'attachment; filename="report-42.csv"')
  t.equal(report.headers['cache-control'], 'private, no-cache')
  t.equal((await app.inject('/reports/7')).statusCode, 404)
})
