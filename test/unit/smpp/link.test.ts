// SmppLink on real loopback sockets: the link is one end, a bare socket that frames PDUs by hand
// is the peer. Timers are driven by calling tick() with a clock set ahead, so no test waits out
// a timeout or asserts on timing.
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { PDU } from 'smpp';
import {
  SmppClosedError,
  SmppEncodeError,
  SmppStatusError,
  SmppTimeoutError,
  type SmppDecodeError,
} from '../../../src/smpp/errors.js';
import { describeClose, type CloseReason } from '../../../src/smpp/link/close-reason.js';
import { SmppLink, type LinkHooks, type LinkOptions, type LinkRequest } from '../../../src/smpp/link/link.js';
import { RequestQueue } from '../../../src/smpp/link/request-queue.js';
import { createLimiter } from '../../../src/smpp/rate-limiter.js';
import type { RefusedPdu } from '../../../src/smpp/pdu-reader.js';
import { rawPeer, type RawPeer } from '../../helpers/raw-smpp.js';
import type { MessageFields } from '../../../src/smpp/pdu/message.js';
import type { Answer, Pdu } from '../../../src/smpp/pdu/pdu.js';
import { waitFor } from '../../helpers/wait.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const base: LinkOptions = {
  window: 3,
  bindTimeoutMs: 5000,
  responseTimeoutMs: 5000,
  deadPeer: 'enquire',
  enquireIntervalMs: 1000,
  enquireTimeoutMs: 2000,
  unbindLingerMs: 0,
  unbindWaitMs: 5000,
  strictRequests: false,
  label: 'test link',
};

/** The hooks, recording what the link hands its owner. */
class Owner implements LinkHooks {
  requests: Pdu[] = [];
  bindResponses: Pdu[] = [];
  refusals: RefusedPdu[] = [];
  decodeErrors: SmppDecodeError[] = [];
  readies = 0;
  unbinds = 0;
  throttles: number[] = [];
  failedAnswers: unknown[] = [];
  reasons: CloseReason[] = [];
  /** Answers the next requests with these (undefined: leave unanswered). */
  answer: ((link: SmppLink, pdu: Pdu) => void) | undefined;
  request(link: SmppLink, pdu: Pdu): void {
    this.requests.push(pdu);
    this.answer?.(link, pdu);
  }
  bindResponse(_l: SmppLink, pdu: Pdu): void {
    this.bindResponses.push(pdu);
  }
  refused(_l: SmppLink, r: RefusedPdu): void {
    this.refusals.push(r);
  }
  decodeError(_l: SmppLink, err: SmppDecodeError): void {
    this.decodeErrors.push(err);
  }
  ready(): void {
    this.readies++;
  }
  unbound(): void {
    this.unbinds++;
  }
  answerFailed(_l: SmppLink, _p: Pdu, err: unknown): void {
    this.failedAnswers.push(err);
  }
  throttled(_l: SmppLink, pauseMs: number): void {
    this.throttles.push(pauseMs);
  }
  closed(_l: SmppLink, reason: CloseReason): void {
    this.reasons.push(reason);
  }
}

let server: Server | null = null;

async function pair(
  opts: Partial<LinkOptions> = {},
  owner = new Owner(),
): Promise<{ link: SmppLink; peer: RawPeer; owner: Owner }> {
  const accepted = new Promise<Socket>((resolve) => {
    server = createServer({ allowHalfOpen: false }, resolve);
  });
  const srv = server as unknown as Server;
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => undefined);
  const linkSocket = await accepted;
  srv.close();
  const link = new SmppLink(linkSocket, { ...base, ...opts }, owner);
  cleanups.push(() => {
    socket.destroy();
    linkSocket.destroy();
  });
  const peer = rawPeer(socket);
  return { link, peer, owner };
}

const sm: MessageFields = { source_addr: '1555', destination_addr: '2666', short_message: Buffer.from('hi') };

interface Outcome {
  req: LinkRequest;
  result: Promise<Pdu | Error>;
}

function request(fields: MessageFields = sm, command: 'submit_sm' | 'deliver_sm' = 'submit_sm'): Outcome {
  let req!: LinkRequest;
  const result = new Promise<Pdu | Error>((resolve) => {
    req = { command, fields, resolve, reject: resolve, queuedAt: performance.now(), sentAt: 0 };
  });
  return { req, result };
}

