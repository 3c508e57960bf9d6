import fc from 'fast-check'
import contentDispositionPackage from 'content-disposition'
import t from 'tap'
import { asciiFallback, basename, contentDisposition, safeBasename } from '../lib/http/content-disposition.js'

t.test('headers for names', async (t) => {
  const table: Array<[string | undefined, 'attachment' | 'inline' | undefined, string]> = [
    ['hello-world.txt', undefined, 'attachment; filename="hello-world.txt"'],
    ['hello-world.txt', 'inline', 'inline; filename="hello-world.txt"'],
    ['reports/2026/hello-world.txt', undefined, 'attachment; filename="hello-world.txt"'],
    ['C:\\Users\\me\\report.csv', undefined, 'attachment; filename="report.csv"'],
    [undefined, undefined, 'attachment'],
    [undefined, 'inline', 'inline'],
    ['', undefined, 'attachment'],
    ['dir/', 'inline', 'inline'],
    ['with space.txt', undefined, 'attachment; filename="with space.txt"'],
    // RFC 8187 for non-ASCII, with an ASCII fallback; Latin-1 names included (RFC 6266 §4.3)
    ['résumé.pdf', undefined, 'attachment; filename="resume.pdf"; filename*=UTF-8\'\'r%C3%A9sum%C3%A9.pdf'],
    ['отчёт.csv', undefined, 'attachment; filename="_____.csv"; filename*=UTF-8\'\'%D0%BE%D1%82%D1%87%D1%91%D1%82.csv'],
    ['€.txt', undefined, 'attachment; filename="_.txt"; filename*=UTF-8\'\'%E2%82%AC.txt'],
    // quotes and control characters never survive
    ['a"b.txt', undefined, 'attachment; filename="a_b.txt"'],
    ['evil\r\nSet-Cookie: x=1.txt', undefined, 'attachment; filename="evil__Set-Cookie: x=1.txt"'],
    ['nul\u0000.txt', undefined, 'attachment; filename="nul_.txt"'],
    ['100%.txt', undefined, 'attachment; filename="100%.txt"'],
    ['%41.txt', undefined, 'attachment; filename="%41.txt"; filename*=UTF-8\'\'%2541.txt'],
    // the bugs: compatibility forms no longer come back in the fallback (RFC 6266 §4.3)
    ['Q3 report ＂final＂.pdf', undefined, 'attachment; filename="Q3 report _final_.pdf"; filename*=UTF-8\'\'Q3%20report%20%EF%BC%82final%EF%BC%82.pdf'],
    ['\u2025', undefined, 'attachment; filename="_"; filename*=UTF-8\'\'%E2%80%A5'],
    ['..', undefined, 'attachment'],
    ['invoice\u202Efdp.exe', undefined, 'attachment; filename="invoice_fdp.exe"']
  ]
  for (const [name, type, expected] of table) {
    t.equal(contentDisposition(name, type === undefined ? undefined : { type }), expected, JSON.stringify(name))
  }
})

// --- an oracle written apart from the module, and the rules every header must satisfy ---

