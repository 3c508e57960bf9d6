import t from 'tap'
import { resolvePlan, validateDownloadOptions } from '../lib/options.js'

t.test('valid options pass through, undefined ones are dropped', async (t) => {
  const options = { attachment: false, basename: 'a.csv', mimetype: 'text/csv', charset: 'latin1', cacheControl: 'no-store', acceptRanges: false }
  t.same(validateDownloadOptions(options), options)
  t.same(validateDownloadOptions({ attachment: undefined }), {})
  t.same(validateDownloadOptions({ prefix: '/x', attachment: true }, '', ['prefix']), { attachment: true })
})

t.test('invalid options name the option and the problem', async (t) => {
  const table: Array<[unknown, RegExp]> = [
    [{ attachment: 'yes' }, /Invalid option "attachment": must be a boolean, got string/],
    [{ acceptRanges: 1 }, /"acceptRanges": must be a boolean, got number/],
    [{ basename: '' }, /"basename": must be a non-empty file name/],
    [{ basename: 42 }, /"basename": must be a string, got number/],
    [{ mimetype: 'csv' }, /"mimetype": must be a media type such as "text\/csv", got "csv"/],
    [{ mimetype: 'text/csv\r\nX-Evil: 1' }, /"mimetype"/],
    [{ charset: 'utf 8' }, /"charset": must be a charset name/],
    [{ cacheControl: 'no-store\nX: 1' }, /"cacheControl": must be a header value without control characters/],
    [{ atachment: true }, /"atachment": unknown option; known ones are attachment, basename/],
    // names an ordinary object inherits are no options either
    [{ toString: 'x' }, /"toString": unknown option/],
    [{ constructor: true }, /"constructor": unknown option/],
    [{ hasOwnProperty: 1 }, /"hasOwnProperty": unknown option/],
    [JSON.parse('{"__proto__": {"attachment": false}}'), /"__proto__": unknown option/],
    [null, /"options": must be an object, got null/],
    [[], /"options": must be an object/]
  ]
  for (const [input, message] of table) {
    t.throws(() => validateDownloadOptions(input), { code: 'FST_DOWNLOADVIEW_INVALID_OPTION', message }, JSON.stringify(input))
  }
  t.throws(() => validateDownloadOptions({ attachment: 1 }, 'virtualDownload.'), { message: /"virtualDownload.attachment"/ })
  t.throws(() => validateDownloadOptions('x', 'virtualDownload.'), { message: /"virtualDownload": must be an object/ })
})

t.test('plans resolve what does not depend on the file once', async (t) => {
  const defaults = resolvePlan({})
  t.equal(defaults.dispositionType, 'attachment')
  t.equal(defaults.acceptRanges, true)
  t.equal(defaults.disposition, undefined)
  t.equal(defaults.contentType, undefined)

  const fixed = resolvePlan({ attachment: false }, { basename: 'r.csv', mimetype: 'text/csv', charset: 'latin1', acceptRanges: false })
  t.equal(fixed.dispositionType, 'inline')
  t.equal(fixed.disposition, 'inline; filename="r.csv"')
  t.equal(fixed.contentType, 'text/csv; charset=latin1')
  t.equal(fixed.acceptRanges, false)

  t.equal(resolvePlan({ mimetype: 'image/png' }).contentType, 'image/png', 'binary types take no charset')
  t.equal(resolvePlan({ mimetype: 'text/plain' }).contentType, undefined, 'text waits for the file charset')
  t.equal(resolvePlan({ attachment: false }, { attachment: true }).dispositionType, 'attachment', 'route wins over plugin')
})
