import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GSM_BASIC, gsmDecode, gsmEncode, gsmSeptetCount, pack7, unpack7 } from '../../../src/codec/index.js';
import { CodecError } from '../../../src/codec/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();

describe('GSM 03.38 default alphabet', () => {
  it('maps characters to their 23.038 septets', () => {
    expect([...gsmEncode('@£$A a\n\rΔ_ÄàÇ')]).toEqual([
      0x00, 0x01, 0x02, 0x41, 0x20, 0x61, 0x0a, 0x0d, 0x10, 0x11, 0x5b, 0x7f, 0x09,
    ]);
    expect(GSM_BASIC).toHaveLength(128);
  });

  it('escapes extension characters as 1B xx and counts them as two septets', () => {
    expect(hex(gsmEncode('€'))).toBe('1B65');
    expect(hex(gsmEncode('[]{}\\~^|'))).toBe('1B3C1B3E1B281B291B2F1B3D1B141B40');
    expect(gsmSeptetCount('a€[')).toBe(5);
    expect(gsmSeptetCount('aж')).toBe(-1);
  });

  it('rejects a character outside the alphabet with a clear CodecError', () => {
    expect(() => gsmEncode('abc ж')).toThrow(CodecError);
    expect(() => gsmEncode('abc ж')).toThrow(/U\+0436.*index 4.*GSM 03.38/);
  });

  it('decodes escapes, an unknown extension code as the basic character, a lone escape as space', () => {
    expect(gsmDecode(Uint8Array.from([0x1b, 0x65, 0x41]))).toBe('€A');
    expect(gsmDecode(Uint8Array.from([0x1b, 0x41]))).toBe('A');
    expect(gsmDecode(Uint8Array.from([0x41, 0x1b]))).toBe('A ');
  });
});

describe('7-bit packing', () => {
  it('packs "hellohello" as in 23.038 (E8 32 9B FD 46 97 D9 EC 37)', () => {
    expect(hex(pack7(gsmEncode('hellohello')))).toBe('E8329BFD4697D9EC37');
    expect(gsmDecode(unpack7(Buffer.from('E8329BFD4697D9EC37', 'hex')))).toBe('hellohello');
  });

  it('packs 8 septets into 7 octets', () => {
    expect(pack7(gsmEncode('12345678'))).toHaveLength(7);
    expect(gsmDecode(unpack7(pack7(gsmEncode('12345678'))))).toBe('12345678');
  });

  it('fills 7 spare bits with CR (no phantom @) and drops it when unpacking', () => {
    const p = pack7(gsmEncode('1234567'));
    expect(p).toHaveLength(7);
    expect((p[6] as number) >> 1).toBe(0x0d);
    expect(gsmDecode(unpack7(p))).toBe('1234567');
  });

  it('keeps a real trailing @ that does not end on an octet boundary', () => {
    expect(gsmDecode(unpack7(pack7(gsmEncode('ab@'))))).toBe('ab@');
  });

  it('aligns septets after a UDH with fill bits', () => {
    // 6-octet UDH: 1 fill bit, first septet starts at bit 1.
    const p = pack7(gsmEncode('A'), 1);
    expect(p[0]).toBe(0x41 << 1);
    const withUdh = Buffer.concat([Buffer.from('050003010201', 'hex'), pack7(gsmEncode('hello'), 1)]);
    expect(gsmDecode(unpack7(withUdh, 6, 1))).toBe('hello');
  });

  it('round-trips any GSM text at any fill (a wanted final CR on a boundary may come back doubled, 23.038)', () => {
    const gsmChar = fc.constantFrom(
      ...[...GSM_BASIC].filter((c) => c !== '\u001b'),
      '€',
      '[',
      ']',
      '{',
      '}',
      '\\',
      '~',
      '^',
      '|',
      '\f',
    );
    fc.assert(
      fc.property(fc.array(gsmChar, { maxLength: 200 }), fc.integer({ min: 0, max: 6 }), (chars, fill) => {
        const text = chars.join('');
        const back = gsmDecode(unpack7(pack7(gsmEncode(text), fill), 0, fill));
        if (back !== text) expect(text.endsWith('\r') && back === `${text}\r`).toBe(true);
      }),
    );
  });
});
