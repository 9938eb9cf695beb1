import type { SubmitSm } from '../../../src/smpp/pdu/pdu.js';
import { afterEach, describe, expect, it } from 'vitest';
import smpp from 'smpp';
import type { PDU, Session } from 'smpp';
import { createLogger } from '../../../src/log.js';
import { SmppClosedError, SmppTimeoutError } from '../../../src/smpp/errors.js';
import {
  SmppListener,
  type BindRejection,
  type ListenerOptions,
  type ServerBindEntry,
  type ServerSessionInfo,
} from '../../../src/smpp/server-listener.js';
import { createTestPki } from '../../helpers/tls.js';
import { once, waitFor } from './peer.js';

const log = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];

// Sliding window used to count arrivals at the peer. The peer stamps a PDU when its event loop
// gets to it, so on a loaded machine an early PDU can be stamped tens of ms late; 50 ms of that
// is tolerated here. The limiter itself is exact over 1000 ms (fake-clock unit test).
const WINDOW_AT_PEER_MS = 950;

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

function entry(over: Partial<ServerBindEntry> = {}): ServerBindEntry {
  return {
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
    ...over,
  };
}

async function listener(
  opts: Partial<ListenerOptions> = {},
  binds: ServerBindEntry[] = [entry()],
): Promise<{ l: SmppListener; port: number; host: string }> {
  const host = opts.host ?? '127.0.0.1';
  const l = new SmppListener(
    { host, port: 0, maxConnections: 20, slowdown: { freeAttempts: 100 }, ...opts },
    log,
  );
  l.setBinds(binds);
  const { port } = await l.listen();
  cleanups.push(() => l.close());
  return { l, port, host };
}

interface Partner {
  session: Session;
  received: PDU[];
  closed: Promise<void>;
  isClosed: () => boolean;
}

/** A partner ESME built on the bare library; answers deliver_sm/enquire_link unless told not to. */
async function partner(
  port: number,
  host = '127.0.0.1',
  opts: { answer?: (pdu: PDU) => boolean; tls?: boolean; ca?: string } = {},
): Promise<Partner> {
  const session = smpp.connect({
    host,
    port,
    ...(opts.tls ? { tls: true, ca: opts.ca, rejectUnauthorized: true } : {}),
  });
  session.on('error', () => undefined);
  let closed = false;
  const closedP = new Promise<void>((r) =>
    session.on('close', () => {
      closed = true;
      r();
    }),
  );
  const received: PDU[] = [];
  session.on('pdu', (pdu: PDU) => {
    received.push(pdu);
    if (pdu.isResponse()) return;
    if (opts.answer && !opts.answer(pdu)) return;
    if (pdu.command === 'deliver_sm' || pdu.command === 'enquire_link' || pdu.command === 'unbind')
      session.send(pdu.response());
  });
  await new Promise<void>((resolve, reject) => {
    session.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
    session.once('error', reject);
  });
  cleanups.push(() => session.destroy());
  return { session, received, closed: closedP, isClosed: () => closed };
}

function bind(
  p: Partner,
  type: 'transmitter' | 'receiver' | 'transceiver',
  systemId = 'partnerA',
  password = 'pw-a',
): Promise<PDU> {
  return new Promise((resolve) =>
    p.session.send(new smpp.PDU(`bind_${type}`, { system_id: systemId, password }), resolve),
  );
}

function request(
  p: Partner,
  command: 'submit_sm' | 'enquire_link' | 'query_sm' | 'cancel_sm' | 'data_sm',
  fields: Record<string, unknown> = {},
): Promise<PDU> {
  return new Promise((resolve) => p.session.send(new smpp.PDU(command, fields as never), resolve));
}

const sm = { source_addr: '1555', destination_addr: '2666', short_message: Buffer.from([0x00, 0x1b, 0x3c]) };

