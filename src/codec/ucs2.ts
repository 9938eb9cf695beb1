/** UCS-2 (UTF-16 big-endian code units, as SMSCs and handsets use it; surrogate pairs carried as two units). */
import { CodecError } from './errors.js';

export function ucs2Encode(text: string, start = 0, end = text.length): Buffer {
  const out = Buffer.allocUnsafe((end - start) * 2);
  for (let i = start, o = 0; i < end; i++, o += 2) {
    const c = text.charCodeAt(i);
    out[o] = c >>> 8;
    out[o + 1] = c & 0xff;
  }
  return out;
}

export function ucs2Decode(buf: Uint8Array, offset = 0): string {
  const len = buf.length - offset;
  if (len % 2 !== 0) throw new CodecError(`UCS-2 body has an odd number of octets (${len})`, 'bad_ucs2');
  // utf16le of a byte-swapped copy: native speed without per-character string building.
  const copy = Buffer.from(buf.subarray(offset));
  return copy.swap16().toString('utf16le');
}

export function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
