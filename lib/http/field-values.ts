// Grammar checks for values this plugin puts in response headers (RFC 9110 §5.5, §5.6.2, §8.8.3).
// A value that fails them never reaches a header: options fail at registration, file fields
// fail before the first byte.

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const PARAMETER = String.raw`\s*;\s*[!#$%&'*+.^_\x60|~0-9A-Za-z-]+=(?:[!#$%&'*+.^_\x60|~0-9A-Za-z-]+|"(?:[\t\x20\x21\x23-\x5b\x5d-\x7e]|\\[\t\x20-\x7e])*")`
const MEDIA_TYPE = new RegExp(String.raw`^[!#$%&'*+.^_\x60|~0-9A-Za-z-]+/[!#$%&'*+.^_\x60|~0-9A-Za-z-]+(?:${PARAMETER})*$`)
// field-value: visible ASCII, space and tab; obs-text (0x80-0xff) is tolerated by RFC 9110 §5.5
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE ; etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3)
const ENTITY_TAG = /^(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/
const OPAQUE_TAG = /^[\x21\x23-\x7e\x80-\xff]*$/

export function isToken (value: string): boolean {
  return TOKEN.test(value)
}

export function isMediaType (value: string): boolean {
  return MEDIA_TYPE.test(value)
}

export function isFieldValue (value: string): boolean {
  return FIELD_VALUE.test(value)
}

/** 'abc' -> '"abc"'; '"abc"' and 'W/"abc"' stay; undefined when no entity-tag can hold it. */
export function toEntityTag (etag: string): string | undefined {
  if (ENTITY_TAG.test(etag)) return etag
  if (OPAQUE_TAG.test(etag)) return `"${etag}"`
  return undefined
}