describe('SmppListener: authentication', () => {
  it('binds a partner, lists its session and hands its submit_sm to the handler', async () => {
    const { l, port } = await listener();
    const bound: ServerSessionInfo[] = [];
    l.on('sessionBound', (i: ServerSessionInfo) => bound.push(i));
    const seen: { bind: ServerBindEntry; pdu: SubmitSm; info: ServerSessionInfo }[] = [];
    let release: (() => void) | undefined;
    l.setSubmitHandler(async (b, pdu, info) => {
      seen.push({ bind: b, pdu, info });
      await new Promise<void>((r) => (release = r));
      return { status: 0, messageId: 'core-42' };
    });
    const p = await partner(port);
    const resp = await bind(p, 'transceiver');
    expect(resp.command_status).toBe(0);
    expect(resp.system_id).toBe('smpp-operator');
    expect(bound).toHaveLength(1);
    expect(l.sessions('ns/partner-a')).toEqual([
      expect.objectContaining({ key: 'ns/partner-a', peerAddress: '127.0.0.1', bindType: 'transceiver' }),
    ]);
    let submitResp: PDU | undefined;
    void request(p, 'submit_sm', sm).then((r) => (submitResp = r));
    await waitFor(() => seen.length === 1);
    expect(seen[0]?.bind.key).toBe('ns/partner-a');
    expect(Buffer.isBuffer(seen[0]?.pdu.short_message)).toBe(true);
    expect((seen[0]?.pdu.short_message as Buffer).equals(sm.short_message)).toBe(true);
    await new Promise((r) => setTimeout(r, 50));
    expect(submitResp).toBeUndefined(); // no resp before the handler resolves
    release?.();
    await waitFor(() => submitResp !== undefined);
    expect(submitResp?.command_status).toBe(0);
    expect(submitResp?.message_id).toBe('core-42');
  });

  const rejections: [
    string,
    Partial<ServerBindEntry>,
    'transmitter' | 'receiver' | 'transceiver',
    string,
    string,
    number,
  ][] = [
    ['a wrong password', {}, 'transceiver', 'partnerA', 'nope', 0x0e],
    ['an unknown system_id', {}, 'transceiver', 'nobody', 'pw-a', 0x0f],
    [
      'a bind type the entry does not allow',
      { allowedBindTypes: ['transmitter'] },
      'receiver',
      'partnerA',
      'pw-a',
      0x04,
    ],
    ['a suspended bind', { suspend: true }, 'transceiver', 'partnerA', 'pw-a', 0x0d],
    [
      'an address outside the allowlist',
      { ipAllowlist: ['10.0.0.0/8', '::1'] },
      'transceiver',
      'partnerA',
      'pw-a',
      0x0d,
    ],
  ];
  for (const [what, over, type, sys, pw, status] of rejections) {
    it(`rejects ${what} with status 0x${status.toString(16)} and closes the connection`, async () => {
      const { l, port } = await listener({}, [entry(over)]);
      const rejected: BindRejection[] = [];
      l.on('bindRejected', (r: BindRejection) => rejected.push(r));
      const p = await partner(port);
      const resp = await bind(p, type, sys, pw);
      expect(resp.command_status).toBe(status);
      await p.closed;
      expect(rejected).toEqual([
        expect.objectContaining({ systemId: sys, peerAddress: '127.0.0.1', status }),
      ]);
      expect(l.sessions()).toHaveLength(0);
    });
  }

  it('applies the allowlist to IPv6 loopback (::1) and bare addresses as /128', async () => {
    const { port } = await listener({ host: '::1' }, [entry({ ipAllowlist: ['::1'] })]);
    const ok = await partner(port, '::1');
    expect((await bind(ok, 'transmitter')).command_status).toBe(0);
    const { port: port2 } = await listener({ host: '::1' }, [entry({ ipAllowlist: ['127.0.0.1', '::2'] })]);
    const no = await partner(port2, '::1');
    expect((await bind(no, 'transmitter')).command_status).toBe(0x0d);
    const { port: port3 } = await listener({ host: '127.0.0.1' }, [entry({ ipAllowlist: ['127.0.0.0/8'] })]);
    const v4 = await partner(port3, '127.0.0.1');
    expect((await bind(v4, 'transmitter')).command_status).toBe(0);
  });

  it('answers ESME_RALYBND once a bind has maxSessions sessions', async () => {
    const { l, port } = await listener({}, [entry({ maxSessions: 1 })]);
    const a = await partner(port);
    expect((await bind(a, 'transceiver')).command_status).toBe(0);
    const b = await partner(port);
    expect((await bind(b, 'transceiver')).command_status).toBe(0x05);
    expect(l.sessions()).toHaveLength(1);
    // A rebind on an already bound session is refused too.
    expect((await bind(a, 'transceiver')).command_status).toBe(0x05);
  });

  it('slows down repeated failed binds from one address, whatever the password', async () => {
    const { port } = await listener({ slowdown: { freeAttempts: 2, baseDelayMs: 300, maxDelayMs: 5000 } });
    const timed = async (pw: string): Promise<{ ms: number; status: number }> => {
      const p = await partner(port);
      const t0 = performance.now();
      const r = await bind(p, 'transmitter', 'partnerA', pw);
      return { ms: performance.now() - t0, status: r.command_status };
    };
    await timed('guess1');
    await timed('guess2');
    const third = await timed('guess3'); // first costly failure: >= 300 ms
    const fourth = await timed('guess4'); // doubles: >= 600 ms
    expect(third.status).toBe(0x0e);
    expect(third.ms).toBeGreaterThanOrEqual(290);
    expect(fourth.ms).toBeGreaterThanOrEqual(590);
    // The right password is delayed as well (no oracle), and success clears the record.
    const right = await timed('pw-a');
    expect(right.status).toBe(0);
    expect(right.ms).toBeGreaterThanOrEqual(1190);
  });
});

