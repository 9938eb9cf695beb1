// The listener's parts on their own: authentication decides binds in the order that leaks
// nothing past a wrong password, and the deliver scheduler spreads a bind's deliveries over its
// receiver sessions (real links on loopback sockets) within each one's window.
import { connect, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PDU } from 'smpp';
import { createLogger } from '../../../src/log.js';
import { SmppTimeoutError, SmppUnsentError, Status } from '../../../src/smpp/errors.js';
import { SmppLink, type LinkHooks, type LinkOptions } from '../../../src/smpp/link/link.js';
import { authenticate } from '../../../src/smpp/listener/authenticate.js';
import { BindState, type BoundSession } from '../../../src/smpp/listener/bind-table.js';
import type { ServerBindEntry } from '../../../src/smpp/listener/types.js';
import { rawPeer, type RawPeer } from '../../helpers/raw-smpp.js';
import { waitFor } from '../../helpers/wait.js';

const log = createLogger({ level: 'silent' });
const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) cleanups.pop()?.();
});

function entry(over: Partial<ServerBindEntry> = {}): ServerBindEntry {
  return {
    key: 'ns/a',
    namespace: 'ns',
    name: 'a',
    smscName: 'a',
    systemId: 'sysA',
    password: 'pw-a',
    allowedBindTypes: ['transmitter', 'receiver', 'transceiver'],
    ipAllowlist: [],
    tpsLimit: 0,
    inboundTpsLimit: 0,
    maxSessions: 2,
    suspend: false,
    ...over,
  };
}

const attempt = {
  systemId: 'sysA',
  password: 'pw-a',
  bindType: 'transceiver' as const,
  peerAddress: '10.0.0.1',
};

describe('authenticate', () => {
  it('accepts the entry whose password matches, among entries sharing the system_id', () => {
    const a = new BindState(entry(), log);
    const b = new BindState(entry({ key: 'ns/b', name: 'b', password: 'pw-b' }), log);
    const res = authenticate([a, b], { ...attempt, password: 'pw-b' });
    expect(res).toEqual({ ok: true, bind: b });
  });

  it('refuses in order: system_id, password, address, suspension, bind type, maxSessions', () => {
    const cases: [BindState[], Partial<typeof attempt>, number, string, boolean][] = [
      [[], {}, Status.ESME_RINVSYSID, 'unknown_system_id', true],
      // Suspended, wrong address and wrong type: a wrong password is all a guesser learns.
      [
        [
          new BindState(
            entry({ suspend: true, ipAllowlist: ['10.9.9.9'], allowedBindTypes: ['receiver'] }),
            log,
          ),
        ],
        { password: 'nope' },
        Status.ESME_RINVPASWD,
        'wrong_password',
        true,
      ],
      [
        [new BindState(entry({ ipAllowlist: ['10.9.0.0/16'], suspend: true }), log)],
        {},
        Status.ESME_RBINDFAIL,
        'address_not_allowed',
        true,
      ],
      [[new BindState(entry({ suspend: true }), log)], {}, Status.ESME_RBINDFAIL, 'suspended', false],
      [
        [new BindState(entry({ allowedBindTypes: ['receiver'] }), log)],
        {},
        Status.ESME_RINVBNDSTS,
        'bind_type_not_allowed',
        false,
      ],
    ];
    for (const [states, over, status, code, failure] of cases) {
      const res = authenticate(states, { ...attempt, ...over });
      expect(res).toMatchObject({ ok: false, status, code, failure });
    }
    const full = new BindState(entry({ maxSessions: 1 }), log);
    full.sessions.push({} as BoundSession);
    expect(authenticate([full], attempt)).toMatchObject({
      ok: false,
      status: Status.ESME_RALYBND,
      code: 'max_sessions',
      reason: 'maxSessions (1) reached',
      bind: full,
    });
  });
});

const linkOpts: LinkOptions = {
  window: 2,
  bindTimeoutMs: 5000,
  responseTimeoutMs: 5000,
  deadPeer: 'any',
  enquireIntervalMs: 60_000,
  enquireTimeoutMs: 5000,
  unbindLingerMs: 0,
  unbindWaitMs: 1000,
  strictRequests: true,
  label: 'partner session',
};

