import mime from 'mime'

export const DEFAULT_MIMETYPE = 'application/octet-stream'
export const DEFAULT_CHARSET = 'utf-8'

// Types whose bytes are text, so a charset parameter means something for them.
const TEXT_LIKE = /^(?:text\/|application\/(?:json|xml|javascript|ecmascript|x-javascript|x-www-form-urlencoded|yaml|x-yaml|toml|sql|graphql|x-sh)(?:$|;)|[^;]*\+(?:json|xml|yaml)(?:$|;))/i
const HAS_CHARSET = /;\s*charset=/i

/** The type `mime` guesses from a file name, else application/octet-stream. */
export function guessMimetype (basename: string | undefined): string {
  return (basename === undefined ? null : mime.getType(basename)) ?? DEFAULT_MIMETYPE
}

/** `mimetype; charset=...` for text-like types without a charset; other types as they are. */
export function contentType (mimetype: string, charset: string): string {
  if (!TEXT_LIKE.test(mimetype) || HAS_CHARSET.test(mimetype)) return mimetype
  return `${mimetype}; charset=${charset}`
}
