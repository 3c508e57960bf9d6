import { InvalidOption, describe } from './errors.js'

/** Checks one option's value: undefined when it is fine, else the problem ("must be ..., got ..."). */
export type Check = (value: unknown) => string | undefined

/** The checks of a constructor's options, by name, and the names listed in the unknown-option error. */
export interface OptionChecks {
  readonly owner: string
  readonly checks: Readonly<Record<string, Check | undefined>>
  readonly known: string
}

export const boolean: Check = (value) => typeof value === 'boolean' ? undefined : `must be a boolean, got ${describe(value)}`

export const anyString: Check = (value) => typeof value === 'string' ? undefined : `must be a string, got ${describe(value)}`

/** A string that passes `test`; `expected` says which ones ("a non-empty file name"). */
export const string = (test: (value: string) => boolean, expected: string): Check => (value) => {
  if (typeof value !== 'string') return `must be a string, got ${describe(value)}`
  return test(value) ? undefined : `must be ${expected}, got ${JSON.stringify(value)}`
}

export const func: Check = (value) => typeof value === 'function' ? undefined : `must be a function, got ${describe(value)}`

export const validDate: Check = (value) => {
  if (!(value instanceof Date)) return `must be a Date, got ${describe(value)}`
  return Number.isNaN(value.getTime()) ? 'must be a valid Date, got an invalid Date' : undefined
}

/** A safe integer from `min` on; `expected` is said in the error ("a positive integer"). */
export const integer = (min: number, expected: string): Check => (value) => Number.isSafeInteger(value) && (value as number) >= min
  ? undefined
  : `must be ${expected}, got ${typeof value === 'number' ? String(value) : describe(value)}`

/**
 * The checks of `owner`'s options (a class name), one for each option of T, in a table without a
 * prototype: "toString" or "__proto__" is no option. (A copy whose prototype is then set to null
 * keeps V8's fast properties; Object.create(null) makes a dictionary, measured slower to look up.)
 */
export function optionChecks<T> (owner: string, checks: { [key in keyof Required<T>]: Check }): OptionChecks {
  const table = Object.setPrototypeOf({ ...checks }, null) as Record<string, Check | undefined>
  return { owner, checks: table, known: Object.keys(checks).join(', ') }
}

/**
 * Checks a constructor's options where it is called, so a misspelled or mistyped option fails with
 * its name instead of being ignored: an InvalidOption (a TypeError) names `Owner.option`. Each known
 * option's value may be undefined; an unknown key is refused even when undefined. Per-request code
 * calls this: one `for...in` and a lookup per given key, nothing allocated.
 */
export function checkOptions ({ owner, checks, known }: OptionChecks, options: unknown): void {
  // undefined options are the constructor's default {} by now
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidOption(`${owner} options`, `must be an object, got ${describe(options)}`)
  }
  for (const key in options) {
    const check = checks[key]
    if (check === undefined) throw new InvalidOption(`${owner}.${key}`, `unknown option; known ones are ${known}`)
    const value = (options as Record<string, unknown>)[key]
    if (value === undefined) continue
    const problem = check(value)
    if (problem !== undefined) throw new InvalidOption(`${owner}.${key}`, problem)
  }
}
