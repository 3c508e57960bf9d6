import { Readable } from 'node:stream'
import t from 'tap'
import { ContentFile } from '../lib/files/content-file.js'
import { VirtualFile } from '../lib/files/virtual-file.js'
import { BytesIteratorIO } from '../lib/io/bytes-iterator-io.js'
import { TextIteratorIO } from '../lib/io/text-iterator-io.js'

// Every constructor that takes options checks them where it is called: an unknown key, or a value of
// the wrong kind, throws InvalidOption (a TypeError) naming `Class.option`; undefined is no value.

interface Constructor {
  readonly make: (options?: unknown) => object
  /** The known options, in the order the error lists them. */
  readonly known: readonly string[]
  /** Options of the right kind, for every known key. */
  readonly valid: Readonly<Record<string, unknown>>
  /** Keys that are another constructor's, or misspelled. */
  readonly unknown: readonly string[]
  /** [key, value, problem]: values of the wrong kind. */
  readonly wrong: ReadonlyArray<readonly [string, unknown, string]>
}

const modifiedTime = new Date('2026-01-01T00:00:00Z')
const wasModifiedSince = (): boolean => true

// kinds shared by several constructors
const notAString = (key: string): Array<[string, unknown, string]> => [
  [key, 42, 'must be a string, got number'],
  [key, null, 'must be a string, got null'],
  [key, new String('x'), 'must be a string, got an instance of String']
]
const notADate: Array<[string, unknown, string]> = [
  ['modifiedTime', '2026-01-01', 'must be a Date, got string'],
  ['modifiedTime', 1767225600000, 'must be a Date, got number'],
  ['modifiedTime', new Date('not a date'), 'must be a valid Date, got an invalid Date']
]
const notAHighWaterMark: Array<[string, unknown, string]> = [
  ['highWaterMark', 0, 'must be a positive integer, got 0'],
  ['highWaterMark', -1, 'must be a positive integer, got -1'],
  ['highWaterMark', 1.5, 'must be a positive integer, got 1.5'],
  ['highWaterMark', 2 ** 53, 'must be a positive integer, got 9007199254740992'],
  ['highWaterMark', '64k', 'must be a positive integer, got string'],
  ['highWaterMark', null, 'must be a positive integer, got null']
]

const constructors: Record<string, Constructor> = {
  VirtualFile: {
    make: (options) => new VirtualFile('Hello', options as never),
    known: ['name', 'size', 'modifiedTime', 'etag', 'contentType', 'charset', 'wasModifiedSince', 'seekable'],
    valid: { name: 'a.txt', size: 5, modifiedTime, etag: '"v1"', contentType: 'text/plain', charset: 'utf-8', wasModifiedSince, seekable: false },
    unknown: ['nmae', 'encoding', 'highWaterMark', 'Name'],
    wrong: [
      ...notAString('name'),
      ['size', -1, 'must be a non-negative integer, got -1'],
      ['size', 1.5, 'must be a non-negative integer, got 1.5'],
      ['size', Number.NaN, 'must be a non-negative integer, got NaN'],
      ['size', Infinity, 'must be a non-negative integer, got Infinity'],
      ['size', '13', 'must be a non-negative integer, got string'],
      ['size', 13n, 'must be a non-negative integer, got bigint'],
      ...notADate,
      ...notAString('etag'),
      ...notAString('contentType'),
      ...notAString('charset'),
      ['wasModifiedSince', true, 'must be a function, got boolean'],
      ['wasModifiedSince', {}, 'must be a function, got an instance of Object'],
      ['seekable', 'yes', 'must be a boolean, got string'],
      ['seekable', 1, 'must be a boolean, got number']
    ]
  },
  ContentFile: {
    make: (options) => new ContentFile('Hello', options as never),
    known: ['name', 'modifiedTime', 'etag', 'contentType', 'encoding'],
    valid: { name: 'a.txt', modifiedTime, etag: '"v1"', contentType: 'text/plain', encoding: 'latin1' },
    // its size is the content's, its charset its encoding
    unknown: ['nmae', 'size', 'charset', 'wasModifiedSince', 'seekable'],
    wrong: [
      ...notAString('name'),
      ...notADate,
      ...notAString('etag'),
      ...notAString('contentType'),
      ...notAString('encoding')
    ]
  },
  TextIteratorIO: {
    make: (options) => new TextIteratorIO(['Hello'], options as never),
    known: ['encoding', 'highWaterMark'],
    valid: { encoding: 'utf-16le', highWaterMark: 1024 },
    unknown: ['name', 'objectMode', 'highwatermark'],
    wrong: [...notAString('encoding'), ...notAHighWaterMark]
  },
  BytesIteratorIO: {
    make: (options) => new BytesIteratorIO([Buffer.from('Hello')], options as never),
    known: ['highWaterMark'],
    valid: { highWaterMark: 1 },
    unknown: ['encoding', 'objectMode'],
    wrong: notAHighWaterMark
  }
}

