// Reads an archive back with three independent readers, as users' tools do: Python's zipfile
// (every entry's name, flags, size and bytes, and its CRC checked by testzip()), Info-ZIP's
// `unzip -t` and libarchive's `bsdtar` (-tf to list, -xOf to extract one entry). .ci/run installs
// unzip, libarchive-tools and python3 when missing. Not a test file (.taprc runs *.test.ts).
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'

interface Run { code: number, stdout: Buffer, stderr: string }

function run (file: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    // a UTF-8 locale: without one, bsdtar cannot convert the UTF-8 names and skips their entries,
    // and unzip warns that the names it shows differ from the stored ones
    const env = { ...process.env, LC_ALL: 'C.UTF-8' }
    execFile(file, args, { encoding: 'buffer', env, maxBuffer: 256 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : (error as { code?: unknown }).code
      if (typeof code !== 'number') reject(new Error(`cannot run ${file}: ${String(error)}`))
      else resolve({ code, stdout, stderr: stderr.toString() })
    })
  })
}

export interface PythonEntry {
  name: string
  size: number
  /** 0 stored, 8 deflated. */
  method: number
  /** General purpose flag bit 11: the name is UTF-8. */
  utf8: boolean
  sha256: string
  /** The DOS date and time fields: year, month, day, hours, minutes, seconds (even). */
  dateTime: number[]
  /** The entry's bytes, base64, for entries up to 4 KiB. */
  base64?: string
}

export interface PythonListing {
  entries: PythonEntry[]
  /** testzip(): the first entry whose CRC or header is bad, or null. */
  bad: string | null
}

const PYTHON = `
import base64, hashlib, json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    entries = []
    for info in z.infolist():
        data = z.read(info)
        entry = {'name': info.filename, 'size': info.file_size, 'method': info.compress_type,
                 'utf8': bool(info.flag_bits & 0x800), 'sha256': hashlib.sha256(data).hexdigest(),
                 'dateTime': list(info.date_time)}
        if len(data) <= 4096:
            entry['base64'] = base64.b64encode(data).decode()
        entries.append(entry)
    print(json.dumps({'entries': entries, 'bad': z.testzip()}))
`

export const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex')

/** An archive written to a temporary file, with its three readers; remove() deletes it. */
export class ArchiveFile {
  private constructor (readonly path: string, private readonly dir: string) {}

  static async of (bytes: Buffer): Promise<ArchiveFile> {
    const dir = await mkdtemp(join(tmpdir(), 'fdv-zip-'))
    const path = join(dir, 'archive.zip')
    await writeFile(path, bytes)
    return new ArchiveFile(path, dir)
  }

  async python (): Promise<PythonListing> {
    const { code, stdout, stderr } = await run('python3', ['-c', PYTHON, this.path])
    if (code !== 0) throw new Error(`python3 zipfile failed (${code}): ${stderr}`)
    return JSON.parse(stdout.toString()) as PythonListing
  }

  /** `unzip -tq`: exit code 0 and "No errors detected" when every entry's CRC checks. */
  async unzipTest (): Promise<{ code: number, output: string }> {
    const { code, stdout, stderr } = await run('unzip', ['-tq', this.path])
    return { code, output: stdout.toString() + stderr }
  }

  /** `bsdtar -tf`: the names, one per line. */
  async bsdtarList (): Promise<string[]> {
    const { code, stdout, stderr } = await run('bsdtar', ['-tf', this.path])
    if (code !== 0) throw new Error(`bsdtar -tf failed (${code}): ${stderr}`)
    return stdout.toString().split('\n').filter((line) => line !== '')
  }

  /** `bsdtar -xOf`: one entry's bytes. */
  async bsdtarExtract (name: string): Promise<Buffer> {
    const { code, stdout, stderr } = await run('bsdtar', ['-xOf', this.path, name])
    if (code !== 0) throw new Error(`bsdtar -xOf failed (${code}): ${stderr}`)
    return stdout
  }

  async remove (): Promise<void> {
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** What an archive must hold: names (as stored) and bytes, in order. */
export type Expected = ReadonlyArray<{ readonly name: string, readonly content: Buffer | string }>

/**
 * Reads `bytes` back with Python, unzip and bsdtar and checks them against `expected`: the same
 * names in the same order, each flagged UTF-8, each entry's bytes (every entry through Python,
 * the first and last through bsdtar -xOf), every CRC checked by Python and unzip.
 */
export async function readsBack (t: Test, bytes: Buffer, expected: Expected, options: { method?: number } = {}): Promise<PythonListing> {
  const archive = await ArchiveFile.of(bytes)
  try {
    const listing = await archive.python()
    t.equal(listing.bad, null, 'Python: testzip() finds no bad entry')
    t.same(listing.entries.map((entry) => entry.name), expected.map((entry) => entry.name), 'Python: the names, in order')
    t.ok(listing.entries.every((entry) => entry.utf8), 'Python: every name has the UTF-8 (language encoding) flag')
    if (options.method !== undefined) t.ok(listing.entries.every((entry) => entry.method === options.method), `Python: every entry has method ${options.method}`)
    const mismatched = listing.entries.filter((entry, index) => entry.sha256 !== sha256(expected[index]?.content ?? ''))
    t.same(mismatched.map((entry) => entry.name), [], 'Python: every entry holds its bytes')
    const unzip = await archive.unzipTest()
    t.equal(unzip.code, 0, `unzip -t: exit 0 (${unzip.output.trim().split('\n').slice(-1)[0] ?? ''})`)
    t.match(unzip.output, /No errors detected/, 'unzip -t: no errors')
    t.same(await archive.bsdtarList(), expected.map((entry) => entry.name), 'bsdtar -tf: the names, in order')
    for (const entry of [expected[0], expected.at(-1)]) {
      if (entry === undefined) continue
      t.equal(sha256(await archive.bsdtarExtract(entry.name)), sha256(entry.content), `bsdtar -xOf ${entry.name}: its bytes`)
    }
    return listing
  } finally {
    await archive.remove()
  }
}

/** The archive ends with a ZIP64 end of central directory record and its locator (APPNOTE 4.3.14, 4.3.15). */
export function hasZip64End (bytes: Buffer): boolean {
  const tail = bytes.subarray(Math.max(0, bytes.length - 22 - 20 - 56 - 65_535))
  return tail.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])) && tail.includes(Buffer.from([0x50, 0x4b, 0x06, 0x07]))
}