function bound(
  link: SmppLink,
  queue = new RequestQueue(createLimiter(undefined), () => undefined),
): RequestQueue {
  link.markBound(queue);
  return queue;
}

/** Answers a request PDU from the peer side with `status`. */
function ack(peer: RawPeer, pdu: PDU, status = 0): void {
  peer.socket.write(
    pdu.response(status === 0 ? { message_id: 'x1' } : { command_status: status }).toBuffer(),
  );
}

describe('SmppLink: the window', () => {
  it('has no room once `window` requests are out, and room again when a response frees a slot', async () => {
    const { link, peer, owner } = await pair({ window: 3 });
    bound(link);
    const outs = Array.from({ length: 3 }, () => request());
    for (const o of outs) {
      expect(link.hasRoom).toBe(true);
      link.send(o.req);
    }
    expect(link.hasRoom).toBe(false);
    expect(link.inFlight).toBe(3);
    await waitFor(() => peer.of('submit_sm').length === 3, 10_000, 'three submits at the peer');
    // Sequence numbers are the link's, one each, in order.
    expect(peer.of('submit_sm').map((p) => p.sequence_number)).toEqual([1, 2, 3]);
    ack(peer, peer.of('submit_sm')[1] as PDU);
    const second = (await outs[1]?.result) as PDU;
    expect(second.command).toBe('submit_sm_resp');
    expect(second.message_id).toBe('x1');
    expect(link.inFlight).toBe(2);
    expect(link.hasRoom).toBe(true);
    expect(owner.readies).toBe(1);
  });

  it('fails a request its fields cannot be encoded for with SmppEncodeError, and nothing goes out', async () => {
    const { link, peer } = await pair();
    bound(link);
    const bad = request({
      ...sm,
      destination_addr: 42 as unknown as string,
      data_coding: 'x' as unknown as number,
    });
    link.send(bad.req);
    const err = await bad.result;
    expect(err).toBeInstanceOf(SmppEncodeError);
    expect(link.inFlight).toBe(0);
    const good = request();
    link.send(good.req);
    await waitFor(() => peer.of('submit_sm').length === 1, 10_000, 'the good submit');
  });

  it('rejects a non-zero response with SmppStatusError, and ESME_RTHROTTLED pauses the pacer', async () => {
    const { link, peer, owner } = await pair();
    const queue = bound(
      link,
      new RequestQueue(createLimiter(undefined, { throttlePauseMs: 400 }), () => undefined),
    );
    const o = request();
    link.send(o.req);
    await waitFor(() => peer.of('submit_sm').length === 1, 10_000, 'submit');
    ack(peer, peer.of('submit_sm')[0] as PDU, 0x58);
    const err = (await o.result) as SmppStatusError;
    expect(err).toBeInstanceOf(SmppStatusError);
    expect(err.statusName).toBe('ESME_RTHROTTLED');
    expect(owner.throttles).toEqual([400]);
    expect(queue.limiter.take()).toBeGreaterThan(0); // paused
  });

  it("stops taking requests while the socket's buffer is full, and takes them again after 'drain'", async () => {
    const { link, peer, owner } = await pair({ window: 100_000 });
    bound(link);
    peer.socket.pause(); // the peer stops reading
    const big = { ...sm, short_message: Buffer.alloc(0), message_payload: Buffer.alloc(60_000, 0x61) };
    let sent = 0;
    while (link.hasRoom && sent < 2000) {
      link.send(request(big).req);
      sent++;
    }
    expect(link.hasRoom).toBe(false);
    expect(sent).toBeLessThan(2000);
    expect(owner.readies).toBe(0);
    peer.socket.resume();
    await waitFor(() => owner.readies > 0, 20_000, "'drain'");
    expect(link.hasRoom).toBe(true);
  });
});

