import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  byteLengthInfo,
  CodecError,
  decodeMessage,
  encodeMessage,
  GSM_BASIC,
  type Charset,
  type EncodedPart,
  type EncodeOptions,
  type LongMessageMode,
} from '../../../src/codec/index.js';

const hex = (b: Buffer): string => b.toString('hex').toUpperCase();

/** Decodes every part as a receiver would and joins them in part order. */
function roundTrip(parts: EncodedPart[], packed: boolean): string {
  const decoded = parts.map((p) =>
    decodeMessage({
      dataCoding: p.dataCoding,
      esmClass: p.esmClassUdhi ? 0x40 : 0,
      shortMessage: p.shortMessage,
      ...(p.tlvs.message_payload ? { messagePayload: p.tlvs.message_payload } : {}),
      ...(p.tlvs.sar_msg_ref_num !== undefined
        ? {
            sar: {
              reference: p.tlvs.sar_msg_ref_num,
              total: p.tlvs.sar_total_segments ?? 0,
              part: p.tlvs.sar_segment_seqnum ?? 0,
            },
          }
        : {}),
      packed,
    }),
  );
  if (parts.length > 1) {
    decoded.forEach((d, i) => {
      expect(d.concat?.part).toBe(i + 1);
      expect(d.concat?.total).toBe(parts.length);
    });
  }
  return decoded.map((d) => d.text).join('');
}

describe('charset choice and data_coding', () => {
  it('uses GSM 03.38 (0) when every character fits, else UCS-2 (8)', () => {
    expect(encodeMessage('Hello €')[0]?.dataCoding).toBe(0);
    expect(encodeMessage('Привет')[0]?.dataCoding).toBe(8);
    expect(encodeMessage('é', { charset: 'latin1' })[0]?.dataCoding).toBe(3);
    expect(encodeMessage('\u0001\u00ff', { charset: '8bit' })[0]?.dataCoding).toBe(4);
  });

  it('writes UCS-2 big-endian with surrogate pairs as two units', () => {
    expect(hex(encodeMessage('A😀')[0]!.shortMessage)).toBe('0041D83DDE00');
  });

  it('rejects text the forced charset cannot carry', () => {
    expect(() => encodeMessage('Привет', { charset: 'gsm7' })).toThrow(CodecError);
    expect(() => encodeMessage('€', { charset: 'latin1' })).toThrow(/not Latin-1/);
    expect(() => encodeMessage('€', { charset: '8bit' })).toThrow(CodecError);
  });
});

