/** ISO-8859-1 (data_coding 3) and raw 8-bit bodies (data_coding 4), one octet per character. */
import { CodecError } from './errors.js';

/** Index of the first character above U+00FF, or -1. */
function firstNonLatin1(text: string): number {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return i;
  return -1;
}

export function latin1Encode(text: string, what = 'Latin-1'): Buffer {
  const bad = firstNonLatin1(text);
  if (bad >= 0) {
    const cp = text.codePointAt(bad) ?? 0;
    throw new CodecError(
      `character ${JSON.stringify(String.fromCodePoint(cp))} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}) at index ${bad} is not ${what}`,
      'unencodable',
    );
  }
  return Buffer.from(text, 'latin1');
}

export function latin1Decode(buf: Uint8Array, offset = 0): string {
  return Buffer.from(buf.buffer, buf.byteOffset + offset, buf.length - offset).toString('latin1');
}
