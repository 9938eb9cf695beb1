/** Which charset a text goes out in, and the data_coding of each. */
import { gsmSeptetCount } from './gsm7.js';
import type { Charset } from './types.js';

export const DATA_CODING: Readonly<Record<Charset, number>> = { gsm7: 0, latin1: 3, '8bit': 4, ucs2: 8 };

const CHARSETS: ReadonlySet<string> = new Set(['gsm7', '8bit', 'latin1', 'ucs2']);

/** A tp_dcs_character_set value as a Charset (case-insensitive), or undefined if it is none. */
export function parseCharset(value: unknown): Charset | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toLowerCase();
  return CHARSETS.has(v) ? (v as Charset) : undefined;
}

/** The forced charset, else GSM 03.38 when every character fits, else UCS-2. */
export function chooseCharset(text: string, forced?: Charset): Charset {
  if (forced !== undefined) return forced;
  return gsmSeptetCount(text) >= 0 ? 'gsm7' : 'ucs2';
}
