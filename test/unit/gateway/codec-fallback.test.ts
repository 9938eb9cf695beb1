import { describe, expect, it } from 'vitest';
import {
  addressFor,
  CodecError,
  decodeMessage,
  encodeMessage,
  isReceipt,
  parseReceipt,
} from '../../../src/gateway/codec-fallback.js';

describe('gateway codec stand-in', () => {
  it('encodes GSM 03.38 with the extension table and decodes it back', () => {
    const [p] = encodeMessage('Hi {x} 10€ @£');
    expect(p?.dataCoding).toBe(0);
    expect(p?.shortMessage.toString('hex')).toBe('4869201b28781b292031301b65200001');
    expect(decodeMessage({ dataCoding: 0, esmClass: 0, shortMessage: p!.shortMessage }).text).toBe(
      'Hi {x} 10€ @£',
    );
  });

  it('refuses characters outside the alphabet (the caller falls back to UCS-2)', () => {
    expect(() => encodeMessage('emoji 👋', { charset: 'gsm7' })).toThrow(CodecError);
    expect(() => encodeMessage('Привет', { charset: 'latin1' })).toThrow(CodecError);
  });

  it('splits long GSM text at 153 septets per part with an 8-bit concatenation UDH, never inside an escape', () => {
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(100);
    const parts = encodeMessage(text, { reference: 7 });
    expect(parts).toHaveLength(2);
    for (const [i, p] of parts.entries()) {
      expect(p.esmClassUdhi).toBe(true);
      expect([...p.shortMessage.subarray(0, 6)]).toEqual([5, 0, 3, 7, 2, i + 1]);
    }
    expect(parts[0]?.shortMessage.length).toBe(6 + 152); // the escape pair moved to part 2
    const back = parts
      .map((p) => decodeMessage({ dataCoding: 0, esmClass: 0x40, shortMessage: p.shortMessage }))
      .map((d) => d.text)
      .join('');
    expect(back).toBe(text);
    expect(
      decodeMessage({ dataCoding: 0, esmClass: 0x40, shortMessage: parts[1]!.shortMessage }).concat,
    ).toEqual({
      reference: 7,
      total: 2,
      part: 2,
    });
  });

  it('keeps UCS-2 surrogate pairs whole across parts (67 units per part)', () => {
    const text = 'x'.repeat(66) + '👋' + 'y'.repeat(10);
    const parts = encodeMessage(text, { charset: 'ucs2' });
    expect(parts).toHaveLength(2);
    expect(parts[0]?.dataCoding).toBe(8);
    expect(parts[0]?.shortMessage.length).toBe(6 + 66 * 2);
    const joined = parts
      .map((p) => decodeMessage({ dataCoding: 8, esmClass: 0x40, shortMessage: p.shortMessage }).text)
      .join('');
    expect(joined).toBe(text);
  });

  it('uses SAR TLVs or message_payload when the bind asks for them, and enforces maxParts', () => {
    const text = 'z'.repeat(400);
    const sar = encodeMessage(text, { longMessage: 'sar', reference: 300 });
    expect(sar.map((p) => p.tlvs.sar_segment_seqnum)).toEqual([1, 2, 3]);
    expect(sar[0]?.esmClassUdhi).toBe(false);
    const payload = encodeMessage(text, { longMessage: 'payload' });
    expect(payload).toHaveLength(1);
    expect(payload[0]?.tlvs.message_payload?.length).toBe(400);
    expect(() => encodeMessage(text, { maxParts: 2 })).toThrow(/3 parts/);
  });

  it('reads receipts from the text and from TLVs', () => {
    expect(isReceipt(0x04, {})).toBe(true);
    expect(isReceipt(0x00, { receipted_message_id: 'abc' })).toBe(true);
    expect(isReceipt(0x00, {})).toBe(false);
    const r = parseReceipt({
      text: 'id:1A2B sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:UNDELIV err:034 text:hi',
    });
    expect(r).toMatchObject({ messageId: '1A2B', state: 'UNDELIV', outcome: 'failed', err: '034' });
    expect(r?.doneDate?.toISOString()).toBe('2025-01-01T12:01:00.000Z');
    expect(parseReceipt({ receiptedMessageId: 'x9', messageState: 2 })).toMatchObject({
      messageId: 'x9',
      outcome: 'delivered',
    });
    expect(parseReceipt({ text: 'hello' })).toBeNull();
  });

  it('derives TON/NPI from the number unless overridden', () => {
    expect(addressFor('+447700900123')).toEqual({ ton: 1, npi: 1, addr: '447700900123' });
    expect(addressFor('12345')).toEqual({ ton: 0, npi: 1, addr: '12345' });
    expect(addressFor('ACME')).toEqual({ ton: 5, npi: 0, addr: 'ACME' });
    expect(addressFor('12345', { ton: 3 })).toEqual({ ton: 3, npi: 1, addr: '12345' });
  });
});
