// Hostile and malformed input against the partner listener, over real sockets: every refused
// request is answered as SMPP 3.4 says, nothing refused reaches the handler, and the session
// (and the requests written before the bad one) survive.
import type { SubmitSm } from '../../../src/smpp/pdu/pdu.js';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PduOptions } from 'smpp';
import { createLogger } from '../../../src/log.js';
import {
  SmppListener,
  type BindRejection,
  type ListenerOptions,
  type PduRefusal,
  type ServerBindEntry,
  type UnexpectedPdu,
} from '../../../src/smpp/server-listener.js';
import { rawPdu, rawPeer, type RawPeer } from '../../helpers/raw-smpp.js';
import { waitFor } from './peer.js';

const log = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const bindEntry: ServerBindEntry = {
  key: 'ns/partner-a',
  namespace: 'ns',
  name: 'partner-a',
  smscName: 'partner-a',
  systemId: 'partnerA',
  password: 'pw-a',
  allowedBindTypes: ['transmitter', 'receiver', 'transceiver'],
  ipAllowlist: [],
  tpsLimit: 0,
  inboundTpsLimit: 0,
  maxSessions: 5,
  suspend: false,
};

interface Harness {
  l: SmppListener;
  port: number;
  submitted: SubmitSm[];
  refusals: PduRefusal[];
  unexpected: UnexpectedPdu[];
  decodeErrors: Error[];
}

/** A listener whose submit handler answers after `answerAfterMs`, so answers trail the reads. */
async function listener(opts: Partial<ListenerOptions> = {}, answerAfterMs = 50): Promise<Harness> {
  const l = new SmppListener(
    { host: '127.0.0.1', port: 0, maxConnections: 20, slowdown: { freeAttempts: 1000 }, ...opts },
    log,
  );
  l.setBinds([bindEntry]);
  const h: Harness = { l, port: 0, submitted: [], refusals: [], unexpected: [], decodeErrors: [] };
  l.setSubmitHandler(async (_b, pdu) => {
    h.submitted.push(pdu);
    await new Promise((r) => setTimeout(r, answerAfterMs));
    return { status: 0, messageId: `m${h.submitted.length}` };
  });
  l.on('pduRefused', (r: PduRefusal) => h.refusals.push(r));
  l.on('unexpectedPdu', (u: UnexpectedPdu) => h.unexpected.push(u));
  l.on('decodeError', (e: Error) => h.decodeErrors.push(e));
  h.port = (await l.listen()).port;
  cleanups.push(() => l.close());
  return h;
}

async function raw(port: number): Promise<RawPeer> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  cleanups.push(() => void socket.destroy());
  return rawPeer(socket);
}

const pdu = rawPdu;

/** `bytes` with `tail` appended (raw TLVs) and command_length fixed up. */
function withTail(bytes: Buffer, tail: number[]): Buffer {
  const out = Buffer.concat([bytes, Buffer.from(tail)]);
  out.writeUInt32BE(out.length, 0);
  return out;
}

const sm: PduOptions = { source_addr: '1555', destination_addr: '2666', short_message: Buffer.from('hi') };

async function bound(h: Harness): Promise<RawPeer> {
  const r = await raw(h.port);
  r.socket.write(pdu('bind_transceiver', 1, { system_id: 'partnerA', password: 'pw-a' }));
  await waitFor(() => r.bySeq(1) !== undefined, 10_000, 'bind_transceiver_resp');
  expect(r.bySeq(1)?.command_status).toBe(0);
  return r;
}

async function stillServes(r: RawPeer, seq: number): Promise<void> {
  r.socket.write(pdu('enquire_link', seq));
  await waitFor(() => r.bySeq(seq) !== undefined, 10_000, `enquire_link_resp ${seq}`);
  expect(r.bySeq(seq)).toMatchObject({ command: 'enquire_link_resp', command_status: 0 });
}

