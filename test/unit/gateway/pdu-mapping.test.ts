import { describe, expect, it } from 'vitest';
import { CodecError, charsetFor, encodeCore } from '../../../src/gateway/pdu-mapping.js';
import type { CoreMessage } from '../../../src/core/index.js';

const codec = { dataCoding: 'gsm7', longMessage: 'udh8', packed: false } as const;

function message(body: string, charset?: string): CoreMessage {
  return {
    id: '1',
    source_msisdn: '+5511999990000',
    destination_msisdn: '+5511988880000',
    message_body: body,
    ...(charset !== undefined ? { tp_dcs_character_set: charset } : {}),
  };
}

describe('encodeCore', () => {
  it('uses the charset the core asks for, whatever its case', () => {
    expect(charsetFor(message('hi', 'UCS2'), 'gsm7')).toBe('ucs2');
    expect(charsetFor(message('hi', 'nonsense'), 'latin1')).toBe('latin1');
    expect(encodeCore(message('hi', 'ucs2'), codec, 1)[0]?.dataCoding).toBe(8);
  });

  it('sends text a forced gsm7 or latin1 cannot carry as UCS-2 instead of mangling it', () => {
    const parts = encodeCore(message('Привет', 'gsm7'), codec, 1);
    expect(parts).toHaveLength(1);
    expect(parts[0]?.dataCoding).toBe(8);
    expect(encodeCore(message('€ 1 → 2', 'latin1'), codec, 1)[0]?.dataCoding).toBe(8);
  });

  it('does not retry in UCS-2 when the text fits but is too long: the original error stands', () => {
    // 3 GSM parts of 153 septets fit; maxParts 2 refuses it. UCS-2 would need even more parts,
    // so the error must name the GSM count, not a UCS-2 retry's.
    const body = 'a'.repeat(153 * 3);
    let caught: unknown;
    try {
      encodeCore(message(body), { ...codec, maxParts: 2 }, 1);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CodecError);
    expect((caught as CodecError).code).toBe('too_many_parts');
    expect((caught as CodecError).message).toMatch(/\b3\b/);
  });
});
