import { readFile } from 'node:fs/promises'
import t from 'tap'
import * as errors from '../lib/errors.js'
import * as api from '../lib/index.js'

// Every error of the plugin is exported for users to match, and listed in the README's table.
t.test('every error constructor is exported and documented with its code and status', async (t) => {
  const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8')
  const constructors = Object.entries(errors).filter(([name]) => name !== 'describe')
  t.equal(constructors.length, 14)
  for (const [name, constructor] of constructors) {
    t.equal((api as Record<string, unknown>)[name], constructor, `${name} is exported`)
    const error = new (constructor as new (...args: unknown[]) => Error & { code: string, statusCode: number })('a', 'b')
    t.match(readme, new RegExp(`\\| \`${error.code}\` \\(\`${name}\`[^|]*\\) \\| ${error.statusCode}`), `${name}: ${error.code} in the README with status ${error.statusCode}`)
  }
})
