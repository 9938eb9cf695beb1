import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatReceipt,
  isReceipt,
  outcomeOf,
  parseReceipt,
  receiptState,
  smppAbsoluteTime,
  STATE_CODES,
  wantsReceipt,
  type ReceiptState,
} from '../../../src/codec/index.js';

const SPEC =
  'id:0123456789 sub:001 dlvrd:001 submit date:0610191018 done date:0610191020 stat:DELIVRD err:000 text:Hello world';

describe('isReceipt', () => {
  it('esm_class message types 0x04, 0x08, 0x10 (and 0x20) or the TLVs', () => {
    expect(isReceipt(0x04, {})).toBe(true);
    expect(isReceipt(0x44, {})).toBe(true); // UDHI does not hide the type
    expect(isReceipt(0x08, {})).toBe(true);
    expect(isReceipt(0x10, {})).toBe(true);
    expect(isReceipt(0x00, {})).toBe(false);
    expect(isReceipt(0x40, {})).toBe(false);
    expect(isReceipt(0, { receipted_message_id: 'abc' })).toBe(true);
    expect(isReceipt(0, { message_state: 2 })).toBe(true);
    expect(isReceipt(0, { receipted_message_id: undefined })).toBe(false);
  });
});

describe('parseReceipt', () => {
  it('reads the SMPP 3.4 Appendix B text', () => {
    expect(parseReceipt({ text: SPEC })).toEqual({
      messageId: '0123456789',
      state: 'DELIVRD',
      outcome: 'delivered',
      sub: '001',
      dlvrd: '001',
      err: '000',
      submitDate: new Date(Date.UTC(2006, 9, 19, 10, 18)),
      doneDate: new Date(Date.UTC(2006, 9, 19, 10, 20)),
      text: 'Hello world',
    });
  });

  it('is tolerant of case, order, missing fields, 12-digit dates and hex ids', () => {
    const r = parseReceipt({ text: 'STAT:undeliv ID:7F3A9C0B Done Date:231122153245 ERR:0B1' });
    expect(r).toMatchObject({ messageId: '7F3A9C0B', state: 'UNDELIV', outcome: 'failed', err: '0B1' });
    expect(r?.doneDate).toEqual(new Date(Date.UTC(2023, 10, 22, 15, 32, 45)));
    expect(r?.submitDate).toBeUndefined();
    expect(parseReceipt({ text: 'id:1 submit_date:2399999999 stat:EXPIRED' })?.submitDate).toBeUndefined();
    expect(parseReceipt({ text: 'id:5 stat:DELIVERED' })?.state).toBe('DELIVRD');
  });

  it('keeps "text:" to the end even when it looks like fields', () => {
    expect(parseReceipt({ text: 'id:9 stat:DELIVRD text:my id: is stat:x' })).toMatchObject({
      messageId: '9',
      state: 'DELIVRD',
      text: 'my id: is stat:x',
    });
  });

  it('prefers receipted_message_id and message_state TLVs', () => {
    const r = parseReceipt({ text: SPEC, receiptedMessageId: 'abc-1\u0000', messageState: 5 });
    expect(r).toMatchObject({ messageId: 'abc-1', state: 'UNDELIV', outcome: 'failed', sub: '001' });
    expect(parseReceipt({ receiptedMessageId: 'X', messageState: 1 })).toEqual({
      messageId: 'X',
      state: 'ENROUTE',
      outcome: 'pending',
    });
  });

  it('takes err from network_error_code when the text has none', () => {
    expect(
      parseReceipt({ receiptedMessageId: 'X', messageState: 5, networkErrorCode: Buffer.from([3, 0, 27]) })
        ?.err,
    ).toBe('027');
  });

  it('maps every message_state value (SMPP 3.4 5.2.28)', () => {
    const got = [1, 2, 3, 4, 5, 6, 7, 8].map(
      (s) => parseReceipt({ receiptedMessageId: 'x', messageState: s })?.state,
    );
    expect(got).toEqual([
      'ENROUTE',
      'DELIVRD',
      'EXPIRED',
      'DELETED',
      'UNDELIV',
      'ACCEPTD',
      'UNKNOWN',
      'REJECTD',
    ]);
  });

  it('returns null with no id or no state', () => {
    expect(parseReceipt({ text: 'stat:DELIVRD' })).toBeNull();
    expect(parseReceipt({ text: 'id:1 stat:WHATEVER' })).toBeNull();
    expect(parseReceipt({ text: 'hello there' })).toBeNull();
    expect(parseReceipt({})).toBeNull();
  });
});

