import t from 'tap'
import { contentType, guessMimetype } from '../lib/http/content-type.js'

t.test('charset on text-like types only', async (t) => {
  const table: Array<[string, string]> = [
    ['text/plain', 'text/plain; charset=utf-8'],
    ['text/csv', 'text/csv; charset=utf-8'],
    ['application/json', 'application/json; charset=utf-8'],
    ['application/javascript', 'application/javascript; charset=utf-8'],
    ['application/xml', 'application/xml; charset=utf-8'],
    ['image/svg+xml', 'image/svg+xml; charset=utf-8'],
    ['application/vnd.api+json', 'application/vnd.api+json; charset=utf-8'],
    ['application/jsonp', 'application/jsonp'],
    ['application/octet-stream', 'application/octet-stream'],
    ['image/png', 'image/png'],
    ['application/pdf', 'application/pdf'],
    ['text/csv; header=present', 'text/csv; header=present; charset=utf-8'],
    ['text/plain; charset=iso-8859-1', 'text/plain; charset=iso-8859-1']
  ]
  for (const [type, expected] of table) t.equal(contentType(type, 'utf-8'), expected, type)
  t.equal(contentType('text/plain', 'iso-8859-1'), 'text/plain; charset=iso-8859-1')
})

t.test('guessing from the name', async (t) => {
  t.equal(guessMimetype('report.csv'), 'text/csv')
  t.equal(guessMimetype('a.tar.gz'), 'application/gzip')
  t.equal(guessMimetype('photo.JPG'), 'image/jpeg')
  t.equal(guessMimetype('no-extension'), 'application/octet-stream')
  t.equal(guessMimetype('x.unknownext'), 'application/octet-stream')
  t.equal(guessMimetype(undefined), 'application/octet-stream')
})
