/** Inbound short_message / message_payload → text, by data_coding, with UDH or SAR concatenation info. */
import { TextDecoder } from 'node:util';
import { CodecError } from './errors.js';
import { gsmDecode, unpack7 } from './gsm7.js';
import { latin1Decode } from './latin1.js';
import type { ConcatInfo, DecodedMessage } from './types.js';
import { fillBitsAfter, parseUdh, type ParsedUdh } from './udh.js';
import { ucs2Decode } from './ucs2.js';

export const ESM_UDHI = 0x40;

export type SmscDefaultAlphabet = 'gsm7' | 'ascii' | 'latin1';

export interface DecodeInput {
  dataCoding: number;
  esmClass: number;
  shortMessage: Buffer;
  messagePayload?: Buffer;
  sar?: { reference: number; part: number; total: number };
  /** GSM 7-bit bodies arrive packed (default false: one septet per octet, what SMSCs send over SMPP). */
  packed?: boolean;
  /** What data_coding 0 ("SMSC default alphabet") means for this carrier; default gsm7. */
  smscDefault?: SmscDefaultAlphabet;
}

type Reader = 'gsm7' | 'ascii' | 'latin1' | 'ucs2' | '8bit' | { label: string };

/**
 * The alphabet of a data_coding (SMPP 3.4 5.2.19 for 0x00-0x0F, GSM 03.38 coding groups above).
 * Compressed and reserved groups throw: their bytes cannot be turned into text.
 */
export function readerFor(dcs: number, smscDefault: SmscDefaultAlphabet = 'gsm7'): Reader {
  if (dcs < 0 || dcs > 0xff || !Number.isInteger(dcs))
    throw new CodecError(`data_coding ${dcs} is out of range`, 'unsupported_coding');
  if (dcs <= 0x0f) {
    switch (dcs) {
      case 0x00:
        return smscDefault;
      case 0x01:
        return 'ascii';
      case 0x03:
        return 'latin1';
      case 0x08:
        return 'ucs2';
      case 0x02:
      case 0x04:
        return '8bit';
      case 0x05:
      case 0x0d:
        return { label: 'shift_jis' };
      case 0x06:
        return { label: 'iso-8859-5' };
      case 0x07:
        return { label: 'iso-8859-8' };
      case 0x0a:
        return { label: 'iso-2022-jp' };
      case 0x0e:
        return { label: 'euc-kr' };
      default:
        // 0x09 pictogram and reserved values: keep the octets readable rather than drop the message.
        return '8bit';
    }
  }
  const group = dcs >> 4;
  if (group <= 0x07) {
    // General data coding / automatic deletion groups (00xx, 01xx): bit 5 = compressed.
    if (dcs & 0x20)
      throw new CodecError(
        `data_coding 0x${dcs.toString(16)} is compressed text (not supported)`,
        'unsupported_coding',
      );
    const alphabet = (dcs >> 2) & 0x03;
    if (alphabet === 0) return 'gsm7';
    if (alphabet === 1) return '8bit';
    if (alphabet === 2) return 'ucs2';
    throw new CodecError(`data_coding 0x${dcs.toString(16)} uses a reserved alphabet`, 'unsupported_coding');
  }
  if (group === 0x0c || group === 0x0d) return 'gsm7'; // message waiting indication, GSM 7-bit
  if (group === 0x0e) return 'ucs2'; // message waiting indication, UCS-2
  if (group === 0x0f) return dcs & 0x04 ? '8bit' : 'gsm7'; // data coding / message class
  throw new CodecError(
    `data_coding 0x${dcs.toString(16)} is in a reserved coding group`,
    'unsupported_coding',
  );
}

const textDecoders = new Map<string, TextDecoder>();
function decodeWithLabel(label: string, body: Uint8Array): string {
  let d = textDecoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label);
    } catch {
      throw new CodecError(`no decoder for ${label} in this runtime`, 'unsupported_coding');
    }
    textDecoders.set(label, d);
  }
  return d.decode(body);
}

/** Decodes one part. Throws CodecError on a malformed UDH, odd-length UCS-2 or an unusable data_coding. */
export function decodeMessage(input: DecodeInput): DecodedMessage {
  const body =
    input.messagePayload && input.messagePayload.length > 0 ? input.messagePayload : input.shortMessage;
  const reader = readerFor(input.dataCoding, input.smscDefault);
  let udh: ParsedUdh | undefined;
  if ((input.esmClass & ESM_UDHI) !== 0) udh = parseUdh(body);
  const offset = udh?.length ?? 0;
  let text: string;
  if (reader === 'gsm7') {
    text = input.packed
      ? gsmDecode(unpack7(body, offset, udh ? fillBitsAfter(offset) : 0))
      : gsmDecode(body, offset);
  } else if (reader === 'ucs2') text = ucs2Decode(body, offset);
  else if (reader === 'ascii' || reader === 'latin1' || reader === '8bit') text = latin1Decode(body, offset);
  else text = decodeWithLabel(reader.label, body.subarray(offset));
  const out: DecodedMessage = { text, charset: typeof reader === 'string' ? reader : reader.label };
  let concat: ConcatInfo | undefined = udh?.concat;
  if (concat === undefined && input.sar) {
    const { reference, part, total } = input.sar;
    if (total < 1 || part < 1 || part > total)
      throw new CodecError(`SAR segment ${part} of ${total} is invalid`, 'bad_udh');
    concat = { reference, part, total };
  }
  if (concat) out.concat = concat;
  if (udh) out.udh = udh.elements;
  return out;
}