describe('lengths at the boundaries', () => {
  it('160 septets is one SMS, 161 is two parts of 153 + 8', () => {
    expect(encodeMessage('a'.repeat(160))).toHaveLength(1);
    const parts = encodeMessage('a'.repeat(161), { reference: 0x42 });
    expect(parts).toHaveLength(2);
    expect(hex(parts[0]!.shortMessage.subarray(0, 6))).toBe('050003420201');
    expect(hex(parts[1]!.shortMessage.subarray(0, 6))).toBe('050003420202');
    expect(parts[0]!.shortMessage.length - 6).toBe(153);
    expect(parts[1]!.shortMessage.length - 6).toBe(8);
    expect(parts.every((p) => p.esmClassUdhi)).toBe(true);
  });

  it('extension characters count two septets: 80 € is 160 septets, 81 are two parts', () => {
    expect(encodeMessage('€'.repeat(80))).toHaveLength(1);
    expect(encodeMessage('€'.repeat(81))).toHaveLength(2);
    expect(byteLengthInfo('€'.repeat(81))).toMatchObject({
      units: 162,
      parts: 2,
      perPart: 153,
      unitName: 'septets',
    });
  });

  it('70 UCS-2 units is one SMS, 71 is two parts of 67 + 4', () => {
    expect(encodeMessage('ж'.repeat(70))).toHaveLength(1);
    const parts = encodeMessage('ж'.repeat(71));
    expect(parts.map((p) => p.shortMessage.length - 6)).toEqual([134, 8]);
  });

  it('140 octets is one 8-bit SMS, 141 is 134 + 7', () => {
    expect(encodeMessage('é'.repeat(140), { charset: 'latin1' })).toHaveLength(1);
    expect(
      encodeMessage('é'.repeat(141), { charset: 'latin1' }).map((p) => p.shortMessage.length - 6),
    ).toEqual([134, 7]);
  });

  it('16-bit references: 152 septets / 133 octets / 66 UCS-2 units per part, IEI 08', () => {
    const g = encodeMessage('a'.repeat(161), { longMessage: 'udh16', reference: 0x1234 });
    expect(hex(g[0]!.shortMessage.subarray(0, 7))).toBe('0608041234' + '0201');
    expect(g.map((p) => p.shortMessage.length - 7)).toEqual([152, 9]);
    expect(
      encodeMessage('é'.repeat(141), { charset: 'latin1', longMessage: 'udh16' }).map(
        (p) => p.shortMessage.length - 7,
      ),
    ).toEqual([133, 8]);
    expect(
      encodeMessage('ж'.repeat(71), { longMessage: 'udh16' }).map((p) => (p.shortMessage.length - 7) / 2),
    ).toEqual([66, 5]);
  });

  it('never ends a part between ESC and its code', () => {
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(10);
    const parts = encodeMessage(text);
    expect(parts[0]!.shortMessage.length - 6).toBe(152);
    expect(parts[0]!.shortMessage.at(-1)).toBe(0x61);
    expect(hex(parts[1]!.shortMessage.subarray(6, 8))).toBe('1B65');
    expect(roundTrip(parts, false)).toBe(text);
  });

  it('never splits a surrogate pair', () => {
    const text = 'ж'.repeat(66) + '😀' + 'x'.repeat(10);
    const parts = encodeMessage(text);
    expect((parts[0]!.shortMessage.length - 6) / 2).toBe(66);
    expect(hex(parts[1]!.shortMessage.subarray(6, 10))).toBe('D83DDE00');
    expect(roundTrip(parts, false)).toBe(text);
  });
});

describe('packed GSM', () => {
  it('a single SMS of 160 septets packs into 140 octets', () => {
    const [p] = encodeMessage('a'.repeat(160), { packed: true });
    expect(p!.shortMessage).toHaveLength(140);
  });

  it('parts with UDH carry 153 septets after 1 fill bit in exactly 140 octets', () => {
    const parts = encodeMessage('a'.repeat(200), { packed: true, reference: 9 });
    expect(parts[0]!.shortMessage).toHaveLength(140);
    expect(parts[0]!.shortMessage[6]).toBe(0x61 << 1); // first septet after the fill bit
    expect(roundTrip(parts, true)).toBe('a'.repeat(200));
  });

  it('udh16 parts carry 152 septets with no fill bit in 140 octets', () => {
    const parts = encodeMessage('a'.repeat(200), { packed: true, longMessage: 'udh16' });
    expect(parts[0]!.shortMessage).toHaveLength(140);
    expect(parts[0]!.shortMessage[7]).toBe(0x61 | ((0x61 << 7) & 0xff));
    expect(roundTrip(parts, true)).toBe('a'.repeat(200));
  });

  it('a CR that would end a full packed part moves to the next part', () => {
    const text = 'a'.repeat(152) + '\r' + 'b'.repeat(10);
    const parts = encodeMessage(text, { packed: true });
    expect(parts.every((p) => p.shortMessage.length <= 140)).toBe(true);
    expect(roundTrip(parts, true)).toBe(text);
  });
});

describe('SAR and message_payload', () => {
  it('SAR puts the reference, total and sequence in TLVs and no UDH', () => {
    const parts = encodeMessage('a'.repeat(161), { longMessage: 'sar', reference: 0x1234 });
    expect(parts.map((p) => p.tlvs)).toEqual([
      { sar_msg_ref_num: 0x1234, sar_total_segments: 2, sar_segment_seqnum: 1 },
      { sar_msg_ref_num: 0x1234, sar_total_segments: 2, sar_segment_seqnum: 2 },
    ]);
    expect(parts.every((p) => !p.esmClassUdhi)).toBe(true);
    expect(parts[0]!.shortMessage).toHaveLength(153);
  });

  it('payload sends the whole body in message_payload with an empty short_message', () => {
    const [p, ...rest] = encodeMessage('ж'.repeat(500), { longMessage: 'payload' });
    expect(rest).toHaveLength(0);
    expect(p!.shortMessage).toHaveLength(0);
    expect(p!.tlvs.message_payload).toHaveLength(1000);
    expect(() => encodeMessage('ж'.repeat(40000), { longMessage: 'payload' })).toThrow(/65535/);
  });
});