/** A bound session of `bs` on a real socket pair; the peer answers nothing until told. */
async function session(bs: BindState, receives: boolean): Promise<{ s: BoundSession; peer: RawPeer }> {
  let accepted!: (s: Socket) => void;
  const got = new Promise<Socket>((r) => (accepted = r));
  const server = createServer(accepted);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const client = connect(port, '127.0.0.1');
  client.on('error', () => undefined);
  const socket = await got;
  server.close();
  cleanups.push(() => {
    client.destroy();
    socket.destroy();
  });
  const noop = (): void => undefined;
  const hooks: LinkHooks = {
    request: noop,
    bindResponse: noop,
    refused: noop,
    decodeError: noop,
    ready: () => bs.deliveries.pump(),
    unbound: () => void bs.remove(s),
    answerFailed: noop,
    throttled: noop,
    closed: noop,
  };
  const link = new SmppLink(socket, linkOpts, hooks);
  link.markBound(bs.deliveries.pacer);
  const s: BoundSession = {
    link,
    receives,
    tag: bs.tag,
    systemId: bs.entry.systemId,
    bindType: receives ? 'transceiver' : 'transmitter',
    peerAddress: '127.0.0.1',
    info: {
      key: bs.entry.key,
      id: 'x',
      peerAddress: '127.0.0.1',
      peerPort: 0,
      bindType: 'transceiver',
      since: new Date(),
    },
  };
  bs.add(s);
  return { s, peer: rawPeer(client) };
}

function answer(peer: RawPeer, pdu: PDU): void {
  peer.socket.write(pdu.response({ message_id: '' }).toBuffer());
}

describe('DeliverScheduler', () => {
  it('sends round robin over receiving sessions only, never more than a window each, and refills on answers', async () => {
    const bs = new BindState(entry({ maxSessions: 3 }), log);
    const a = await session(bs, true);
    const t = await session(bs, false);
    const b = await session(bs, true);
    const all = Array.from({ length: 6 }, (_, i) =>
      bs.deliveries.deliver({
        source_addr: '1',
        destination_addr: String(i),
        short_message: Buffer.from('x'),
      }),
    );
    await waitFor(
      () => a.peer.of('deliver_sm').length === 2 && b.peer.of('deliver_sm').length === 2,
      10_000,
      'two each',
    );
    expect(a.peer.of('deliver_sm').map((p) => p.destination_addr)).toEqual(['0', '2']);
    expect(b.peer.of('deliver_sm').map((p) => p.destination_addr)).toEqual(['1', '3']);
    expect(t.peer.pdus).toHaveLength(0);
    expect(bs.deliveries.queued).toBe(2);
    for (const p of a.peer.of('deliver_sm')) answer(a.peer, p);
    await waitFor(() => a.peer.of('deliver_sm').length === 4, 10_000, 'refill on a');
    for (const p of a.peer.of('deliver_sm').slice(2)) answer(a.peer, p);
    for (const p of b.peer.of('deliver_sm')) answer(b.peer, p);
    const results = await Promise.all(all);
    expect(results.every((r) => r.command === 'deliver_sm_resp')).toBe(true);
    expect(t.peer.pdus).toHaveLength(0);
  });

  it('fails what is queued with SmppUnsentError when the last receiving session leaves', async () => {
    const bs = new BindState(entry(), log);
    const a = await session(bs, true);
    const sent = Array.from({ length: 3 }, () =>
      bs.deliveries.deliver({ source_addr: '1', destination_addr: '2' }).catch((e: unknown) => e),
    );
    await waitFor(() => a.peer.of('deliver_sm').length === 2, 10_000, 'the window');
    a.s.link.destroy({ kind: 'local', cause: 'bind removed' });
    const [first, second, third] = await Promise.all(sent);
    expect(third).toBeInstanceOf(SmppUnsentError); // never written: safe to send again
    expect(first).not.toBeInstanceOf(SmppUnsentError); // written, then the session closed
    expect(second).not.toBeInstanceOf(SmppUnsentError);
    await expect(bs.deliveries.deliver({ destination_addr: '2' })).rejects.toBeInstanceOf(SmppUnsentError);
  });

  it('fails a delivery that found no session slot in time with SmppTimeoutError', async () => {
    const bs = new BindState(entry(), log);
    const a = await session(bs, true);
    const sent = Array.from({ length: 3 }, () =>
      bs.deliveries.deliver({ source_addr: '1', destination_addr: '2' }).catch((e: unknown) => e),
    );
    await waitFor(() => a.peer.of('deliver_sm').length === 2, 10_000, 'the window');
    bs.deliveries.expire(performance.now() + 1000, 500);
    const waited = await sent[2];
    expect(waited).toBeInstanceOf(SmppTimeoutError);
    expect((waited as SmppTimeoutError).message).toBe('deliver_sm: no response within 500 ms');
    expect(bs.deliveries.queued).toBe(0);
  });
});