describe('SmppListener: malformed optional parameters', () => {
  it('answers each bad TLV with its error, keeps the session and answers the good submits of the same write', async () => {
    const h = await listener();
    const r = await bound(h);
    const good = pdu('submit_sm', 10, sm);
    r.socket.write(
      Buffer.concat([
        good,
        // user_message_reference (0x0204) is two octets; here one
        withTail(pdu('submit_sm', 11, sm), [0x02, 0x04, 0x00, 0x01, 0x07]),
        // sar_msg_ref_num (0x020c) with length 1, next to well-formed sar_total/sar_segment
        withTail(pdu('submit_sm', 12, sm), [0x02, 0x0c, 0, 1, 9, 0x02, 0x0e, 0, 1, 2, 0x02, 0x0f, 0, 1, 1]),
        // a TLV whose length runs past the end of the PDU
        withTail(pdu('submit_sm', 13, sm), [0x04, 0x24, 0x00, 0x20, 0x41]),
        // a TLV header cut short
        withTail(pdu('submit_sm', 14, sm), [0x04, 0x24, 0x00]),
        // sar_msg_ref_num without sar_total_segments / sar_segment_seqnum
        withTail(pdu('submit_sm', 15, sm), [0x02, 0x0c, 0x00, 0x02, 0x00, 0x09]),
        pdu('submit_sm', 16, sm),
        // an unknown TLV is skipped, as SMPP asks of receivers
        withTail(pdu('submit_sm', 17, sm), [0x14, 0x00, 0x00, 0x02, 0xab, 0xcd]),
      ]),
    );
    await waitFor(() => [10, 11, 12, 13, 14, 15, 16, 17].every((s) => r.bySeq(s)), 10_000, 'all answers');
    const status = (seq: number): number | undefined => r.bySeq(seq)?.command_status;
    expect([10, 11, 12, 13, 14, 15, 16, 17].map(status)).toEqual([0, 0xc2, 0xc2, 0xc0, 0xc0, 0xc3, 0, 0]);
    expect(r.bySeq(11)?.command).toBe('submit_sm_resp');
    expect(r.bySeq(10)?.message_id).toMatch(/^m\d$/);
    expect(h.submitted.map((p) => p.sequence_number).sort()).toEqual([10, 16, 17]);
    expect(h.refusals.map((x) => [x.command, x.status, x.key])).toEqual([
      ['submit_sm', 0xc2, 'ns/partner-a'],
      ['submit_sm', 0xc2, 'ns/partner-a'],
      ['submit_sm', 0xc0, 'ns/partner-a'],
      ['submit_sm', 0xc0, 'ns/partner-a'],
      ['submit_sm', 0xc3, 'ns/partner-a'],
    ]);
    expect(h.refusals[0]?.reason).toMatch(/user_message_reference has length 1/);
    expect(h.decodeErrors).toHaveLength(0);
    expect(h.l.sessions()).toHaveLength(1);
    await stillServes(r, 20);
  });
});