describe('SmppLink: timeouts and dead peers', () => {
  it("'enquire' policy: a request without a response fails alone with SmppTimeoutError; the link stays", async () => {
    const { link, owner } = await pair({ deadPeer: 'enquire', responseTimeoutMs: 500 });
    bound(link);
    const o = request();
    link.send(o.req);
    link.tick(performance.now() + 600);
    const err = (await o.result) as SmppTimeoutError;
    expect(err).toBeInstanceOf(SmppTimeoutError);
    expect(err.command).toBe('submit_sm');
    expect(link.state).toBe('bound');
    expect(owner.readies).toBe(1);
  });

  it("'any' policy: the oldest fails with SmppTimeoutError, the rest with SmppClosedError, and the link closes", async () => {
    const { link, owner } = await pair({ deadPeer: 'any', responseTimeoutMs: 500 });
    bound(link);
    const first = request();
    const second = request();
    link.send(first.req);
    link.send(second.req);
    link.tick(performance.now() + 600);
    expect(await first.result).toBeInstanceOf(SmppTimeoutError);
    const rest = (await second.result) as SmppClosedError;
    expect(rest).toBeInstanceOf(SmppClosedError);
    expect(rest.message).toBe('test link closed (partner did not answer within 500 ms) before a response');
    await link.closed;
    expect(owner.reasons).toEqual([{ kind: 'peer-timeout', ms: 500 }]);
  });

  it('sends enquire_link on its interval and declares the peer dead when it goes unanswered', async () => {
    const { link, peer, owner } = await pair({ enquireIntervalMs: 1000, enquireTimeoutMs: 2000 });
    bound(link);
    const t0 = performance.now();
    link.tick(t0 + 500);
    link.tick(t0 + 1100);
    await waitFor(() => peer.of('enquire_link').length === 1, 10_000, 'enquire_link');
    link.tick(t0 + 1500); // one outstanding at a time
    link.tick(t0 + 3000); // not yet 2000 ms unanswered
    expect(link.state).toBe('bound');
    link.tick(t0 + 3200);
    await link.closed;
    expect(peer.of('enquire_link')).toHaveLength(1);
    expect(owner.reasons).toEqual([{ kind: 'enquire-timeout', ms: 2000 }]);
    expect(owner.unbinds).toBe(1);
  });

  it('keeps a peer that answers enquire_link', async () => {
    const { link, peer } = await pair({ enquireIntervalMs: 1000, enquireTimeoutMs: 2000 });
    bound(link);
    const t0 = performance.now();
    link.tick(t0 + 1100);
    await waitFor(() => peer.of('enquire_link').length === 1, 10_000, 'enquire_link');
    ack(peer, peer.of('enquire_link')[0] as PDU);
    await new Promise((r) => setTimeout(r, 50));
    link.tick(t0 + 5000); // answered: a new one goes out instead of a close
    await waitFor(() => peer.of('enquire_link').length === 2, 10_000, 'second enquire_link');
    expect(link.state).toBe('bound');
  });

  it('closes a link that does not bind within bindTimeoutMs', async () => {
    const { link, owner } = await pair({ bindTimeoutMs: 300 });
    link.tick(performance.now() + 100);
    expect(link.state).toBe('open');
    link.tick(performance.now() + 400);
    expect(await link.closed).toEqual({ kind: 'bind-timeout', ms: 300 });
    expect(owner.reasons).toHaveLength(1);
  });
});

describe('SmppLink: unbind', () => {
  it('ours: sends unbind, closes on unbind_resp, and fails what was still in flight', async () => {
    const { link, peer, owner } = await pair();
    bound(link);
    const o = request();
    link.send(o.req);
    link.unbind({ kind: 'local', cause: 'stopped' });
    expect(link.state).toBe('closing');
    expect(link.hasRoom).toBe(false);
    await waitFor(() => peer.of('unbind').length === 1, 10_000, 'unbind');
    ack(peer, peer.of('unbind')[0] as PDU);
    expect(await link.closed).toEqual({ kind: 'local', cause: 'stopped' });
    expect(await o.result).toBeInstanceOf(SmppClosedError);
    expect(owner.unbinds).toBe(1);
  });

  it('ours: closes after unbindWaitMs when the peer never answers', async () => {
    const { link, peer } = await pair({ unbindWaitMs: 100 });
    bound(link);
    link.unbind({ kind: 'local', cause: 'listener closing' });
    expect(await link.closed).toEqual({ kind: 'local', cause: 'listener closing' });
    expect(peer.of('unbind')).toHaveLength(1);
    expect(peer.of('unbind_resp')).toHaveLength(0);
  });

  it("the peer's: answered unbind_resp; with a linger the peer may close first, requests meanwhile get ESME_RINVBNDSTS", async () => {
    const { link, peer, owner } = await pair({ unbindLingerMs: 60_000 });
    bound(link);
    peer.send('unbind', 7);
    await waitFor(() => peer.of('unbind_resp').length === 1, 10_000, 'unbind_resp');
    expect(peer.of('unbind_resp')[0]).toMatchObject({ sequence_number: 7, command_status: 0 });
    expect(owner.unbinds).toBe(1);
    peer.send('enquire_link', 8);
    await waitFor(() => peer.of('enquire_link_resp').length === 1, 10_000, 'enquire_link_resp');
    expect(peer.of('enquire_link_resp')[0]?.command_status).toBe(0x04);
    expect(peer.ended()).toBe(false);
    peer.socket.end();
    expect(await link.closed).toEqual({ kind: 'unbind-by-peer' });
  });

  it("the peer's: without a linger the link half-closes right after unbind_resp", async () => {
    const { link, peer } = await pair({ unbindLingerMs: 0 });
    bound(link);
    peer.send('unbind', 3);
    await peer.closed;
    expect(peer.ended()).toBe(true);
    expect(peer.of('unbind_resp')).toHaveLength(1);
    expect(await link.closed).toEqual({ kind: 'unbind-by-peer' });
  });
});

