/** User Data Header (3GPP TS 23.040 9.2.3.24): building concatenation headers, parsing any IEs. */
import { CodecError } from './errors.js';
import type { ConcatInfo } from './types.js';

export const IEI_CONCAT_8 = 0x00;
export const IEI_CONCAT_16 = 0x08;

export interface UdhElement {
  iei: number;
  data: Buffer;
}
export interface ParsedUdh {
  /** Octets of the header including its length octet (UDHL + 1). */
  length: number;
  elements: UdhElement[];
  concat?: ConcatInfo;
}

/** Header octets (with the UDHL octet) of concatenation info for one part. */
export function concatUdh(bits: 8 | 16, reference: number, total: number, part: number): Buffer {
  return bits === 16
    ? Buffer.from([6, IEI_CONCAT_16, 4, (reference >>> 8) & 0xff, reference & 0xff, total, part])
    : Buffer.from([5, IEI_CONCAT_8, 3, reference & 0xff, total, part]);
}

/** Parses the UDH at the start of `body`. Throws CodecError when it is truncated or malformed. */
export function parseUdh(body: Uint8Array): ParsedUdh {
  if (body.length === 0) throw new CodecError('UDHI set but the message is empty', 'bad_udh');
  const udhl = body[0] as number;
  if (udhl + 1 > body.length) {
    throw new CodecError(
      `UDH length ${udhl} exceeds the ${body.length - 1} octets that follow it`,
      'bad_udh',
    );
  }
  const elements: UdhElement[] = [];
  let concat: ConcatInfo | undefined;
  let i = 1;
  const end = udhl + 1;
  while (i < end) {
    if (i + 2 > end) throw new CodecError(`UDH information element at octet ${i} is truncated`, 'bad_udh');
    const iei = body[i] as number;
    const len = body[i + 1] as number;
    if (i + 2 + len > end) {
      throw new CodecError(
        `UDH information element 0x${iei.toString(16).padStart(2, '0')} overruns the header`,
        'bad_udh',
      );
    }
    const data = Buffer.from(body.subarray(i + 2, i + 2 + len));
    elements.push({ iei, data });
    if (iei === IEI_CONCAT_8 && len === 3) {
      concat = { reference: data[0] as number, total: data[1] as number, part: data[2] as number };
    } else if (iei === IEI_CONCAT_16 && len === 4) {
      concat = { reference: data.readUInt16BE(0), total: data[2] as number, part: data[3] as number };
    } else if ((iei === IEI_CONCAT_8 || iei === IEI_CONCAT_16) && len !== (iei === IEI_CONCAT_8 ? 3 : 4)) {
      throw new CodecError(
        `UDH concatenation element 0x${iei.toString(16).padStart(2, '0')} has length ${len}`,
        'bad_udh',
      );
    }
    i += 2 + len;
  }
  if (concat && (concat.total === 0 || concat.part === 0 || concat.part > concat.total)) {
    throw new CodecError(`UDH concatenation part ${concat.part} of ${concat.total} is invalid`, 'bad_udh');
  }
  return concat ? { length: end, elements, concat } : { length: end, elements };
}

/** Fill bits that align packed septets after a UDH of `udhOctets` octets (UDHL included). */
export function fillBitsAfter(udhOctets: number): number {
  return (7 - ((udhOctets * 8) % 7)) % 7;
}