const BIDI = ['\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069', '\u200e', '\u200f', '\u061c']
const FORBIDDEN = /[\p{Cc}"\\/\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]/u
const ONLY_DOTS_AND_SPACE = /^[\s.]*$/u
const EXTENSION = /\.[^.]{1,16}$/u
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' })
const graphemes = (text: string): string[] => Array.from(segmenter.segment(text), ({ segment }) => segment)
const bytes = (text: string): number => Buffer.byteLength(text)

/** The longest run of whole graphemes at the start of text within max bytes. */
function within (text: string, max: number): string {
  let end = 0
  for (const g of segmenter.segment(text)) {
    max -= bytes(g.segment)
    if (max < 0) break
    end += g.segment.length
  }
  return text.slice(0, end)
}

/** The basename with every unsafe code point replaced, before any shortening. */
function cleaned (raw: string): string {
  let name = ''
  for (const c of basename(raw)) {
    const code = c.codePointAt(0) as number
    if (code >= 0xd800 && code <= 0xdfff) name += '\ufffd'
    else name += code < 0x20 || (code >= 0x7f && code <= 0x9f) || c === '"' || BIDI.includes(c) ? '_' : c
  }
  return name
}

/** filename* (decoded) and filename, read back with the content-disposition package's parser. */
function decode (header: string): { type: string, filenameStar?: string, filename?: string } {
  const { type, parameters } = contentDispositionPackage.parse(header)
  // the parser lets filename* override filename: parse the header again without it for the fallback
  const { filename } = contentDispositionPackage.parse(header.replace(/; filename\*=[^;]*$/, '')).parameters
  const decoded: { type: string, filenameStar?: string, filename?: string } = { type }
  if (header.includes('; filename*=')) decoded.filenameStar = parameters.filename
  if (filename !== undefined) decoded.filename = filename
  return decoded
}

/** What is wrong with the header of a raw name (an empty list when nothing is). */
function problems (raw: string, header: string): string[] {
  const found: string[] = []
  const check = (ok: boolean, problem: string): void => { if (!ok) found.push(problem) }
  check(/^(attachment|inline)(; [\x20-\x7e]+)?$/.test(header), 'one line of visible ASCII')
  const whole = cleaned(raw)
  const { filenameStar, filename } = decode(header)
  const name = filenameStar ?? filename
  check(name === (safeBasename(raw) || undefined), 'the decoded name is safeBasename()')
  if (name === undefined) {
    check(filename === undefined, 'no fallback without a name')
    // nothing usable: all dots and white space, or all the shortening surely keeps is (it keeps
    // at least the graphemes within 255 bytes minus the longest extension)
    check(ONLY_DOTS_AND_SPACE.test(within(whole, bytes(whole) <= 255 ? 255 : 190)), 'a usable name is kept')
    return found
  }
  for (const [label, value] of [['filename*', name], ['filename', filename ?? name]] as const) {
    check(!FORBIDDEN.test(value), `${label}: no control, quote, slash, backslash or bidi control`)
    check(!ONLY_DOTS_AND_SPACE.test(value), `${label}: not only dots and white space`)
    check(bytes(value) <= 255, `${label}: at most 255 bytes`)
    check(!value.includes('..') || whole.includes('..'), `${label}: no '..' the name did not have`)
  }
  check(filename !== undefined && /^[\x20-\x7e]+$/.test(filename), 'an ASCII filename')
  if (/^[\x20-\x7e]+$/.test(name)) check(filename === name, 'an ASCII name is its own fallback')
  if (bytes(whole) <= 255) {
    check(name === whole, 'a short name is kept whole')
  } else {
    // shortened: a prefix of whole graphemes, then the extension (or nothing)
    const extension = EXTENSION.exec(whole)?.[0] ?? ''
    const tail = extension !== '' && name.endsWith(extension) ? extension : ''
    const start = graphemes(name.slice(0, name.length - tail.length))
    const original = graphemes(whole)
    check(start.every((g, i) => g === original[i]), 'the start is cut at a grapheme boundary')
  }
  // the fallback keeps an ASCII extension that starts a grapheme of the name
  const extension = EXTENSION.exec(name)?.[0]
  if (extension !== undefined && /^[\x20-\x7e]+$/.test(extension) && segmenter.segment(name).containing(name.length - extension.length)?.index === name.length - extension.length) {
    check(filename?.endsWith(extension) === true, 'the fallback keeps the extension')
  }
  return found
}

t.test('hostile names', async (t) => {
  const nbsp = '\u00a0'
  // [what, name, filename* decoded (none for an ASCII name), filename]
  const table: Array<[string, string, string | undefined, string | undefined]> = [
    ['fullwidth quotes (NFKD gives \'"\')', 'Q3 report ＂final＂.pdf', 'Q3 report ＂final＂.pdf', 'Q3 report _final_.pdf'],
    ['two dot leader (NFKD gives \'..\')', '\u2025', '\u2025', '_'],
    ['one dot leaders next to dots', '.\u2024.txt', '.\u2024.txt', '._.txt'],
    ['two one dot leaders', '\u2024\u2024', '\u2024\u2024', '__'],
    ['ellipsis', 'wait\u2026.txt', 'wait\u2026.txt', 'wait_.txt'],
    ['a dot with an accent is not a dot', '.\u0301.', '.\u0301.', '_.'],
    ['fullwidth solidus', 'a／b.txt', 'a／b.txt', 'a_b.txt'],
    ['fullwidth reverse solidus', 'a＼b.txt', 'a＼b.txt', 'a_b.txt'],
    ['fullwidth full stops', '．．', '．．', '__'],
    ['.', '.', undefined, undefined],
    ['..', '..', undefined, undefined],
    ['../.. after basename', 'a/..', undefined, undefined],
    ['..\\ after basename', 'C:\\temp\\..', undefined, undefined],
    ['dot space dot', ' . ', undefined, undefined],
    ['NBSP only', nbsp, undefined, undefined],
    ['U+3000 only', '\u3000', undefined, undefined],
    ['dots, spaces, NBSP, U+3000', `. ${nbsp}.\u3000..`, undefined, undefined],
    ['white space at the ends is kept', ' a.txt ', undefined, ' a.txt '],
    ['NBSP at the ends', `${nbsp}résumé${nbsp}`, `${nbsp}résumé${nbsp}`, ' resume '],
    ['a fallback of white space only', '\u00b4', '\u00b4', '_'],
    ['a fallback of spaces and dots only', '\u00b4.\u3000', '\u00b4.\u3000', '_'],
    ['right-to-left override', 'invoice\u202Efdp.exe', undefined, 'invoice_fdp.exe'],
    ...BIDI.map((c): [string, string, undefined, string] =>
      [`bidi control U+${(c.codePointAt(0) as number).toString(16).toUpperCase().padStart(4, '0')}`, `report${c}fdp.exe`, undefined, 'report_fdp.exe']),
    ['bidi control in a non-ASCII name', 'été\u202Efdp.exe', 'été_fdp.exe', 'ete_fdp.exe'],
    ['quote, backslash path, CR LF, NUL', 'x\\a"b\r\n\u0000c.txt', undefined, 'a_b___c.txt'],
    ['C1 control and DEL', 'a\u0085b\u007f.txt', undefined, 'a_b_.txt'],
    ['a lone surrogate', 'a\ud800.txt', 'a\ufffd.txt', 'a_.txt'],
    ['Latin-1', 'naïve.txt', 'naïve.txt', 'naive.txt'],
    ['300 bytes of ASCII, .csv', `${'x'.repeat(296)}.csv`, undefined, `${'x'.repeat(251)}.csv`],
    ['a 20-character tail is no extension', `${'x'.repeat(280)}.${'y'.repeat(20)}`, undefined, 'x'.repeat(255)],
    ['a 16-character extension', `${'x'.repeat(280)}.${'y'.repeat(16)}`, undefined, `${'x'.repeat(238)}.${'y'.repeat(16)}`],
    ['letters with two accents', `${'e\u0301\u0323'.repeat(100)}.txt`, `${'e\u0301\u0323'.repeat(50)}.txt`, `${'e'.repeat(50)}.txt`],
    ['flags', `${'🇫🇷'.repeat(40)}.png`, `${'🇫🇷'.repeat(31)}.png`, `${'_'.repeat(31)}.png`],
    ['ZWJ emoji', `${'👨‍👩‍👧'.repeat(20)}.png`, `${'👨‍👩‍👧'.repeat(13)}.png`, `${'_'.repeat(13)}.png`],
    ['10,000 emoji', '😀'.repeat(10_000), '😀'.repeat(63), '_'.repeat(63)],
    ['a non-ASCII extension', `${'é'.repeat(200)}.été`, `${'é'.repeat(124)}.été`, `${'e'.repeat(124)}.ete`],
    ['shortening leaves only dots', `${'.'.repeat(300)}${'x'.repeat(20)}`, undefined, undefined],
    ['shortening leaves only dots and spaces', `${'. '.repeat(150)}${'z'.repeat(17)}`, undefined, undefined],
    ['shortening leaves only the extension', `${'.'.repeat(300)}.csv`, undefined, '.csv'],
    ['the cut does not make \'..\'', `${'a'.repeat(250)}.${'b'.repeat(20)}.csv`, undefined, `${'a'.repeat(250)}.csv`],
    ['the fallback is shortened too', `${'㎉'.repeat(100)}.txt`, `${'㎉'.repeat(83)}.txt`, `${'kcal'.repeat(62)}kca.txt`],
    ['a dot inside a grapheme is no extension', `${'\u0600.pdf'.repeat(60)}`, '\u0600.pdf'.repeat(42) + '\u0600.', `${'_pdf'.repeat(42)}_`],
    ['one grapheme longer than 255 bytes', `a${'\u0301'.repeat(200)}`, undefined, undefined]
  ]
  for (const [what, name, filenameStar, filename] of table) {
    const header = contentDisposition(name)
    const expected: { type: string, filenameStar?: string, filename?: string } = { type: 'attachment' }
    if (filenameStar !== undefined) expected.filenameStar = filenameStar
    if (filename !== undefined) expected.filename = filename
    t.same(decode(header), expected, what)
    t.same(problems(name, header), [], `${what}: every rule holds`)
    t.ok(header.length < 1100, `${what}: a bounded header`)
  }
})

t.test('basename, safe name and fallback', async (t) => {
  t.equal(basename('a/b\\c/d.txt'), 'd.txt')
  t.equal(basename('plain'), 'plain')
  t.equal(safeBasename('x/\u0007bell"q.txt'), '_bell_q.txt')
  t.equal(safeBasename('lone\ud800.txt'), 'lone\ufffd.txt')
  t.equal(safeBasename('pair\ud83d\ude00.txt'), 'pair\ud83d\ude00.txt')
  t.equal(safeBasename('..'), '')
  t.equal(safeBasename(`${'x'.repeat(300)}.csv`), `${'x'.repeat(251)}.csv`, 'the extension survives for the MIME type')
  const fallbacks: Array<[string, string]> = [
    ['Ångström ﬁle.txt', 'Angstrom file.txt'],
    ['Ⅻ ½ ²', 'XII _ 2'],
    ['a"b\\c/d', 'a_b_c_d'],
    ['\u2025', '_'],
    ['..', '_'],
    ['', '_']
  ]
  for (const [name, expected] of fallbacks) t.equal(asciiFallback(name), expected, JSON.stringify(name))
})

// Whatever the name, the header is one line of visible ASCII, and both names decoded from it
// follow every rule above.
t.test('hostile names never break the header (property)', async (t) => {
  const hostile = fc.constantFrom('.', ' ', '\u00a0', '\u3000', '"', '\\', '/', '\r', '\u0000', '\u202e', '\u2066', '\u200f',
    '\u2024', '\u2025', '\u2026', '＂', '／', '＼', '．', '\u00b4', 'é', 'e\u0301', '🇫🇷', '👨‍👩‍👧', '\u0600', '\ud800', 'x', 'pdf')
  const names = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 400, size: 'max' }),
    fc.string({ unit: 'grapheme', maxLength: 300, size: 'max' }),
    fc.string({ unit: hostile, maxLength: 300, size: 'max' }),
    fc.tuple(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.constantFrom('.csv', '.été', '.', `.${'y'.repeat(17)}`))
      .map(([start, extension]) => start + extension),
    // long names that shortening cuts anywhere: next to a dot, in white space, before the extension
    fc.tuple(fc.string({ unit: fc.constantFrom('a', '.', ' ', 'é', '\u3000', 'e\u0301', '🇫🇷'), minLength: 80, maxLength: 300, size: 'max' }), fc.constantFrom('', '.csv', '. '))
      .map(([start, extension]) => start + extension)
  )
  fc.assert(fc.property(names, fc.boolean(), (name, inline) => {
    const header = contentDisposition(name, { type: inline ? 'inline' : 'attachment' })
    const found = problems(name, header)
    if (found.length > 0) throw new Error(`${JSON.stringify(name)} -> ${header}: ${found.join(', ')}`)
  }), { numRuns: 2000 })
  t.pass('2000 names')
})
