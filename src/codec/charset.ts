/** Which charset a text goes out in, and the data_coding of each. */
import { gsmSeptetCount } from './gsm7.js';
import type { Charset } from './types.js';

export const DATA_CODING: Readonly<Record<Charset, number>> = { gsm7: 0, latin1: 3, '8bit': 4, ucs2: 8 };

/** The forced charset, else GSM 03.38 when every character fits, else UCS-2. */
export function chooseCharset(text: string, forced?: Charset): Charset {
  if (forced !== undefined) return forced;
  return gsmSeptetCount(text) >= 0 ? 'gsm7' : 'ucs2';
}
