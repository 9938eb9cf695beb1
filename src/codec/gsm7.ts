/**
 * GSM 03.38 / 3GPP TS 23.038 default alphabet and its extension table, with 7-bit packing.
 * Lookups are flat typed arrays built once at load: the gateway encodes on its hot path.
 */
import { CodecError } from './errors.js';

/** The default alphabet, indexed by septet. 0x1B is the escape to the extension table. */
export const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
export const GSM_ESCAPE = 0x1b;
/** Extension table (septet after ESC → character). */
export const GSM_EXTENSION: Readonly<Record<number, string>> = {
  0x0a: '\f',
  0x14: '^',
  0x28: '{',
  0x29: '}',
  0x2f: '\\',
  0x3c: '[',
  0x3d: '~',
  0x3e: ']',
  0x40: '|',
  0x65: '€',
};

const EXT_FLAG = 0x100;
/** UTF-16 code unit → septet, septet|EXT_FLAG for extension characters, -1 when absent. */
const ENCODE = new Int16Array(0x10000).fill(-1);
const DECODE_BASIC: string[] = [];
const DECODE_EXT: string[] = [];
for (let i = 0; i < 128; i++) {
  const ch = GSM_BASIC[i] as string;
  DECODE_BASIC.push(ch);
  if (i !== GSM_ESCAPE) ENCODE[ch.charCodeAt(0)] = i;
}
for (let i = 0; i < 128; i++) {
  // 23.038: an escape followed by an undefined code shows the default-alphabet character.
  DECODE_EXT.push(GSM_EXTENSION[i] ?? (i === GSM_ESCAPE ? ' ' : (DECODE_BASIC[i] as string)));
}
for (const [code, ch] of Object.entries(GSM_EXTENSION)) ENCODE[ch.charCodeAt(0)] = Number(code) | EXT_FLAG;

/** Septets `text` needs (extension characters count two), or -1 if a character is not GSM. */
export function gsmSeptetCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const v = ENCODE[text.charCodeAt(i)] as number;
    if (v < 0) return -1;
    n += v & EXT_FLAG ? 2 : 1;
  }
  return n;
}

/** True if every character of `text` is in the default alphabet or its extension table. */
export function isGsm7(text: string): boolean {
  return gsmSeptetCount(text) >= 0;
}

function unencodable(text: string, i: number): CodecError {
  const cp = text.codePointAt(i) ?? 0;
  const ch = String.fromCodePoint(cp);
  return new CodecError(
    `character ${JSON.stringify(ch)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}) at index ${i} is not in the GSM 03.38 alphabet`,
    'unencodable',
  );
}

/**
 * Writes the septets of `text` (one per octet; an extension character is ESC + code) into `out`
 * from `offset` and returns how many it wrote. `out` needs room for 2 × text.length. Throws CodecError.
 */
export function gsmEncodeInto(text: string, out: Uint8Array, offset = 0): number {
  let n = offset;
  for (let i = 0; i < text.length; i++) {
    const v = ENCODE[text.charCodeAt(i)] as number;
    if (v < 0) throw unencodable(text, i);
    if (v & EXT_FLAG) {
      out[n++] = GSM_ESCAPE;
      out[n++] = v & 0x7f;
    } else out[n++] = v;
  }
  return n - offset;
}

/** Scratch space reused by every (synchronous) encode: allocating a typed array per call costs more than the encoding. */
let scratch = new Uint8Array(1024);
export function gsmScratch(textLength: number): Uint8Array {
  if (scratch.length < textLength * 2) scratch = new Uint8Array(textLength * 2);
  return scratch;
}

/** One septet per octet (values 0-127); an extension character is ESC + code. Throws CodecError. */
export function gsmEncode(text: string): Uint8Array {
  const buf = gsmScratch(text.length);
  const n = gsmEncodeInto(text, buf);
  return buf.slice(0, n);
}

/** Text of unpacked septets (the top bit of each octet is ignored). */
export function gsmDecode(septets: Uint8Array, start = 0, end = septets.length): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const v = (septets[i] as number) & 0x7f;
    if (v === GSM_ESCAPE) {
      // A lone trailing escape is shown as a space (23.038 6.2.1.1).
      s += i + 1 < end ? (DECODE_EXT[(septets[++i] as number) & 0x7f] as string) : ' ';
    } else s += DECODE_BASIC[v] as string;
  }
  return s;
}

const CR = 0x0d;

/**
 * Packs septets LSB first after `fillBits` zero bits (the alignment after a UDH). When the last
 * octet would have 7 spare bits, they carry CR (23.038 6.1.2.3.1) so no phantom '@' appears; a
 * wanted final CR ending on an octet boundary gets a second CR for the same reason.
 */
/** Octets pack7 produces for `septets` (including CR padding). */
export function packedLength(septets: Uint8Array, start: number, end: number, fillBits = 0): number {
  const total = fillBits + (end - start) * 7;
  const extra = total % 8 === 1 || (end > start && total % 8 === 0 && septets[end - 1] === CR) ? 7 : 0;
  return Math.ceil((total + extra) / 8);
}

export function pack7(septets: Uint8Array, fillBits = 0): Buffer {
  let n = septets.length;
  const total = fillBits + n * 7;
  let extra = 0;
  if (total % 8 === 1) extra = 1;
  else if (n > 0 && total % 8 === 0 && septets[n - 1] === CR) extra = 1;
  const out = Buffer.alloc(Math.ceil((total + extra * 7) / 8));
  let acc = 0;
  let bits = fillBits;
  let o = 0;
  n += extra;
  for (let i = 0; i < n; i++) {
    const s = i < septets.length ? (septets[i] as number) & 0x7f : CR;
    acc |= s << bits;
    bits += 7;
    while (bits >= 8) {
      out[o++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  if (bits > 0) out[o] = acc & 0xff;
  return out;
}

/**
 * Septets packed in `buf` from `offset` after `fillBits`. A final CR that ends exactly on the
 * last octet is the encoder's padding of 7 spare bits (or the second of a doubled CR): dropped.
 */
export function unpack7(buf: Uint8Array, offset = 0, fillBits = 0): Uint8Array {
  const avail = (buf.length - offset) * 8 - fillBits;
  if (avail <= 0) return new Uint8Array(0);
  const n = Math.floor(avail / 7);
  const out = new Uint8Array(n);
  let acc = 0;
  let bits = 0;
  let o = 0;
  let skip = fillBits;
  for (let i = offset; i < buf.length && o < n; i++) {
    acc |= (buf[i] as number) << bits;
    bits += 8;
    if (skip > 0) {
      acc >>>= skip;
      bits -= skip;
      skip = 0;
    }
    while (bits >= 7 && o < n) {
      out[o++] = acc & 0x7f;
      acc >>>= 7;
      bits -= 7;
    }
  }
  if (avail % 7 === 0 && n > 0 && out[n - 1] === CR) return out.subarray(0, n - 1);
  return out;
}
