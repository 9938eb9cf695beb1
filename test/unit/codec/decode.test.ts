import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CodecError, decodeMessage, parseUdh, readerFor } from '../../../src/codec/index.js';

const b = (h: string): Buffer => Buffer.from(h.replace(/\s/g, ''), 'hex');

describe('decode by data_coding', () => {
  it('0 = SMSC default: GSM 03.38 unpacked by default, configurable', () => {
    expect(
      decodeMessage({ dataCoding: 0, esmClass: 0, shortMessage: b('48 65 6C 6C 6F 1B 65 00') }).text,
    ).toBe('Hello€@');
    expect(
      decodeMessage({ dataCoding: 0, esmClass: 0, shortMessage: b('E8329BFD4697D9EC37'), packed: true }).text,
    ).toBe('hellohello');
    expect(
      decodeMessage({ dataCoding: 0, esmClass: 0, shortMessage: b('E9'), smscDefault: 'latin1' }).text,
    ).toBe('é');
  });

  it('1 IA5/ASCII, 3 Latin-1, 8 UCS-2, 2/4 binary', () => {
    expect(decodeMessage({ dataCoding: 1, esmClass: 0, shortMessage: Buffer.from('Hi @ home') }).text).toBe(
      'Hi @ home',
    );
    expect(decodeMessage({ dataCoding: 3, esmClass: 0, shortMessage: b('43 61 66 E9') }).text).toBe('Café');
    expect(decodeMessage({ dataCoding: 8, esmClass: 0, shortMessage: b('0041 D83D DE00') }).text).toBe('A😀');
    expect(decodeMessage({ dataCoding: 4, esmClass: 0, shortMessage: b('00FF') }).text).toBe('\u0000\u00ff');
    expect(decodeMessage({ dataCoding: 2, esmClass: 0, shortMessage: b('0102') }).charset).toBe('8bit');
  });

  it('message class (0xF0-0xF7) and general coding groups (0x10-0x1F)', () => {
    expect(decodeMessage({ dataCoding: 0xf0, esmClass: 0, shortMessage: b('41') }).text).toBe('A');
    expect(decodeMessage({ dataCoding: 0xf1, esmClass: 0, shortMessage: b('1B65') }).text).toBe('€');
    expect(readerFor(0xf4)).toBe('8bit');
    expect(readerFor(0x10)).toBe('gsm7');
    expect(readerFor(0x14)).toBe('8bit');
    expect(decodeMessage({ dataCoding: 0x18, esmClass: 0, shortMessage: b('0436') }).text).toBe('ж');
    expect(() => readerFor(0x20)).toThrow(/compressed/);
    expect(decodeMessage({ dataCoding: 6, esmClass: 0, shortMessage: b('D6') }).text).toBe('ж'); // ISO-8859-5
  });

  it('prefers message_payload over an empty short_message', () => {
    expect(
      decodeMessage({
        dataCoding: 0,
        esmClass: 0,
        shortMessage: Buffer.alloc(0),
        messagePayload: Buffer.from('abc'),
      }).text,
    ).toBe('abc');
  });

  it('rejects odd-length UCS-2', () => {
    expect(() => decodeMessage({ dataCoding: 8, esmClass: 0, shortMessage: b('004100') })).toThrow(
      CodecError,
    );
    expect(() => decodeMessage({ dataCoding: 8, esmClass: 0, shortMessage: b('004100') })).toThrow(
      /odd number/,
    );
  });
});

describe('UDH and SAR', () => {
  it('strips and exposes an 8-bit concatenation UDH (05 00 03 ref total part)', () => {
    const d = decodeMessage({ dataCoding: 0, esmClass: 0x40, shortMessage: b('050003 2A 03 02 48 69') });
    expect(d).toMatchObject({ text: 'Hi', concat: { reference: 0x2a, total: 3, part: 2 } });
  });

  it('16-bit reference (IEI 08) and other IEIs alongside', () => {
    // port addressing (05) + concat 16-bit
    const d = decodeMessage({
      dataCoding: 8,
      esmClass: 0x43,
      shortMessage: b('0C 05 04 0B84 23F0 08 04 BEEF 02 01 0041'),
    });
    expect(d.text).toBe('A');
    expect(d.concat).toEqual({ reference: 0xbeef, total: 2, part: 1 });
    expect(d.udh?.map((e) => e.iei)).toEqual([0x05, 0x08]);
  });

  it('packed GSM after a UDH skips the fill bit', () => {
    // "hello" packed after 1 fill bit, behind a 6-octet UDH
    const d = decodeMessage({
      dataCoding: 0,
      esmClass: 0x40,
      shortMessage: b('050003010101 D0 65 36 FB 0D'),
      packed: true,
    });
    expect(d.text).toBe('hello');
  });

  it('SAR TLVs give the concatenation info', () => {
    const d = decodeMessage({
      dataCoding: 0,
      esmClass: 0,
      shortMessage: b('41'),
      sar: { reference: 513, total: 2, part: 2 },
    });
    expect(d.concat).toEqual({ reference: 513, total: 2, part: 2 });
    expect(() =>
      decodeMessage({
        dataCoding: 0,
        esmClass: 0,
        shortMessage: b('41'),
        sar: { reference: 1, total: 2, part: 3 },
      }),
    ).toThrow(/SAR/);
  });

  it('truncated or malformed UDHs are clear CodecErrors', () => {
    expect(() => parseUdh(b('05 00 03 01'))).toThrow(/UDH length 5 exceeds/);
    expect(() => parseUdh(b('03 00 03 01'))).toThrow(/overruns/);
    expect(() => parseUdh(b('01 00'))).toThrow(/truncated/);
    expect(() => parseUdh(b('04 00 02 01 02'))).toThrow(/concatenation element 0x00 has length 2/);
    expect(() => parseUdh(b('05 00 03 01 02 03'))).toThrow(/part 3 of 2/);
    expect(() => parseUdh(Buffer.alloc(0))).toThrow(/empty/);
    expect(() => decodeMessage({ dataCoding: 0, esmClass: 0x40, shortMessage: b('0A 00') })).toThrow(
      CodecError,
    );
  });
});

describe('arbitrary bytes', () => {
  it('decode either returns text or throws a CodecError, for any data_coding, esm_class and body', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 0xff }),
        fc.integer({ min: 0, max: 0xff }),
        fc.uint8Array({ maxLength: 200 }),
        fc.boolean(),
        (dataCoding, esmClass, body, packed) => {
          try {
            const d = decodeMessage({ dataCoding, esmClass, shortMessage: Buffer.from(body), packed });
            expect(typeof d.text).toBe('string');
          } catch (err) {
            expect(err).toBeInstanceOf(CodecError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