describe('SmppLink: requests from the peer', () => {
  it('answers enquire_link when bound, ESME_RINVBNDSTS before, and hands binds and other requests to the owner', async () => {
    const { link, peer, owner } = await pair();
    peer.send('enquire_link', 1);
    peer.send('submit_sm', 2, sm);
    peer.send('bind_transceiver', 3, { system_id: 'a', password: 'b' });
    await waitFor(() => owner.requests.length === 1 && peer.pdus.length === 2, 10_000, 'answers');
    expect(peer.pdus.map((p) => [p.command, p.command_status])).toEqual([
      ['enquire_link_resp', 4],
      ['submit_sm_resp', 4],
    ]);
    expect(owner.requests[0]?.command).toBe('bind_transceiver');
    bound(link);
    peer.send('enquire_link', 4);
    peer.send('submit_sm', 5, sm);
    await waitFor(() => owner.requests.length === 2 && peer.pdus.length === 3, 10_000, 'bound answers');
    expect(peer.pdus[2]).toMatchObject({
      command: 'enquire_link_resp',
      command_status: 0,
      sequence_number: 4,
    });
    expect(owner.requests[1]?.command).toBe('submit_sm');
  });

  it('answers a malformed request with its error and carries on', async () => {
    const { link, peer, owner } = await pair();
    bound(link);
    // submit_sm whose mandatory body stops short
    const bytes = Buffer.from([0, 0, 0, 20, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 9, 0, 1, 1, 0x31]);
    peer.socket.write(bytes);
    await waitFor(() => owner.refusals.length === 1, 10_000, 'refusal');
    await waitFor(() => peer.of('submit_sm_resp').length === 1, 10_000, 'refusal response');
    expect(peer.of('submit_sm_resp')[0]?.sequence_number).toBe(9);
    expect(peer.of('submit_sm_resp')[0]?.command_status).not.toBe(0);
    expect(link.state).toBe('bound');
  });

  it('answers later with what the owner resolves to, and with failStatus when it fails', async () => {
    const owner = new Owner();
    let n = 0;
    owner.answer = (link, pdu) =>
      link.answerLater(
        pdu,
        n++ === 0 ? Promise.resolve({ message_id: 'ok1' }) : Promise.reject(new Error('core down')),
        0x08,
      );
    const { link, peer } = await pair({}, owner);
    bound(link);
    peer.send('submit_sm', 1, sm);
    peer.send('submit_sm', 2, sm);
    await waitFor(() => peer.of('submit_sm_resp').length === 2, 10_000, 'two answers');
    const [a, b] = peer.of('submit_sm_resp');
    expect(a).toMatchObject({ sequence_number: 1, command_status: 0, message_id: 'ok1' });
    expect(b).toMatchObject({ sequence_number: 2, command_status: 0x08 });
    expect(owner.failedAnswers).toHaveLength(1);
  });
});

