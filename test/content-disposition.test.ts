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
    ['%41.txt', undefined, 'attachment; filename="%41.txt"; filename*=UTF-8\'\'%2541.txt']
  ]
  for (const [name, type, expected] of table) {
    t.equal(contentDisposition(name, type === undefined ? undefined : { type }), expected, JSON.stringify(name))
  }
})

t.test('basename, safe name and fallback', async (t) => {
  t.equal(basename('a/b\\c/d.txt'), 'd.txt')
  t.equal(basename('plain'), 'plain')
  t.equal(safeBasename('x/\u0007bell"q.txt'), '_bell_q.txt')
  t.equal(safeBasename('lone\ud800.txt'), 'lone\ufffd.txt')
  t.equal(safeBasename('pair\ud83d\ude00.txt'), 'pair\ud83d\ude00.txt')
  t.equal(asciiFallback('Ångström ﬁle.txt'), 'Angstrom file.txt')
})

// Whatever the name, the header is one line of visible ASCII and decodes to a name without
// separators, quotes or control characters.
t.test('hostile names never break the header (property)', async (t) => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.boolean(), (name, inline) => {
    const header = contentDisposition(name, { type: inline ? 'inline' : 'attachment' })
    if (!/^[\x20-\x7e]+$/.test(header)) return false
    const parsed = contentDispositionPackage.parse(header)
    const decoded = parsed.parameters.filename
    if (decoded === undefined) return safeBasename(name) === ''
    return !/[\u0000-\u001f"\\/\u007f-\u009f]/.test(decoded) && decoded === safeBasename(name)
  }), { numRuns: 2000 })
  t.pass('2000 names')
})