describe('SmppListener: connection rules', () => {
  it('accepts at most maxConnections sockets', async () => {
    const { l, port } = await listener({ maxConnections: 2 });
    const refused: unknown[] = [];
    l.on('connectionRefused', (r: unknown) => refused.push(r));
    const a = await partner(port);
    const b = await partner(port);
    expect((await bind(a, 'transmitter')).command_status).toBe(0);
    expect((await bind(b, 'transmitter')).command_status).toBe(0);
    const c = await partner(port);
    await c.closed;
    expect(refused).toHaveLength(1);
    expect(a.isClosed() || b.isClosed()).toBe(false);
  });

  it('closes a socket that does not bind within bindTimeoutMs', async () => {
    const { port } = await listener({ bindTimeoutMs: 200 });
    const p = await partner(port);
    await p.closed;
    expect(p.received).toHaveLength(0);
  });

  it('answers PDUs before bind with ESME_RINVBNDSTS', async () => {
    const { port } = await listener();
    const p = await partner(port);
    expect((await request(p, 'enquire_link')).command_status).toBe(0x04);
    expect((await request(p, 'submit_sm', sm)).command_status).toBe(0x04);
    expect((await bind(p, 'transceiver')).command_status).toBe(0);
    expect((await request(p, 'enquire_link')).command_status).toBe(0);
  });

  it('answers unknown commands with generic_nack ESME_RINVCMDID', async () => {
    const { port } = await listener();
    const p = await partner(port);
    const header = Buffer.alloc(16);
    header.writeUInt32BE(16, 0);
    header.writeUInt32BE(0x000001ff, 4);
    header.writeUInt32BE(0, 8);
    header.writeUInt32BE(77, 12);
    p.session.socket.write(header);
    await waitFor(() => p.received.some((r) => r.command === 'generic_nack'));
    const nack = p.received.find((r) => r.command === 'generic_nack');
    expect(nack?.command_status).toBe(0x03);
    expect(nack?.sequence_number).toBe(77);
  });

  it('answers commands it does not support (cancel_sm, data_sm) with generic_nack ESME_RINVCMDID', async () => {
    const { port } = await listener();
    const p = await partner(port);
    expect((await bind(p, 'transceiver')).command_status).toBe(0);
    for (const cmd of ['cancel_sm', 'data_sm'] as const) {
      const r = await request(p, cmd, { message_id: '1', source_addr: '1', destination_addr: '2' });
      expect(r).toMatchObject({ command: 'generic_nack', command_status: 0x03 });
    }
    expect((await request(p, 'enquire_link')).command_status).toBe(0); // the session carries on
  });

  it('drops a partner that does not answer deliver_sm within peerResponseTimeoutMs', async () => {
    const { l, port } = await listener({ peerResponseTimeoutMs: 300 });
    const p = await partner(port, '127.0.0.1', { answer: (pdu) => pdu.command !== 'deliver_sm' });
    await bind(p, 'receiver');
    const closed = once<ServerSessionInfo>(l, 'sessionClosed');
    const err = await l.deliver('ns/partner-a', sm).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmppTimeoutError);
    await closed;
    await p.closed;
    // Dropped without an unbind, as the seeds' providers do.
    expect(p.received.filter((r) => r.command === 'unbind')).toHaveLength(0);
  });

  it('sends enquire_link and drops a partner that ignores it', async () => {
    const { l, port } = await listener({ peerResponseTimeoutMs: 300, enquireLinkIntervalMs: 50 });
    const p = await partner(port, '127.0.0.1', { answer: (pdu) => pdu.command !== 'enquire_link' });
    await bind(p, 'transmitter');
    const [, reason] = await new Promise<[ServerSessionInfo, string]>((r) =>
      l.once('sessionClosed', (i, why) => r([i, why])),
    );
    expect(reason).toMatch(/did not answer/);
    expect(p.received.some((r) => r.command === 'enquire_link')).toBe(true);
  });

  it('drops the connection on garbage input, counts it, and keeps serving others', async () => {
    const { l, port } = await listener();
    const errors: Error[] = [];
    l.on('decodeError', (e: Error) => errors.push(e));
    const bad = await partner(port);
    bad.session.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
    await bad.closed;
    expect(errors).toHaveLength(1);
    const good = await partner(port);
    expect((await bind(good, 'transmitter')).command_status).toBe(0);
  });

  it('unbinds its sessions on close', async () => {
    const { l, port } = await listener();
    const p = await partner(port);
    await bind(p, 'transceiver');
    await l.close();
    await p.closed;
    expect(p.received.some((r) => r.command === 'unbind')).toBe(true);
  });

  it('serves TLS when given a key and certificate', async () => {
    const pki = createTestPki();
    const { port } = await listener({ tls: { key: pki.key, cert: pki.cert } });
    const p = await partner(port, '127.0.0.1', { tls: true, ca: pki.ca });
    expect((await bind(p, 'transceiver')).command_status).toBe(0);
  });
});

