import type { DeliverSm } from '../../../src/smpp/pdu/pdu.js';
import { afterEach, describe, expect, it } from 'vitest';
import smpp from 'smpp';
import type { PDU } from 'smpp';
import { createLogger } from '../../../src/log.js';
import { ClientSession, type ClientSessionOptions } from '../../../src/smpp/client-session.js';
import type { RefusedPdu } from '../../../src/smpp/pdu-reader.js';
import {
  SmppClosedError,
  SmppStatusError,
  SmppTimeoutError,
  isTemporaryStatus,
} from '../../../src/smpp/errors.js';
import { createTestPki } from '../../helpers/tls.js';
import { Peer, once, waitFor, type PeerPdu } from './peer.js';

const log = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];

// Sliding window used to count arrivals at the peer. The peer stamps a PDU when its event loop
// gets to it, so on a loaded machine an early PDU can be stamped tens of ms late; 50 ms of that
// is tolerated here. The limiter itself is exact over 1000 ms (fake-clock unit test).
const WINDOW_AT_PEER_MS = 950;

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function peer(opts: ConstructorParameters<typeof Peer>[0] = {}, host = '127.0.0.1'): Promise<Peer> {
  const p = new Peer(opts);
  await p.listen(host);
  cleanups.push(() => p.close());
  return p;
}

function client(p: Peer, extra: Partial<ClientSessionOptions> = {}): ClientSession {
  const c = new ClientSession(
    {
      host: '127.0.0.1',
      port: p.port,
      bindType: 'transceiver',
      systemId: 'esme',
      password: 'secret',
      reconnect: { minDelayMs: 20, maxDelayMs: 100 },
      responseTimeoutMs: 5000,
      bindTimeoutMs: 5000,
      ...extra,
    },
    log,
  );
  c.on('error', () => undefined);
  cleanups.push(() => c.stop());
  return c;
}

const submitFields = { destination_addr: '15550001', source_addr: 'TEST', short_message: Buffer.from('hi') };

describe('ClientSession: bind', () => {
  it('binds, submits and resolves with the submit_sm_resp', async () => {
    const p = await peer();
    const c = client(p);
    c.start();
    await once(c, 'bound');
    expect(c.state).toBe('bound');
    const resp = await c.submit(submitFields);
    expect(resp.command).toBe('submit_sm_resp');
    expect(resp.command_status).toBe(0);
    expect(resp.message_id).toMatch(/^m\d+$/);
    const bind = p.of('bind_transceiver')[0]?.pdu;
    expect(bind?.system_id).toBe('esme');
    expect(bind?.interface_version).toBe(0x34);
  });

  it('reports a wrong password as a typed SmppStatusError and keeps retrying', async () => {
    const p = await peer({ password: 'other' });
    const c = client(p);
    const failures: Error[] = [];
    c.on('bindFailed', (e: Error) => failures.push(e));
    c.start();
    await waitFor(() => failures.length >= 2, 10_000, 'two bind failures');
    const err = failures[0] as SmppStatusError;
    expect(err).toBeInstanceOf(SmppStatusError);
    expect(err.status).toBe(0x0e);
    expect(err.statusName).toBe('ESME_RINVPASWD');
    expect(err.command).toBe('bind_transceiver_resp');
    expect(err.message).toBe('bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)');
    expect(p.of('bind_transceiver').length).toBeGreaterThanOrEqual(2);
    expect(c.state).not.toBe('bound');
  });

  it('fails the bind with SmppTimeoutError when the SMSC never answers it', async () => {
    const p = await peer({ handle: (_s, pdu) => pdu.command.startsWith('bind_') });
    const c = client(p, { bindTimeoutMs: 200 });
    c.start();
    const err = await once<Error>(c, 'bindFailed');
    expect(err).toBeInstanceOf(SmppTimeoutError);
    expect((err as SmppTimeoutError).command).toBe('bind_transceiver');
  });

  it('rejects queued submits with SmppClosedError when it cannot bind within the response timeout', async () => {
    const p = await peer({ password: 'other' });
    const c = client(p, { responseTimeoutMs: 300 });
    c.start();
    await expect(c.submit(submitFields)).rejects.toBeInstanceOf(SmppClosedError);
    expect(p.of('submit_sm')).toHaveLength(0);
  });
});

