import { describe, expect, it } from 'vitest';
import smpp from 'smpp';
import { BindSlowdown, passwordTag, safeEqual } from '../../../src/smpp/auth.js';
import { CidrAllowlist, CidrError, normalizeAddress } from '../../../src/smpp/cidr.js';
import {
  SmppClosedError,
  SmppDecodeError,
  SmppEncodeError,
  SmppError,
  SmppStatusError,
  SmppTimeoutError,
  SmppUnsentError,
  isTemporaryStatus,
  statusName,
} from '../../../src/smpp/errors.js';
import { PduReader } from '../../../src/smpp/pdu-reader.js';
import type { Pdu } from '../../../src/smpp/pdu/pdu.js';
import { classify } from '../../../src/gateway/failure.js';

describe('errors', () => {
  it('names statuses and formats typed errors', () => {
    expect(statusName(0x0e)).toBe('ESME_RINVPASWD');
    expect(statusName(0x58)).toBe('ESME_RTHROTTLED');
    expect(statusName(0xff)).toBe('ESME_RUNKNOWNERR');
    expect(statusName(0x0400)).toBe('0x00000400');
    const e = new SmppStatusError('bind_transceiver_resp', 0x0e);
    expect(e.message).toBe('bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)');
    expect(e.statusName).toBe('ESME_RINVPASWD');
    expect(new SmppTimeoutError('submit_sm', 10).command).toBe('submit_sm');
    expect(new SmppClosedError()).toBeInstanceOf(Error);
  });

  it('gives every engine error one base class and a stable code', () => {
    const all: [SmppError, string][] = [
      [new SmppStatusError('submit_sm_resp', 0x0b), 'status'],
      [new SmppTimeoutError('submit_sm', 10), 'timeout'],
      [new SmppClosedError(), 'closed'],
      [new SmppUnsentError('stopped'), 'unsent'],
      [new SmppDecodeError('bad length'), 'decode'],
      [new SmppEncodeError('submit_sm', new RangeError('out of range')), 'encode'],
    ];
    for (const [err, code] of all) {
      expect(err).toBeInstanceOf(SmppError);
      expect(err.code).toBe(code);
    }
    const enc = all[5]?.[0] as SmppEncodeError;
    expect(enc.message).toBe('submit_sm could not be encoded: out of range');
    expect(enc.cause).toBeInstanceOf(RangeError);
  });

  it('fails a message for good on an encode error, but retries one that met a bug of ours', () => {
    expect(classify(new SmppEncodeError('submit_sm', new Error('x')))).toMatchObject({ permanent: true });
    expect(classify(new TypeError("Cannot read properties of undefined (reading 'id')"))).toMatchObject({
      permanent: false,
      unsent: false,
    });
    expect(classify(new SmppStatusError('submit_sm_resp', 0x0b))).toMatchObject({ permanent: true });
    expect(classify(new SmppStatusError('submit_sm_resp', 0x58))).toMatchObject({ permanent: false });
    expect(classify(new SmppUnsentError('stopped'))).toMatchObject({ permanent: false, unsent: true });
  });

  it('classifies temporary statuses', () => {
    for (const s of [0x58, 0x14, 0x08, 0x64]) expect(isTemporaryStatus(s)).toBe(true);
    for (const s of [0x0b, 0x0e, 0x45, 0x00]) expect(isTemporaryStatus(s)).toBe(false);
  });
});