describe('SmppListener: live bind table', () => {
  it('drops sessions of removed, suspended and password-changed binds, keeping the rest', async () => {
    const a = entry();
    const b = entry({ key: 'ns/b', name: 'b', systemId: 'sysB', password: 'pw-b' });
    const c = entry({ key: 'ns/c', name: 'c', systemId: 'sysC', password: 'pw-c' });
    const d = entry({ key: 'ns/d', name: 'd', systemId: 'sysD', password: 'pw-d' });
    const e = entry({ key: 'ns/e', name: 'e', systemId: 'sysE', password: 'pw-e' });
    const { l, port } = await listener({}, [a, b, c, d, e]);
    const pa = await partner(port);
    const pb = await partner(port);
    const pc = await partner(port);
    const pd = await partner(port);
    const pe = await partner(port);
    await bind(pa, 'transceiver');
    await bind(pb, 'transceiver', 'sysB', 'pw-b');
    await bind(pc, 'transceiver', 'sysC', 'pw-c');
    await bind(pd, 'transceiver', 'sysD', 'pw-d');
    await bind(pe, 'transceiver', 'sysE', 'pw-e');
    const reasons: string[] = [];
    l.on('sessionClosed', (_i: ServerSessionInfo, why: string) => reasons.push(why));
    // a removed, b suspended, c password changed, e system_id changed, d only its TPS changed.
    l.setBinds([
      { ...b, suspend: true },
      { ...c, password: 'new' },
      { ...d, tpsLimit: 100 },
      { ...e, systemId: 'sysE2' },
    ]);
    await Promise.all([pa.closed, pb.closed, pc.closed, pe.closed]);
    await waitFor(() => reasons.length === 4, 5000, 'four sessionClosed events');
    expect(reasons.sort()).toEqual([
      'bind removed',
      'bind suspended',
      'password changed',
      'system_id changed',
    ]);
    for (const p of [pa, pb, pc, pe]) expect(p.received.some((r) => r.command === 'unbind')).toBe(true);
    expect(pd.isClosed()).toBe(false);
    expect(l.sessions().map((s) => s.key)).toEqual(['ns/d']);
    // The new password works, the old one no longer does.
    const again = await partner(port);
    expect((await bind(again, 'transceiver', 'sysC', 'pw-c')).command_status).toBe(0x0e);
    const fresh = await partner(port);
    expect((await bind(fresh, 'transceiver', 'sysC', 'new')).command_status).toBe(0);
  });
});

