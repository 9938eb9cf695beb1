/** Text that cannot be encoded, or bytes that cannot be decoded. `code` lets callers count by cause. */
export type CodecErrorCode =
  | 'unencodable'
  | 'too_many_parts'
  | 'too_long'
  | 'bad_udh'
  | 'bad_ucs2'
  | 'unsupported_coding'
  | 'bad_address'
  | 'bad_option';

export class CodecError extends Error {
  override name = 'CodecError';
  readonly code: CodecErrorCode;
  constructor(message: string, code: CodecErrorCode = 'unencodable') {
    super(message);
    this.code = code;
  }
}