describe('maxParts', () => {
  it('throws a clear CodecError past the limit and accepts exactly the limit', () => {
    expect(encodeMessage('a'.repeat(153 * 3), { maxParts: 3 })).toHaveLength(3);
    expect(() => encodeMessage('a'.repeat(153 * 3 + 1), { maxParts: 3 })).toThrow(/needs 4 parts.*at most 3/);
    expect(() => encodeMessage('a'.repeat(153 * 256))).toThrow(CodecError);
    expect(() => encodeMessage('a', { maxParts: 0 })).toThrow(/maxParts/);
  });
});

describe('encode → split → decode → join round-trips', () => {
  const modes: LongMessageMode[] = ['udh8', 'udh16', 'sar', 'payload'];
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
  const latinChar = fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c));
  const cases: { charset: Charset; packed?: boolean; text: fc.Arbitrary<string> }[] = [
    { charset: 'gsm7', text: fc.array(gsmChar, { maxLength: 700 }).map((a) => a.join('')) },
    { charset: 'gsm7', packed: true, text: fc.array(gsmChar, { maxLength: 700 }).map((a) => a.join('')) },
    { charset: 'ucs2', text: fc.string({ unit: 'grapheme', maxLength: 300 }) },
    { charset: 'ucs2', text: fc.string({ unit: 'binary', maxLength: 300 }) },
    { charset: 'latin1', text: fc.array(latinChar, { maxLength: 700 }).map((a) => a.join('')) },
    { charset: '8bit', text: fc.array(latinChar, { maxLength: 700 }).map((a) => a.join('')) },
  ];
  for (const c of cases) {
    it(`${c.charset}${c.packed ? ' packed' : ''}`, () => {
      fc.assert(
        fc.property(c.text, fc.constantFrom(...modes), (text, longMessage) => {
          const opts: EncodeOptions = { charset: c.charset, longMessage, packed: c.packed === true };
          const parts = encodeMessage(text, opts);
          expect(parts.length).toBe(byteLengthInfo(text, opts).parts);
          for (const p of parts) {
            if (longMessage !== 'payload' && (c.charset !== 'gsm7' || c.packed))
              expect(p.shortMessage.length).toBeLessThanOrEqual(140);
          }
          const back = roundTrip(parts, c.packed === true);
          // 23.038: a wanted final CR ending on an octet boundary is sent doubled.
          if (back !== text) expect(c.packed && text.endsWith('\r') && back === `${text}\r`).toBe(true);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('any text round-trips with the automatic choice', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
        expect(roundTrip(encodeMessage(text), false)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });
});

describe('buffer ownership', () => {
  it('parts stay intact after later encodes (the GSM scratch space is never handed out)', () => {
    const a = encodeMessage('a'.repeat(400));
    const aCopy = a.map((p) => Buffer.from(p.shortMessage));
    const one = encodeMessage('hello');
    encodeMessage('z'.repeat(400));
    encodeMessage('y'.repeat(100));
    encodeMessage('x'.repeat(400), { longMessage: 'payload' });
    expect(a.map((p) => p.shortMessage)).toEqual(aCopy);
    expect(one[0]!.shortMessage.toString('latin1')).toBe('hello');
  });

  it('the one-SMS fast path still checks maxParts and forced charsets', () => {
    expect(() => encodeMessage('hi', { maxParts: 300 })).toThrow(/maxParts/);
    expect(() => encodeMessage('hi ж', { charset: 'gsm7' })).toThrow(CodecError);
  });
});