describe('SmppLink: close reasons', () => {
  it('peer-closed: the peer closes without a word', async () => {
    const { link, peer, owner } = await pair();
    bound(link);
    peer.socket.end();
    expect(await link.closed).toEqual({ kind: 'peer-closed' });
    expect(owner.reasons).toEqual([{ kind: 'peer-closed' }]);
    expect(owner.unbinds).toBe(1);
  });

  it('socket-error: the peer resets the connection', async () => {
    const { link, peer } = await pair();
    bound(link);
    peer.socket.resetAndDestroy();
    const reason = await link.closed;
    expect(reason.kind).toBe('socket-error');
    expect(describeClose(reason)).toMatch(/^socket error: .*ECONNRESET/);
  });

  it('decode-error: a command_length that loses the framing; the nack goes out, answers owed go out first', async () => {
    const owner = new Owner();
    let release: ((o: Answer) => void) | undefined;
    owner.answer = (l, pdu) => l.answerLater(pdu, new Promise<Answer>((r) => (release = r)), 0x08);
    const { link, peer } = await pair({}, owner);
    bound(link);
    peer.send('submit_sm', 1, sm);
    await waitFor(() => owner.requests.length === 1, 10_000, 'submit at the owner');
    peer.socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 2]));
    await waitFor(() => owner.decodeErrors.length === 1, 10_000, 'decode error');
    await waitFor(() => peer.of('generic_nack').length === 1, 10_000, 'generic_nack');
    expect(link.state).toBe('closing');
    expect(peer.ended()).toBe(false); // the submit is still owed its answer
    release?.({ message_id: 'late' });
    await peer.closed;
    expect(peer.of('submit_sm_resp')[0]).toMatchObject({ sequence_number: 1, message_id: 'late' });
    const reason = await link.closed;
    expect(reason.kind).toBe('decode-error');
    expect(describeClose(reason)).toMatch(/^decode error: PDU command_length/);
  });

  it('bind-rejected and bind-failed: closeAfter lingers for the peer to read, destroy closes at once', async () => {
    const a = await pair();
    a.link.closeAfter(60_000, { kind: 'bind-rejected', reason: 'wrong password' });
    expect(a.link.state).toBe('closing');
    await new Promise((r) => setTimeout(r, 50));
    expect(a.peer.ended()).toBe(false);
    a.peer.socket.end();
    expect(await a.link.closed).toEqual({ kind: 'bind-rejected', reason: 'wrong password' });

    const b = await pair();
    b.link.destroy({ kind: 'bind-failed', message: 'bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)' });
    expect(await b.link.closed).toEqual({
      kind: 'bind-failed',
      message: 'bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)',
    });
    await b.peer.closed;
  });

  it('the first reason wins', async () => {
    const { link, peer } = await pair();
    bound(link);
    link.unbind({ kind: 'local', cause: 'bind removed' });
    link.destroy({ kind: 'local', cause: 'listener closing' });
    expect(await link.closed).toEqual({ kind: 'local', cause: 'bind removed' });
    await peer.closed;
  });

  it('describes every kind for logs and events', () => {
    const all: [CloseReason, string][] = [
      [{ kind: 'peer-closed' }, 'closed by peer'],
      [{ kind: 'socket-error', message: 'read ECONNRESET' }, 'socket error: read ECONNRESET'],
      [{ kind: 'unbind-by-peer' }, 'unbind by peer'],
      [{ kind: 'decode-error', message: 'bad' }, 'decode error: bad'],
      [{ kind: 'bind-timeout', ms: 10 }, 'no bind within 10 ms'],
      [{ kind: 'bind-failed', message: 'x' }, 'x'],
      [{ kind: 'bind-rejected', reason: 'wrong password' }, 'bind rejected: wrong password'],
      [{ kind: 'enquire-timeout', ms: 5 }, 'enquire_link not answered within 5 ms'],
      [{ kind: 'peer-timeout', ms: 6 }, 'partner did not answer within 6 ms'],
      [{ kind: 'local', cause: 'maxSessions lowered' }, 'maxSessions lowered'],
    ];
    for (const [r, text] of all) expect(describeClose(r)).toBe(text);
  });
});

describe('SmppLink: binding (client side)', () => {
  it('sends the bind with the first sequence number and hands its response to the owner', async () => {
    const { link, peer, owner } = await pair();
    link.bind('bind_transceiver', { system_id: 'esme', password: 'pw', interface_version: 0x34 });
    await waitFor(() => peer.of('bind_transceiver').length === 1, 10_000, 'bind');
    const b = peer.of('bind_transceiver')[0] as PDU;
    expect(b).toMatchObject({ sequence_number: 1, system_id: 'esme', password: 'pw' });
    ack(peer, b, 0x0e);
    await waitFor(() => owner.bindResponses.length === 1, 10_000, 'bind response');
    expect(owner.bindResponses[0]).toMatchObject({ command: 'bind_transceiver_resp', command_status: 0x0e });
    expect(link.state).toBe('open');
  });
});
