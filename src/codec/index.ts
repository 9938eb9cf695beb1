export type * from './types.js';
export { CodecError, type CodecErrorCode } from './errors.js';
export {
  GSM_BASIC,
  GSM_EXTENSION,
  GSM_ESCAPE,
  gsmEncode,
  gsmEncodeInto,
  gsmDecode,
  gsmSeptetCount,
  isGsm7,
  pack7,
  unpack7,
} from './gsm7.js';
export { ucs2Encode, ucs2Decode } from './ucs2.js';
export { latin1Encode, latin1Decode } from './latin1.js';
export { DATA_CODING, chooseCharset } from './charset.js';
export {
  concatUdh,
  parseUdh,
  fillBitsAfter,
  IEI_CONCAT_8,
  IEI_CONCAT_16,
  type ParsedUdh,
  type UdhElement,
} from './udh.js';
export {
  encodeMessage,
  byteLengthInfo,
  DEFAULT_MAX_PARTS,
  MAX_PAYLOAD_OCTETS,
  type LengthInfo,
} from './encode.js';
export { decodeMessage, readerFor, ESM_UDHI, type DecodeInput, type SmscDefaultAlphabet } from './decode.js';
export {
  isReceipt,
  parseReceipt,
  formatReceipt,
  outcomeOf,
  parseReceiptDate,
  MESSAGE_STATES,
  STATE_CODES,
  receiptState,
  smppAbsoluteTime,
  wantsReceipt,
} from './receipt.js';
export { addressFor, TON, NPI, SHORT_CODE_MAX_DIGITS } from './address.js';