describe('ClientSession: requests', () => {
  it('never has more than `window` requests outstanding at the peer', async () => {
    const held: PeerPdu[] = [];
    const p = await peer({
      handle: (session, pdu) => {
        if (pdu.command !== 'submit_sm') return false;
        held.push(p.received[p.received.length - 1] as PeerPdu);
        return true;
      },
    });
    const c = client(p, { window: 5 });
    c.start();
    await once(c, 'bound');
    const all = Array.from({ length: 40 }, () => c.submit(submitFields));
    // Release responses a few at a time; the window must refill but never overflow.
    while (p.of('submit_sm').length < 40 || held.length > 0) {
      await waitFor(() => held.length > 0, 5000, 'held submit');
      expect(c.inFlight).toBeLessThanOrEqual(5);
      const batch = held.splice(0, 2);
      for (const h of batch) p.ack(h);
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(all);
    expect(p.maxOutstanding).toBe(5);
  });

  it('rejects a request with SmppTimeoutError when no response comes in time', async () => {
    const p = await peer({ handle: (_s, pdu) => pdu.command === 'submit_sm' });
    const c = client(p, { responseTimeoutMs: 200 });
    c.start();
    await once(c, 'bound');
    const err = await c.submit(submitFields).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmppTimeoutError);
    expect((err as SmppTimeoutError).command).toBe('submit_sm');
    expect(c.inFlight).toBe(0);
  });

  it('rejects everything in flight with SmppClosedError when the connection drops', async () => {
    const p = await peer({ handle: (_s, pdu) => pdu.command === 'submit_sm' });
    const c = client(p);
    c.start();
    await once(c, 'bound');
    const pending = Array.from({ length: 5 }, () => c.submit(submitFields).catch((e: unknown) => e));
    await waitFor(() => p.of('submit_sm').length === 5);
    const reason = once<string>(c, 'disconnected');
    for (const s of p.sessions) s.destroy();
    const results = await Promise.all(pending);
    for (const r of results) expect(r).toBeInstanceOf(SmppClosedError);
    expect(await reason).toMatch(/closed by peer|socket error/);
    expect(c.inFlight).toBe(0);
  });

  it('passes Buffer short_message, data_coding, esm_class and TLVs through unchanged', async () => {
    const p = await peer();
    const c = client(p);
    c.start();
    await once(c, 'bound');
    const body = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f]);
    await c.submit({
      ...submitFields,
      short_message: body,
      data_coding: 0x04,
      esm_class: 0x03,
      registered_delivery: 1,
      sar_msg_ref_num: 0x1234,
      sar_total_segments: 3,
      sar_segment_seqnum: 2,
    });
    await c.submit({
      ...submitFields,
      short_message: Buffer.alloc(0),
      data_coding: 0x04,
      message_payload: Buffer.alloc(300, 0xab),
    });
    const [first, second] = p.of('submit_sm').map((r) => r.pdu);
    expect(first?.data_coding).toBe(0x04);
    expect(first?.esm_class).toBe(0x03);
    expect((first?.short_message as { message: Buffer }).message.equals(body)).toBe(true);
    expect(first?.sar_msg_ref_num).toBe(0x1234);
    expect(first?.sar_total_segments).toBe(3);
    expect(first?.sar_segment_seqnum).toBe(2);
    expect((second?.message_payload as { message: Buffer }).message.equals(Buffer.alloc(300, 0xab))).toBe(
      true,
    );
  });

  it('rejects a non-zero submit_sm_resp with a typed SmppStatusError', async () => {
    const p = await peer({
      handle: (session, pdu) => {
        if (pdu.command !== 'submit_sm') return false;
        session.send(pdu.response({ command_status: 0x0b })); // ESME_RINVDSTADR
        return true;
      },
    });
    const c = client(p);
    c.start();
    await once(c, 'bound');
    const err = (await c.submit(submitFields).catch((e: unknown) => e)) as SmppStatusError;
    expect(err).toBeInstanceOf(SmppStatusError);
    expect(err.statusName).toBe('ESME_RINVDSTADR');
    expect(isTemporaryStatus(err.status)).toBe(false);
  });
});