describe('SmppListener: traffic', () => {
  it('answers submit_sm over inboundTpsLimit with ESME_RTHROTTLED without calling the handler', async () => {
    const { l, port } = await listener({}, [entry({ inboundTpsLimit: 5 })]);
    let calls = 0;
    l.setSubmitHandler(async () => {
      calls++;
      return { status: 0, messageId: String(calls) };
    });
    const p = await partner(port);
    await bind(p, 'transmitter');
    const resps = await Promise.all(Array.from({ length: 20 }, () => request(p, 'submit_sm', sm)));
    const ok = resps.filter((r) => r.command_status === 0).length;
    const throttled = resps.filter((r) => r.command_status === 0x58).length;
    expect(ok).toBe(5);
    expect(throttled).toBe(15);
    expect(calls).toBe(5);
  });

  it('refuses submit_sm from a receiver-only session', async () => {
    const { l, port } = await listener();
    let calls = 0;
    l.setSubmitHandler(async () => {
      calls++;
      return { status: 0 };
    });
    const p = await partner(port);
    await bind(p, 'receiver');
    expect((await request(p, 'submit_sm', sm)).command_status).toBe(0x04);
    expect(calls).toBe(0);
  });

  it('delivers round robin over receiver/transceiver sessions, never to transmitters', async () => {
    const { l, port } = await listener();
    const rx = await partner(port);
    const trx = await partner(port);
    const tx = await partner(port);
    await bind(rx, 'receiver');
    await bind(trx, 'transceiver');
    await bind(tx, 'transmitter');
    const resps = await Promise.all(Array.from({ length: 10 }, () => l.deliver('ns/partner-a', sm)));
    expect(resps.every((r) => r.command === 'deliver_sm_resp' && r.command_status === 0)).toBe(true);
    const count = (p: Partner): number => p.received.filter((r) => r.command === 'deliver_sm').length;
    expect(count(rx)).toBe(5);
    expect(count(trx)).toBe(5);
    expect(count(tx)).toBe(0);
  });

  it('delivers at the bind tpsLimit, shared by its sessions', async () => {
    const { l, port } = await listener({ window: 50 }, [entry({ tpsLimit: 20 })]);
    const arrivals: number[] = [];
    const record = (pdu: PDU): boolean => {
      if (pdu.command === 'deliver_sm') arrivals.push(performance.now());
      return true;
    };
    const a = await partner(port, '127.0.0.1', { answer: record });
    const b = await partner(port, '127.0.0.1', { answer: record });
    await bind(a, 'receiver');
    await bind(b, 'receiver');
    await new Promise((r) => setTimeout(r, 100));
    await Promise.all(Array.from({ length: 50 }, () => l.deliver('ns/partner-a', sm)));
    expect(arrivals).toHaveLength(50);
    let worst = 0;
    let j = 0;
    for (let i = 0; i < arrivals.length; i++) {
      while ((arrivals[i] as number) - (arrivals[j] as number) >= WINDOW_AT_PEER_MS) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(20);
    expect((arrivals[49] as number) - (arrivals[0] as number)).toBeGreaterThan(2000);
  });

  it('stops writing deliver_sm into a partner socket that is not read', async () => {
    const { l, port } = await listener({ window: 100_000, peerResponseTimeoutMs: 60_000 });
    const p = await partner(port);
    await bind(p, 'receiver');
    p.session.pause();
    p.session.socket.pause();
    const big = { ...sm, short_message: Buffer.alloc(0), message_payload: Buffer.alloc(60_000, 0x62) };
    const all = Array.from({ length: 400 }, () => l.deliver('ns/partner-a', big).catch(() => undefined));
    await waitFor(() => l.stats('ns/partner-a').queued > 0, 20_000, 'deliveries to back up');
    const before = l.stats('ns/partner-a');
    await new Promise((r) => setTimeout(r, 200));
    const after = l.stats('ns/partner-a');
    expect(after.inFlight).toBe(before.inFlight);
    expect(after.queued).toBe(400 - after.inFlight);
    expect(after.bufferedBytes).toBeLessThan(64 * 1024 + 70_000);
    await l.close();
    await Promise.all(all);
  });

  it('rejects deliver with SmppClosedError when no receiving session is bound', async () => {
    const { l, port } = await listener();
    await expect(l.deliver('ns/partner-a', sm)).rejects.toBeInstanceOf(SmppClosedError);
    await expect(l.deliver('ns/unknown', sm)).rejects.toBeInstanceOf(SmppClosedError);
    const tx = await partner(port);
    await bind(tx, 'transmitter');
    await expect(l.deliver('ns/partner-a', sm)).rejects.toBeInstanceOf(SmppClosedError);
  });
});