describe('CidrAllowlist', () => {
  it('matches IPv4 and IPv6 networks, bare addresses exactly, and IPv4-mapped IPv6', () => {
    const l = new CidrAllowlist(['10.1.0.0/16', '192.0.2.7', '2001:db8::/32', '::1']);
    expect(l.allows('10.1.200.3')).toBe(true);
    expect(l.allows('10.2.0.1')).toBe(false);
    expect(l.allows('192.0.2.7')).toBe(true);
    expect(l.allows('192.0.2.8')).toBe(false);
    expect(l.allows('::ffff:10.1.9.9')).toBe(true);
    expect(l.allows('::ffff:192.0.2.8')).toBe(false);
    expect(l.allows('2001:db8:ffff::1')).toBe(true);
    expect(l.allows('2001:db9::1')).toBe(false);
    expect(l.allows('::1')).toBe(true);
    expect(l.allows('::2')).toBe(false);
    expect(l.allows('not-an-ip')).toBe(false);
  });

  it('treats an empty list as "anyone", /0 as everything, and rejects bad entries', () => {
    expect(new CidrAllowlist([]).allows('203.0.113.1')).toBe(true);
    expect(new CidrAllowlist(['0.0.0.0/0']).allows('203.0.113.1')).toBe(true);
    expect(new CidrAllowlist(['::/0']).allows('2001:db8::5')).toBe(true);
    expect(new CidrAllowlist(['::ffff:10.0.0.0/104']).allows('10.9.9.9')).toBe(true);
    expect(() => new CidrAllowlist(['10.0.0.0/33'])).toThrow(CidrError);
    expect(() => new CidrAllowlist(['example.com'])).toThrow(CidrError);
    expect(normalizeAddress('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeAddress('::1')).toBe('::1');
  });
});

describe('auth helpers', () => {
  it('compares secrets of any length', () => {
    expect(safeEqual('secret', 'secret')).toBe(true);
    expect(safeEqual('secret', 'secret2')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(passwordTag('a')).not.toBe(passwordTag('b'));
    expect(passwordTag('a')).not.toContain('a'.repeat(2));
  });

  it('grows the delay per failure, caps it, forgets, and bounds memory', () => {
    const s = new BindSlowdown({
      freeAttempts: 1,
      baseDelayMs: 100,
      maxDelayMs: 250,
      forgetAfterMs: 1000,
      maxTracked: 2,
    });
    expect(s.delayFor('a', 0)).toBe(0);
    s.failed('a', 0);
    expect(s.delayFor('a', 0)).toBe(100);
    s.failed('a', 0);
    expect(s.delayFor('a', 0)).toBe(200);
    s.failed('a', 0);
    expect(s.delayFor('a', 0)).toBe(250);
    expect(s.delayFor('a', 5000)).toBe(0);
    s.failed('x', 0);
    s.failed('y', 0);
    s.failed('z', 0);
    expect(s.failuresOf('x')).toBe(0);
    expect(s.failuresOf('z')).toBe(1);
    s.succeeded('z');
    expect(s.failuresOf('z')).toBe(0);
  });
});

describe('PduReader', () => {
  const submit = new smpp.PDU('submit_sm', {
    sequence_number: 5,
    destination_addr: '1',
    data_coding: 0x08,
    short_message: Buffer.from([0xd8, 0x3d, 0xde, 0x00]),
  }).toBuffer();

  it('reassembles PDUs split anywhere and keeps message bodies raw', () => {
    const got: Pdu[] = [];
    const r = new PduReader({
      onPdu: (p) => got.push(p),
      onRefused: (x) => expect.unreachable(x.reason),
      onDecodeError: (e) => expect.unreachable(e.message),
    });
    const stream = Buffer.concat([submit, submit, submit]);
    for (let i = 0; i < stream.length; i += 7) r.push(stream.subarray(i, i + 7));
    expect(got).toHaveLength(3);
    expect(got[2]?.sequence_number).toBe(5);
    const first = got[0];
    expect(
      first?.command === 'submit_sm' && first.short_message.equals(Buffer.from([0xd8, 0x3d, 0xde, 0x00])),
    ).toBe(true);
  });

  it('leaves the library decoding text for everyone else (nothing of it is patched)', () => {
    const lib = new smpp.PDU(submit);
    expect(lib.short_message).toEqual({ message: '\u{1F600}' });
  });

  it('reports one decode error and stops', () => {
    const errors: string[] = [];
    const got: Pdu[] = [];
    const r = new PduReader({
      onPdu: (p) => got.push(p),
      onRefused: (x) => expect.unreachable(x.reason),
      onDecodeError: (e) => errors.push(e.message),
    });
    r.push(Buffer.concat([submit, Buffer.from([0, 0, 0, 3])]));
    r.push(submit);
    expect(got).toHaveLength(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/shorter than the 16-byte header/);
    expect(r.stopped).toBe(true);
  });

  it('turns a throwing handler into a decode error instead of an exception', () => {
    const errors: string[] = [];
    const r = new PduReader({
      onPdu: () => {
        throw new Error('boom');
      },
      onRefused: (x) => expect.unreachable(x.reason),
      onDecodeError: (e) => errors.push(e.message),
    });
    expect(() => r.push(submit)).not.toThrow();
    expect(errors[0]).toMatch(/boom/);
  });
});