describe('SmppListener: fields refused', () => {
  const cases: [string, Buffer, number][] = [
    [
      'destination_addr with a control character',
      pdu('submit_sm', 30, { ...sm, destination_addr: '26\x0166' }),
      0x0b,
    ],
    ['a 400-digit source_addr', pdu('submit_sm', 31, { ...sm, source_addr: '1'.repeat(400) }), 0x0a],
    [
      'letters in an international (TON 1 / NPI 1) destination',
      pdu('submit_sm', 32, { ...sm, dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: '4917x' }),
      0x0b,
    ],
    [
      'an alphanumeric (TON 5) source_addr over 11 characters',
      pdu('submit_sm', 33, { ...sm, source_addr_ton: 5, source_addr: 'ACME-LONGNAME' }),
      0x0a,
    ],
    ['an empty destination_addr', pdu('submit_sm', 34, { ...sm, destination_addr: '' }), 0x0b],
    [
      // the body says 200 octets of short_message; 2 are there
      'sm_length larger than the bytes present',
      (() => {
        const b = pdu('submit_sm', 35, sm);
        b[b.length - 3] = 200;
        return b;
      })(),
      0x01,
    ],
    ['a service_type over 5 characters', pdu('submit_sm', 36, { ...sm, service_type: 'TOOLONG' }), 0x15],
    [
      'a validity_period that is not 16 characters',
      (() => {
        // the package rewrites time strings it is given, so splice '1d' in by hand
        const b = pdu('submit_sm', 37, sm);
        const at = 16 + 1 + 2 + '1555'.length + 1 + 2 + '2666'.length + 1 + 3 + 1;
        const out = Buffer.concat([b.subarray(0, at), Buffer.from('1d'), b.subarray(at)]);
        out.writeUInt32BE(out.length, 0);
        return out;
      })(),
      0x62,
    ],
    [
      'a PDU that ends inside its mandatory fields',
      (() => {
        const b = pdu('submit_sm', 38, sm).subarray(0, 22);
        b.writeUInt32BE(22, 0);
        return Buffer.from(b);
      })(),
      0x02,
    ],
  ];
  for (const [what, bytes, status] of cases) {
    it(`answers ${what} with 0x${status.toString(16).padStart(2, '0')}, posts nothing, keeps the session`, async () => {
      const h = await listener();
      const r = await bound(h);
      const seq = bytes.readUInt32BE(12);
      r.socket.write(Buffer.concat([pdu('submit_sm', 2, sm), bytes, pdu('submit_sm', 3, sm)]));
      await waitFor(() => [2, seq, 3].every((s) => r.bySeq(s)), 10_000, 'answers');
      expect(r.bySeq(seq)).toMatchObject({ command: 'submit_sm_resp', command_status: status });
      expect(r.bySeq(2)?.command_status).toBe(0);
      expect(r.bySeq(3)?.command_status).toBe(0);
      expect(h.submitted.map((p) => p.sequence_number).sort()).toEqual([2, 3]);
      expect(h.refusals).toEqual([expect.objectContaining({ command: 'submit_sm', status })]);
      await stillServes(r, 40);
    });
  }

  it('accepts the addresses partners use: E.164 with or without +, short codes, alphanumeric senders', async () => {
    const h = await listener({}, 0);
    const r = await bound(h);
    const ok: PduOptions[] = [
      { source_addr_ton: 1, source_addr_npi: 1, source_addr: '+4917012345', destination_addr: '4917099' },
      { source_addr_ton: 5, source_addr_npi: 0, source_addr: 'ACME Bank', destination_addr: '4917099' },
      {
        source_addr_ton: 3,
        source_addr_npi: 0,
        source_addr: '1234',
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: '+4917099',
      },
      { source_addr: '', destination_addr: '12345678901234567890' },
    ];
    r.socket.write(
      Buffer.concat(ok.map((f, i) => pdu('submit_sm', 50 + i, { ...f, short_message: Buffer.from('x') }))),
    );
    await waitFor(() => ok.every((_, i) => r.bySeq(50 + i)), 10_000, 'answers');
    expect(ok.map((_, i) => r.bySeq(50 + i)?.command_status)).toEqual([0, 0, 0, 0]);
    expect(h.refusals).toHaveLength(0);
  });
});

describe('SmppListener: commands only an SMSC sends', () => {
  it('answers outbind with generic_nack, ignores alert_notification, counts both, before and after bind', async () => {
    const h = await listener();
    const r = await raw(h.port);
    r.socket.write(
      Buffer.concat([
        pdu('outbind', 5, { system_id: 'x', password: 'y' }),
        pdu('alert_notification', 6, { source_addr: '1', esme_addr: '2' }),
        pdu('bind_transceiver', 7, { system_id: 'partnerA', password: 'pw-a' }),
      ]),
    );
    await waitFor(() => r.bySeq(7) !== undefined, 10_000, 'bind response');
    expect(r.bySeq(5)).toMatchObject({ command: 'generic_nack', command_status: 0x03 });
    expect(r.bySeq(6)).toBeUndefined();
    expect(r.bySeq(7)?.command_status).toBe(0);
    r.socket.write(
      Buffer.concat([pdu('alert_notification', 8, { source_addr: '1', esme_addr: '2' }), pdu('outbind', 9)]),
    );
    await waitFor(() => r.bySeq(9) !== undefined, 10_000, 'generic_nack');
    await stillServes(r, 10);
    expect(r.bySeq(8)).toBeUndefined();
    expect(h.unexpected.map((u) => [u.command, u.key])).toEqual([
      ['outbind', undefined],
      ['alert_notification', undefined],
      ['alert_notification', 'ns/partner-a'],
      ['outbind', 'ns/partner-a'],
    ]);
    expect(h.decodeErrors).toHaveLength(0);
  });
});

describe('SmppListener: a stream that loses its framing', () => {
  it('still answers the requests read before it, sends generic_nack ESME_RINVCMDLEN, then closes', async () => {
    const h = await listener({}, 200);
    const r = await bound(h);
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 99]);
    r.socket.write(Buffer.concat([pdu('submit_sm', 2, sm), pdu('submit_sm', 3, sm), garbage]));
    await r.closed;
    expect(r.bySeq(2)).toMatchObject({ command: 'submit_sm_resp', command_status: 0 });
    expect(r.bySeq(3)).toMatchObject({ command: 'submit_sm_resp', command_status: 0 });
    expect(r.bySeq(99)).toMatchObject({ command: 'generic_nack', command_status: 0x02 });
    expect(h.decodeErrors).toHaveLength(1);
  });
});