function release (made: object): void {
  if (made instanceof Readable) made.destroy()
}

function invalid (message: string): { code: string, message: string } {
  return { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message }
}

function caught (fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
}

for (const [name, { make, known, valid, unknown, wrong }] of Object.entries(constructors)) {
  t.test(name, async (t) => {
    t.test('valid options, no options, undefined options are accepted', async (t) => {
      for (const options of [valid, {}, undefined]) release(make(options))
      release(make())
      t.pass()
    })

    t.test('undefined is accepted for every known option', async (t) => {
      const all = Object.fromEntries(known.map((key) => [key, undefined]))
      for (const key of known) release(make({ ...valid, [key]: undefined }))
      release(make(all))
      t.pass()
    })

    t.test('an unknown key is refused, even when undefined, and the known ones are listed', async (t) => {
      const keys = [...unknown, 'toString', 'constructor', '__proto__', 'hasOwnProperty']
      for (const key of keys) {
        const message = `Invalid option "${name}.${key}": unknown option; known ones are ${known.join(', ')}`
        t.throws(() => make({ ...valid, [key]: 'x' }), invalid(message), key)
        t.throws(() => make({ [key]: undefined }), invalid(message), `${key}: undefined`)
      }
      t.type(caught(() => make({ nmae: 'a.txt' })), TypeError, 'InvalidOption is a TypeError')
      // enumerable inherited keys count as given, as destructuring reads them
      t.throws(() => make(Object.create({ nmae: 'a.txt' })), { message: new RegExp(`"${name}.nmae": unknown option`) })
    })

    t.test('a value of the wrong kind is refused, naming the option', async (t) => {
      for (const [key, value, problem] of wrong) {
        const message = `Invalid option "${name}.${key}": ${problem}`
        t.throws(() => make({ ...valid, [key]: value }), invalid(message), message)
      }
      t.same([...new Set(wrong.map(([key]) => key))], known, 'every known option has wrong kinds in the table')
    })

    t.test('options that are not an object are refused', async (t) => {
      const table: Array<[unknown, string]> = [
        [null, 'null'], ['a.txt', 'string'], [42, 'number'], [true, 'boolean'], [[], 'an instance of Array'], [['a.txt'], 'an instance of Array']
      ]
      for (const [options, seen] of table) {
        t.throws(() => make(options), invalid(`Invalid option "${name} options": must be an object, got ${seen}`), seen)
      }
    })
  })
}

t.test('the checked options are the ones used', async (t) => {
  const file = new VirtualFile(Readable.from(['x']), { name: 'a.txt', size: 1, modifiedTime, etag: '"v1"', contentType: 'text/plain', charset: 'latin1', wasModifiedSince })
  t.match(file, { name: 'a.txt', size: 1, modifiedTime, etag: '"v1"', contentType: 'text/plain', charset: 'latin1', wasModifiedSince })
  file.close()
  t.match(new VirtualFile('x', { size: 0 }), { size: 1 }, 'in-memory content knows its size')
  t.match(new ContentFile('x', { name: 'a.txt', modifiedTime, etag: '"v1"', contentType: 'text/plain', encoding: 'latin1' }),
    { name: 'a.txt', size: 1, modifiedTime, etag: '"v1"', contentType: 'text/plain', charset: 'iso-8859-1', wasModifiedSince: undefined })
  t.match(new ContentFile('x', { name: undefined, encoding: undefined }), { name: undefined, charset: 'utf-8' })
  // a class instance as options: its enumerable fields are what is given
  class Options { name = 'b.txt' }
  t.equal(new ContentFile('x', new Options()).name, 'b.txt')
})

t.test('subclasses: their own options are checked by VirtualFile', async (t) => {
  class Named extends VirtualFile {
    constructor (options: { name?: string }) {
      super('x', options)
    }
  }
  t.equal(new Named({ name: 'a.txt' }).name, 'a.txt')
  t.throws(() => new Named({ nmae: 'a.txt' } as never), invalid('Invalid option "VirtualFile.nmae": unknown option; known ones are name, size, modifiedTime, etag, contentType, charset, wasModifiedSince'))
  class Latin extends ContentFile {
    constructor (content: string) {
      super(content, { encoding: 'latin1' })
    }
  }
  t.match(new Latin('é'), { size: 1, charset: 'iso-8859-1' })
})

t.test('the checks that were there before stay', async (t) => {
  t.throws(() => new ContentFile('x', { encoding: 'hex' }), { message: /^ContentFile: unknown encoding "hex"/ })
  t.throws(() => new TextIteratorIO([], { encoding: 'base64' }), { message: /^TextIteratorIO: unknown text encoding "base64"/ })
  t.throws(() => new VirtualFile(42 as never, { nmae: 'x' } as never), { code: 'FST_DOWNLOADVIEW_INVALID_OPTION' }, 'options are checked first')
})
