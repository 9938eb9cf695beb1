/**
 * Outbound text → SMPP parts: charset choice, single/long message, and the split (UDH with an
 * 8- or 16-bit reference, SAR TLVs, or the whole body in message_payload).
 */
import { chooseCharset, DATA_CODING } from './charset.js';
import { CodecError } from './errors.js';
import { GSM_ESCAPE, gsmEncodeInto, gsmScratch, gsmSeptetCount, pack7, packedLength } from './gsm7.js';
import { latin1Encode } from './latin1.js';
import type { Charset, EncodedPart, EncodeOptions, LongMessageMode } from './types.js';
import { concatUdh, fillBitsAfter } from './udh.js';
import { isHighSurrogate, ucs2Encode } from './ucs2.js';

/** Parts allowed when EncodeOptions.maxParts is unset: the UDH/SAR limit (a one-octet count). */
export const DEFAULT_MAX_PARTS = 255;
/** message_payload is a TLV with a 16-bit length. */
export const MAX_PAYLOAD_OCTETS = 65535;

/** Units one SMS carries: septets (gsm7), octets (latin1/8bit), UTF-16 code units (ucs2). */
const SINGLE: Readonly<Record<Charset, number>> = { gsm7: 160, latin1: 140, '8bit': 140, ucs2: 70 };
/** Units per part of a long message; SAR leaves room for the UDH the SMSC adds, like udh8. */
const PER_PART: Readonly<Record<Exclude<LongMessageMode, 'payload'>, Readonly<Record<Charset, number>>>> = {
  udh8: { gsm7: 153, latin1: 134, '8bit': 134, ucs2: 67 },
  udh16: { gsm7: 152, latin1: 133, '8bit': 133, ucs2: 66 },
  sar: { gsm7: 153, latin1: 134, '8bit': 134, ucs2: 67 },
};
const UDH_OCTETS: Readonly<Record<Exclude<LongMessageMode, 'payload'>, number>> = {
  udh8: 6,
  udh16: 7,
  sar: 0,
};

let rollingReference = Math.floor(Math.random() * 0x10000);

/** Units of a text in one charset, with how to cut and serialise them. */
interface Units {
  charset: Charset;
  length: number;
  /** True if a part must not end after unit i (an escape, a high surrogate). */
  leadAt(i: number): boolean;
  bytes(start: number, end: number, fillBits: number): Buffer;
  /** Octets bytes() would produce. */
  octets(start: number, end: number, fillBits: number): number;
}

function unitsOf(text: string, charset: Charset, packed: boolean): Units {
  switch (charset) {
    case 'gsm7': {
      // Views the shared scratch: valid only until the next encode, which is after this call returns.
      const all = gsmScratch(text.length);
      const s = all.subarray(0, gsmEncodeInto(text, all));
      return {
        charset,
        length: s.length,
        leadAt: (i) => s[i] === GSM_ESCAPE,
        bytes: (a, b, fill) => (packed ? pack7(s.subarray(a, b), fill) : Buffer.from(s.subarray(a, b))),
        octets: (a, b, fill) => (packed ? packedLength(s, a, b, fill) : b - a),
      };
    }
    case 'ucs2':
      return {
        charset,
        length: text.length,
        leadAt: (i) => isHighSurrogate(text.charCodeAt(i)),
        bytes: (a, b) => ucs2Encode(text, a, b),
        octets: (a, b) => (b - a) * 2,
      };
    case 'latin1':
    case '8bit': {
      const buf = latin1Encode(
        text,
        charset === '8bit' ? 'an octet (8-bit bodies take U+0000-U+00FF, one octet each)' : 'Latin-1',
      );
      return {
        charset,
        length: buf.length,
        leadAt: () => false,
        bytes: (a, b) => (a === 0 && b === buf.length ? buf : Buffer.from(buf.subarray(a, b))),
        octets: (a, b) => b - a,
      };
    }
    default:
      throw new CodecError(`unknown charset ${JSON.stringify(charset)}`, 'bad_option');
  }
}

/** [start, end) of each part: never after an escape or a high surrogate; packed parts fit 140 octets. */
function cut(u: Units, per: number, room: number, fill: number): [number, number][] {
  const out: [number, number][] = [];
  let start = 0;
  while (start < u.length) {
    let end = Math.min(u.length, start + per);
    if (end < u.length && end - start > 1 && u.leadAt(end - 1)) end--;
    // Packed: a CR on the last septet of a full part would need a padding CR that does not fit.
    while (end - start > 1 && u.octets(start, end, fill) > room) end--;
    out.push([start, end]);
    start = end;
  }
  return out;
}

/** Octets a part's body may take; unpacked GSM is counted in septets (the SMSC packs it). */
function room(charset: Charset, packed: boolean, udhOctets: number): number {
  return charset === 'gsm7' && !packed ? Number.POSITIVE_INFINITY : 140 - udhOctets;
}

function checkedMaxParts(v: number | undefined): number {
  if (v === undefined) return DEFAULT_MAX_PARTS;
  if (!Number.isInteger(v) || v < 1 || v > 255)
    throw new CodecError(`maxParts must be 1-255, got ${v}`, 'bad_option');
  return v;
}