describe('outcomes', () => {
  it('DELIVRD delivered; ACCEPTD/ENROUTE pending; the rest (UNKNOWN included) failed', () => {
    const states: ReceiptState[] = [
      'DELIVRD',
      'EXPIRED',
      'DELETED',
      'UNDELIV',
      'ACCEPTD',
      'UNKNOWN',
      'REJECTD',
      'ENROUTE',
    ];
    expect(states.map(outcomeOf)).toEqual([
      'delivered',
      'failed',
      'failed',
      'failed',
      'pending',
      'failed',
      'failed',
      'pending',
    ]);
  });
});

describe('formatReceipt', () => {
  it('produces the standard text, and parses back', () => {
    const r = parseReceipt({ text: SPEC });
    expect(r).not.toBeNull();
    expect(formatReceipt(r!)).toBe(
      'id:0123456789 sub:001 dlvrd:001 submit date:0610191018 done date:0610191020 stat:DELIVRD err:000 text:Hello world',
    );
    expect(parseReceipt({ text: formatReceipt(r!) })).toEqual(r);
  });

  it('fills defaults and cuts text to 20 characters', () => {
    const now = new Date(Date.UTC(2026, 0, 2, 3, 4));
    expect(
      formatReceipt({ messageId: 'm1', state: 'UNDELIV', outcome: 'failed', text: 'x'.repeat(30) }, now),
    ).toBe(
      `id:m1 sub:001 dlvrd:000 submit date:2601020304 done date:2601020304 stat:UNDELIV err:000 text:${'x'.repeat(20)}`,
    );
  });
});

describe('registered_delivery, states and times', () => {
  it('asks for a receipt on any final state (1) or on failures only (2), never with 0', () => {
    expect(wantsReceipt(1, 'DELIVRD')).toBe(true);
    expect(wantsReceipt(2, 'DELIVRD')).toBe(false);
    expect(wantsReceipt(2, 'UNDELIV')).toBe(true);
    expect(wantsReceipt(0x11, 'DELIVRD')).toBe(true); // SME acknowledgement bits do not matter
    expect(wantsReceipt(0, 'UNDELIV')).toBe(false);
  });

  it('reads carrier spellings and maps states to message_state codes', () => {
    expect(receiptState('delivered')).toBe('DELIVRD');
    expect(receiptState('FAILED')).toBe('UNDELIV');
    expect(receiptState('nonsense')).toBeUndefined();
    expect(STATE_CODES).toMatchObject({ ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, UNDELIV: 5, REJECTD: 8 });
  });

  it('writes SMPP absolute time in UTC', () => {
    expect(smppAbsoluteTime(new Date('2026-11-23T10:04:05.678Z'))).toBe('261123100405600+');
  });
});

describe('properties', () => {
  const states: ReceiptState[] = [
    'DELIVRD',
    'EXPIRED',
    'DELETED',
    'UNDELIV',
    'ACCEPTD',
    'UNKNOWN',
    'REJECTD',
    'ENROUTE',
  ];
  const minuteDate = fc
    .integer({ min: Date.UTC(2000, 0, 1) / 60000, max: Date.UTC(2099, 11, 31) / 60000 })
    .map((m) => new Date(m * 60000));

  it('formatReceipt → parseReceipt gives the receipt back', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9A-Za-z-]{1,40}$/),
        fc.constantFrom(...states),
        fc.stringMatching(/^[0-9]{3}$/),
        minuteDate,
        minuteDate,
        fc.stringMatching(/^[ -~]{0,20}$/),
        (messageId, state, err, submitDate, doneDate, text) => {
          const r = {
            messageId,
            state,
            outcome: outcomeOf(state),
            err,
            sub: '001',
            dlvrd: '001',
            submitDate,
            doneDate,
          };
          const withText = text.trim() === '' ? r : { ...r, text: text.trim() };
          expect(parseReceipt({ text: formatReceipt(withText) })).toEqual(withText);
        },
      ),
    );
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 300 }),
        fc.option(fc.integer({ min: -5, max: 300 }), { nil: undefined }),
        (text, messageState) => {
          const r = parseReceipt(messageState === undefined ? { text } : { text, messageState });
          if (r !== null) expect(states).toContain(r.state);
        },
      ),
    );
  });
});