describe('ClientSession: rate', () => {
  it('keeps every sliding 1-second window at the peer within the TPS limit', async () => {
    const p = await peer();
    const limit = 50;
    const c = client(p, { tpsLimit: limit, window: 100 });
    c.start();
    await once(c, 'bound');
    await new Promise((r) => setTimeout(r, 100)); // let the peer settle after the bind
    const all = Array.from({ length: 125 }, () => c.submit(submitFields));
    await Promise.all(all);
    const times = p.of('submit_sm').map((r) => r.at);
    expect(times).toHaveLength(125);
    let worst = 0;
    let j = 0;
    for (let i = 0; i < times.length; i++) {
      while ((times[i] as number) - (times[j] as number) >= WINDOW_AT_PEER_MS) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(limit);
    // And it is a rate limit, not a stall: 125 at 50/s needs more than two full seconds.
    expect((times[124] as number) - (times[0] as number)).toBeGreaterThan(2000);
  });

  it('backs off after ESME_RTHROTTLED before sending again', async () => {
    let throttleLeft = 2;
    const throttledAt: number[] = [];
    const p = await peer({
      handle: (session, pdu) => {
        if (pdu.command !== 'submit_sm' || throttleLeft === 0) return false;
        throttleLeft--;
        throttledAt.push(performance.now());
        session.send(pdu.response({ command_status: 0x58 }));
        p.outstanding--;
        return true;
      },
    });
    const c = client(p, { throttlePauseMs: 300 });
    let throttled = 0;
    c.on('throttled', () => throttled++);
    c.start();
    await once(c, 'bound');
    const first = (await c.submit(submitFields).catch((e: unknown) => e)) as SmppStatusError;
    expect(first).toBeInstanceOf(SmppStatusError);
    expect(first.statusName).toBe('ESME_RTHROTTLED');
    expect(isTemporaryStatus(first.status)).toBe(true);
    await expect(c.submit(submitFields)).rejects.toBeInstanceOf(SmppStatusError);
    await expect(c.submit(submitFields)).resolves.toBeDefined();
    expect(throttled).toBe(2);
    const submits = p.of('submit_sm').map((r) => r.at);
    // Lower bounds only: the pause doubles (300 ms, then 600 ms) after each throttle in a row.
    expect((submits[1] as number) - (throttledAt[0] as number)).toBeGreaterThanOrEqual(290);
    expect((submits[2] as number) - (throttledAt[1] as number)).toBeGreaterThanOrEqual(590);
  });
});

describe('ClientSession: link keeping', () => {
  it('sends enquire_link on its timer', async () => {
    const p = await peer();
    const c = client(p, { enquireLinkIntervalMs: 50 });
    c.start();
    await once(c, 'bound');
    await waitFor(() => p.of('enquire_link').length >= 3, 5000, 'three enquire_links');
    expect(c.state).toBe('bound');
  });

  it('declares the peer dead when enquire_link_resp does not come, and reconnects', async () => {
    const p = await peer({ handle: (_s, pdu) => pdu.command === 'enquire_link' });
    const c = client(p, { enquireLinkIntervalMs: 50, enquireLinkTimeoutMs: 200 });
    c.start();
    await once(c, 'bound');
    const reason = await once<string>(c, 'disconnected');
    expect(reason).toMatch(/enquire_link not answered/);
    await once(c, 'bound');
    expect(p.of('bind_transceiver').length).toBe(2);
  });

  it("answers the peer's enquire_link and unbind, then reconnects", async () => {
    const p = await peer();
    const c = client(p);
    c.start();
    await once(c, 'bound');
    const session = p.sessions[0];
    if (!session) throw new Error('no peer session');
    const enquireResp = await new Promise<PDU>((resolve) => session.enquire_link({}, resolve));
    expect(enquireResp.command).toBe('enquire_link_resp');
    expect(enquireResp.command_status).toBe(0);
    const disconnected = once<string>(c, 'disconnected');
    const unbindResp = await new Promise<PDU>((resolve) => session.unbind({}, resolve));
    expect(unbindResp.command).toBe('unbind_resp');
    expect(await disconnected).toBe('unbind by peer');
    await once(c, 'bound');
  });

  it('reconnects on a fresh session after the peer drops the connection', async () => {
    const p = await peer();
    const c = client(p);
    let connecting = 0;
    c.on('connecting', () => connecting++);
    c.start();
    await once(c, 'bound');
    await c.submit(submitFields);
    p.sessions[0]?.destroy();
    await once(c, 'disconnected');
    await once(c, 'bound');
    expect(connecting).toBe(2);
    expect(p.sessions).toHaveLength(2);
    expect(p.sessions[0]?.socket.remotePort).not.toBe(p.sessions[1]?.socket.remotePort);
    await c.submit(submitFields);
    // A fresh session numbers its PDUs from 1 again (bind = 1, first submit = 2).
    const secondBind = p.of('bind_transceiver')[1]?.pdu;
    expect(secondBind?.sequence_number).toBe(1);
    expect(p.of('submit_sm')[1]?.pdu.sequence_number).toBe(2);
  });

  it('unbinds cleanly on stop and rejects later submits', async () => {
    const p = await peer();
    const c = client(p);
    c.start();
    await once(c, 'bound');
    await c.stop();
    expect(p.of('unbind')).toHaveLength(1);
    expect(c.state).toBe('stopped');
    await expect(c.submit(submitFields)).rejects.toBeInstanceOf(SmppClosedError);
  });
});

describe('ClientSession: inbound', () => {
  it('hands deliver_sm to the handler with raw Buffers and answers only after it resolves', async () => {
    const p = await peer();
    const c = client(p);
    const got: DeliverSm[] = [];
    let release: (() => void) | undefined;
    c.setInboundHandler(async (pdu) => {
      got.push(pdu as DeliverSm);
      await new Promise<void>((r) => (release = r));
      return { status: 0 };
    });
    c.start();
    await once(c, 'bound');
    const session = p.sessions[0];
    if (!session) throw new Error('no peer session');
    // GSM 7-bit "@" is 0x00 and the escape 0x1B: the library would have turned these into text.
    const body = Buffer.from([0x00, 0x1b, 0x65, 0x41]);
    let resp: PDU | undefined;
    session.deliver_sm(
      {
        source_addr: '1555',
        destination_addr: '42',
        short_message: body,
        message_payload: Buffer.from([1, 2, 3]),
      },
      (r) => (resp = r),
    );
    await waitFor(() => got.length === 1);
    expect(Buffer.isBuffer(got[0]?.short_message)).toBe(true);
    expect((got[0]?.short_message as Buffer).equals(body)).toBe(true);
    expect((got[0]?.message_payload as Buffer).equals(Buffer.from([1, 2, 3]))).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(resp).toBeUndefined();
    release?.();
    await waitFor(() => resp !== undefined);
    expect(resp?.command).toBe('deliver_sm_resp');
    expect(resp?.command_status).toBe(0);
  });

  it("answers with the handler's status, and a temporary error when the handler throws", async () => {
    const p = await peer();
    const c = client(p);
    let n = 0;
    c.setInboundHandler(async () => {
      if (n++ === 0) return { status: 0x45 };
      throw new Error('core unreachable');
    });
    c.start();
    await once(c, 'bound');
    const session = p.sessions[0];
    if (!session) throw new Error('no peer session');
    const send = (): Promise<PDU> =>
      new Promise((resolve) =>
        session.deliver_sm({ source_addr: '1', destination_addr: '2', short_message: 'x' }, resolve),
      );
    expect((await send()).command_status).toBe(0x45);
    expect((await send()).command_status).toBe(0x64);
  });

  it('answers an unknown command with generic_nack ESME_RINVCMDID', async () => {
    const p = await peer();
    const c = client(p);
    c.start();
    await once(c, 'bound');
    const session = p.sessions[0];
    if (!session) throw new Error('no peer session');
    const header = Buffer.alloc(16);
    header.writeUInt32BE(16, 0);
    header.writeUInt32BE(0x00000777, 4);
    header.writeUInt32BE(0, 8);
    header.writeUInt32BE(99, 12);
    session.socket.write(header);
    await waitFor(() => p.of('generic_nack').length === 1);
    const nack = p.of('generic_nack')[0]?.pdu;
    expect(nack?.command_status).toBe(0x03);
    expect(nack?.sequence_number).toBe(99);
    expect(c.state).toBe('bound');
  });
});

describe('ClientSession: bad input', () => {
  const cases: [string, Buffer][] = [
    ['garbage bytes', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    [
      'an oversized command_length',
      Buffer.from([0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 1]),
    ],
    ['a command_length shorter than the header', Buffer.from([0, 0, 0, 8, 0, 0, 0, 4, 0, 0, 0, 0])],
  ];
  for (const [name, bytes] of cases) {
    it(`destroys the session on ${name}, counts it, and reconnects`, async () => {
      const p = await peer();
      const c = client(p);
      const decodeErrors: Error[] = [];
      c.on('decodeError', (e: Error) => decodeErrors.push(e));
      c.start();
      await once(c, 'bound');
      const reason = once<string>(c, 'disconnected');
      p.sessions[0]?.socket.write(bytes);
      expect(await reason).toMatch(/^decode error/);
      expect(decodeErrors).toHaveLength(1);
      await once(c, 'bound');
      await expect(c.submit(submitFields)).resolves.toBeDefined();
    });
  }
});

describe('ClientSession: malformed requests from the SMSC', () => {
  it('answers a deliver_sm whose TLV runs past its end with ESME_RINVOPTPARSTREAM and stays bound', async () => {
    const p = await peer();
    const c = client(p);
    const inbound: DeliverSm[] = [];
    c.setInboundHandler(async (pdu) => {
      inbound.push(pdu as DeliverSm);
      return { status: 0 };
    });
    const refused: RefusedPdu[] = [];
    c.on('pduRefused', (r: RefusedPdu) => refused.push(r));
    c.start();
    await once(c, 'bound');
    // deliver_sm ending in a message_state TLV header whose 1-byte value lies past the PDU's end
    const bytes = Buffer.concat([
      Buffer.from([0, 0, 0, 37, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 7]),
      Buffer.alloc(17),
      Buffer.from([0x04, 0x27, 0x00, 0x01]),
    ]);
    p.sessions[0]?.socket.write(bytes);
    await waitFor(() => p.of('deliver_sm_resp').length === 1, 10_000, 'deliver_sm_resp');
    expect(p.of('deliver_sm_resp')[0]?.pdu).toMatchObject({ sequence_number: 7, command_status: 0xc0 });
    expect(refused).toEqual([expect.objectContaining({ command: 'deliver_sm', status: 0xc0 })]);
    expect(inbound).toHaveLength(0);
    expect(c.state).toBe('bound');
    await expect(c.submit(submitFields)).resolves.toBeDefined();
  });
});

describe('ClientSession: backpressure', () => {
  it('stops writing into a socket the peer does not read', async () => {
    const p = await peer({
      handle: (session, pdu) => {
        if (pdu.command === 'bind_transceiver') {
          session.send(pdu.response());
          // Stop reading: the client's writes pile up in the kernel, then in its socket buffer.
          setImmediate(() => session.pause());
          session.socket.pause();
          return true;
        }
        return false;
      },
    });
    const c = client(p, { window: 100_000, responseTimeoutMs: 60_000 });
    c.start();
    await once(c, 'bound');
    const big = {
      ...submitFields,
      short_message: Buffer.alloc(0),
      message_payload: Buffer.alloc(60_000, 0x61),
    };
    const all = Array.from({ length: 400 }, () => c.submit(big).catch(() => undefined));
    await waitFor(() => c.queued > 0 && c.inFlight > 0, 20_000, 'writes to back up');
    const inFlight = c.inFlight;
    await new Promise((r) => setTimeout(r, 200));
    // Nothing more was pushed while the socket stayed full, and the user-space buffer is bounded.
    expect(c.inFlight).toBe(inFlight);
    expect(c.queued).toBe(400 - inFlight);
    expect(c.bufferedBytes).toBeLessThan(64 * 1024 + 70_000);
    await c.stop();
    await Promise.all(all);
  });
});

describe('ClientSession: TLS', () => {
  const pki = createTestPki();

  async function tlsPeer(): Promise<Peer> {
    return peer({ tls: { key: pki.key, cert: pki.cert } });
  }

  it('binds over TLS when the server certificate chains to the configured CA', async () => {
    const p = await tlsPeer();
    const c = client(p, { tls: { enabled: true, ca: pki.ca } });
    c.start();
    await once(c, 'bound');
    await expect(c.submit(submitFields)).resolves.toBeDefined();
  });

  it('refuses a server certificate from another CA (verification is on by default)', async () => {
    const p = await tlsPeer();
    const c = client(p, { tls: { enabled: true, ca: pki.otherCa } });
    c.start();
    const err = await once<Error>(c, 'bindFailed');
    expect(err.message).toMatch(/certificate|self.signed|unable to verify/i);
    expect(p.of('bind_transceiver')).toHaveLength(0);
  });

  it('refuses a server name the certificate does not cover', async () => {
    const p = await tlsPeer();
    const c = client(p, { tls: { enabled: true, ca: pki.ca, serverName: 'smsc.example.org' } });
    c.start();
    const err = await once<Error>(c, 'bindFailed');
    expect(err.message).toMatch(/altnames|does not match|Hostname/i);
  });

  it('connects without verification only when insecureSkipVerify is set', async () => {
    const p = await tlsPeer();
    const c = client(p, { tls: { enabled: true, insecureSkipVerify: true } });
    c.start();
    await once(c, 'bound');
    expect(smpp.errors.ESME_ROK).toBe(0);
  });
});