export interface LengthInfo {
  charset: Charset;
  dataCoding: number;
  /** Septets (gsm7, extension characters count two), octets (latin1/8bit) or UTF-16 units (ucs2). */
  units: number;
  unitName: 'septets' | 'octets' | 'ucs2 units';
  /** SMS parts the text needs (1 in payload mode unless it fits nowhere). */
  parts: number;
  /** Units a part can carry (single-SMS capacity when parts is 1). */
  perPart: number;
  /** Units left in the last part. */
  remaining: number;
}

/** How long a text is on the wire and how many parts it takes. Throws CodecError like encodeMessage. */
export function byteLengthInfo(text: string, opts: EncodeOptions = {}): LengthInfo {
  const charset = chooseCharset(text, opts.charset);
  const packed = opts.packed === true;
  const u = unitsOf(text, charset, packed);
  const mode = opts.longMessage ?? 'udh8';
  const unitName = charset === 'gsm7' ? 'septets' : charset === 'ucs2' ? 'ucs2 units' : 'octets';
  const base = { charset, dataCoding: DATA_CODING[charset], units: u.length, unitName } as const;
  if (fitsOne(u, packed) || mode === 'payload') {
    const single = SINGLE[charset];
    return { ...base, parts: 1, perPart: single, remaining: Math.max(0, single - u.length) };
  }
  const per = PER_PART[mode][charset];
  const ranges = cut(u, per, room(charset, packed, UDH_OCTETS[mode]), fillBitsAfter(UDH_OCTETS[mode]));
  const last = ranges[ranges.length - 1] as [number, number];
  return { ...base, parts: ranges.length, perPart: per, remaining: per - (last[1] - last[0]) };
}

function fitsOne(u: Units, packed: boolean): boolean {
  return u.length <= SINGLE[u.charset] && (!packed || u.octets(0, u.length, 0) <= 140);
}

/** The text as SMPP parts. Throws CodecError (unencodable text, too many parts, bad options). */
export function encodeMessage(text: string, opts: EncodeOptions = {}): EncodedPart[] {
  if (opts.packed !== true && (opts.charset === undefined || opts.charset === 'gsm7')) {
    // Hot path: one unpacked GSM SMS, written straight into its (pooled) Buffer.
    const n = gsmSeptetCount(text);
    if (n >= 0 && n <= 160) {
      const out = Buffer.allocUnsafe(n);
      gsmEncodeInto(text, out);
      if (opts.maxParts !== undefined) checkedMaxParts(opts.maxParts);
      return [{ dataCoding: 0, esmClassUdhi: false, shortMessage: out, tlvs: {} }];
    }
  }
  const charset = chooseCharset(text, opts.charset);
  const packed = opts.packed === true;
  const mode: LongMessageMode = opts.longMessage ?? 'udh8';
  const maxParts = checkedMaxParts(opts.maxParts);
  const dataCoding = DATA_CODING[charset];
  const u = unitsOf(text, charset, packed);
  if (fitsOne(u, packed)) {
    return [{ dataCoding, esmClassUdhi: false, shortMessage: u.bytes(0, u.length, 0), tlvs: {} }];
  }
  if (mode === 'payload') {
    const body = u.bytes(0, u.length, 0);
    if (body.length > MAX_PAYLOAD_OCTETS) {
      throw new CodecError(
        `message is ${body.length} octets; message_payload holds at most ${MAX_PAYLOAD_OCTETS}`,
        'too_long',
      );
    }
    return [
      { dataCoding, esmClassUdhi: false, shortMessage: Buffer.alloc(0), tlvs: { message_payload: body } },
    ];
  }
  if (mode !== 'udh8' && mode !== 'udh16' && mode !== 'sar') {
    throw new CodecError(`unknown long message mode ${JSON.stringify(mode)}`, 'bad_option');
  }
  const udhOctets = UDH_OCTETS[mode];
  const fill = packed ? fillBitsAfter(udhOctets) : 0;
  const ranges = cut(u, PER_PART[mode][charset], room(charset, packed, udhOctets), fill);
  if (ranges.length > maxParts) {
    throw new CodecError(
      `message needs ${ranges.length} parts (${u.length} ${charset === 'gsm7' ? 'septets' : charset === 'ucs2' ? 'UCS-2 units' : 'octets'}); at most ${maxParts} allowed`,
      'too_many_parts',
    );
  }
  const total = ranges.length;
  let reference = opts.reference;
  if (reference === undefined) reference = rollingReference = (rollingReference + 1) & 0xffff;
  reference = mode === 'udh8' ? reference & 0xff : reference & 0xffff;
  const parts: EncodedPart[] = [];
  for (let i = 0; i < total; i++) {
    const [a, b] = ranges[i] as [number, number];
    const body = u.bytes(a, b, fill);
    if (mode === 'sar') {
      parts.push({
        dataCoding,
        esmClassUdhi: false,
        shortMessage: body,
        tlvs: { sar_msg_ref_num: reference, sar_total_segments: total, sar_segment_seqnum: i + 1 },
      });
    } else {
      const udh = concatUdh(mode === 'udh16' ? 16 : 8, reference, total, i + 1);
      parts.push({ dataCoding, esmClassUdhi: true, shortMessage: Buffer.concat([udh, body]), tlvs: {} });
    }
  }
  return parts;
}
