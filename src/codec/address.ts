/** SMPP source/destination addresses: TON/NPI (SMPP 3.4 5.2.5/5.2.6) chosen from the number. */
import { CodecError } from './errors.js';
import { isGsm7 } from './gsm7.js';
import type { SmppAddress } from './types.js';

export const TON = { UNKNOWN: 0, INTERNATIONAL: 1, NATIONAL: 2, NETWORK: 3, ALPHANUMERIC: 5 } as const;
export const NPI = { UNKNOWN: 0, ISDN: 1 } as const;

/** Digits a short code has at most; such numbers go out as TON 0 (unknown), which carriers route as-is. */
export const SHORT_CODE_MAX_DIGITS = 6;

/**
 * - "+447700900123" / "00447700900123" → TON 1 NPI 1, "447700900123" (prefix stripped);
 * - digits starting with one 0 ("07700900123") → TON 2 NPI 1 (national);
 * - up to 6 digits ("12345") → TON 0 NPI 1: short codes are network-specific, and "unknown"
 *   lets the SMSC apply its own numbering instead of us guessing national vs network;
 * - other digit strings (7+ digits, no trunk prefix) → TON 1 NPI 1: the core stores E.164;
 * - anything with a letter → TON 5 NPI 0 alphanumeric sender (≤ 11 GSM characters).
 * Spaces, dashes, dots and parentheses in numbers are removed. Overrides win.
 */
export function addressFor(number: string, overrides: { ton?: number; npi?: number } = {}): SmppAddress {
  const raw = number.trim();
  if (raw === '') throw new CodecError('address is empty', 'bad_address');
  const compact = raw.replace(/[\s\-().]/g, '');
  let addr: string;
  let ton: number;
  let npi: number;
  if (/^\+\d+$/.test(compact)) {
    addr = compact.slice(1);
    ton = TON.INTERNATIONAL;
    npi = NPI.ISDN;
  } else if (/^00\d+$/.test(compact)) {
    addr = compact.slice(2);
    ton = TON.INTERNATIONAL;
    npi = NPI.ISDN;
  } else if (/^\d+$/.test(compact)) {
    addr = compact;
    npi = NPI.ISDN;
    ton =
      compact.length <= SHORT_CODE_MAX_DIGITS
        ? TON.UNKNOWN
        : compact.startsWith('0')
          ? TON.NATIONAL
          : TON.INTERNATIONAL;
  } else {
    addr = raw;
    ton = TON.ALPHANUMERIC;
    npi = NPI.UNKNOWN;
  }
  if (overrides.ton !== undefined) ton = overrides.ton;
  if (overrides.npi !== undefined) npi = overrides.npi;
  if (ton === TON.ALPHANUMERIC) {
    if (addr.length > 11)
      throw new CodecError(
        `alphanumeric sender ${JSON.stringify(addr)} is longer than 11 characters`,
        'bad_address',
      );
    if (!isGsm7(addr))
      throw new CodecError(
        `alphanumeric sender ${JSON.stringify(addr)} has characters outside GSM 03.38`,
        'bad_address',
      );
  } else if (addr.length > 20) {
    throw new CodecError(
      `address ${JSON.stringify(addr)} is longer than SMPP's 20 characters`,
      'bad_address',
    );
  }
  return { ton, npi, addr };
}