describe('SmppListener: closing after a negative bind response or unbind_resp', () => {
  it('keeps the socket open after a negative bind_resp until the partner closes', async () => {
    const h = await listener({ bindRejectLingerMs: 60_000 });
    const rejected: BindRejection[] = [];
    h.l.on('bindRejected', (x: BindRejection) => rejected.push(x));
    const r = await raw(h.port);
    r.socket.write(pdu('bind_transceiver', 1, { system_id: 'partnerA', password: 'wrong' }));
    await waitFor(() => r.bySeq(1) !== undefined, 10_000, 'bind response');
    expect(r.bySeq(1)?.command_status).toBe(0x0e);
    // Still open: the connection answers (it is not bound, so ESME_RINVBNDSTS).
    r.socket.write(pdu('enquire_link', 2));
    await waitFor(() => r.bySeq(2) !== undefined, 10_000, 'enquire_link_resp');
    expect(r.bySeq(2)?.command_status).toBe(0x04);
    // A second bind on the same connection is not another guess.
    r.socket.write(pdu('bind_transceiver', 3, { system_id: 'partnerA', password: 'pw-a' }));
    await waitFor(() => r.bySeq(3) !== undefined, 10_000, 'second bind response');
    expect(r.bySeq(3)?.command_status).toBe(0x04);
    expect(r.ended()).toBe(false);
    r.socket.end();
    await r.closed;
    expect(rejected).toHaveLength(1);
    expect(h.l.sessions()).toHaveLength(0);
  });

  it('closes after a negative bind_resp by itself once the bound passes', async () => {
    const h = await listener({ bindRejectLingerMs: 100 });
    const r = await raw(h.port);
    r.socket.write(pdu('bind_transmitter', 1, { system_id: 'nobody', password: 'x' }));
    await r.closed;
    expect(r.ended()).toBe(true);
    expect(r.bySeq(1)?.command_status).toBe(0x0f);
  });

  it('refuses a bind cut short inside its password as a failed bind (ESME_RINVCMDLEN)', async () => {
    const h = await listener({ bindRejectLingerMs: 100 });
    const rejected: BindRejection[] = [];
    h.l.on('bindRejected', (x: BindRejection) => rejected.push(x));
    const r = await raw(h.port);
    const b = pdu('bind_transceiver', 1, { system_id: 'partnerA', password: 'pw-a' }).subarray(0, 16 + 9 + 2);
    b.writeUInt32BE(b.length, 0);
    r.socket.write(b);
    await r.closed;
    expect(r.bySeq(1)).toMatchObject({ command: 'bind_transceiver_resp', command_status: 0x02 });
    expect(rejected).toEqual([expect.objectContaining({ code: 'malformed_bind', status: 0x02 })]);
    expect(h.l.sessions()).toHaveLength(0);
  });

  it("takes a password longer than SMPP 3.4's 8 characters to authentication, not to a refusal", async () => {
    const h = await listener({ bindRejectLingerMs: 100 });
    const r = await raw(h.port);
    r.socket.write(pdu('bind_transceiver', 1, { system_id: 'partnerA', password: 'far-too-long' }));
    await r.closed;
    expect(r.bySeq(1)?.command_status).toBe(0x0e);
    expect(h.refusals).toHaveLength(0);
  });

  it('after unbind_resp lets the partner close first, and closes itself once the bound passes', async () => {
    const h = await listener({ unbindLingerMs: 60_000 });
    const a = await bound(h);
    a.socket.write(pdu('unbind', 2));
    await waitFor(() => a.bySeq(2) !== undefined, 10_000, 'unbind_resp');
    expect(a.bySeq(2)?.command).toBe('unbind_resp');
    a.socket.write(pdu('enquire_link', 3));
    await waitFor(() => a.bySeq(3) !== undefined, 10_000, 'enquire_link_resp');
    expect(a.bySeq(3)?.command_status).toBe(0x04); // open, no longer bound
    expect(a.ended()).toBe(false);
    await waitFor(() => h.l.sessions().length === 0, 10_000, 'session gone from the table');
    a.socket.end();
    await a.closed;

    const h2 = await listener({ unbindLingerMs: 100 });
    const b = await bound(h2);
    b.socket.write(pdu('unbind', 2));
    await b.closed;
    expect(b.ended()).toBe(true);
    expect(b.bySeq(2)?.command).toBe('unbind_resp');
  });
});
