import { EventEmitter } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import smpp from 'smpp';
import type { PDU, PduOptions, Server } from 'smpp';
import type { Logger } from '../log.js';
import { BindSlowdown, passwordTag, safeEqual, type SlowdownOptions } from './auth.js';
import { CidrAllowlist, normalizeAddress } from './cidr.js';
import type { InboundResult } from './client-session.js';
import {
  SmppClosedError,
  SmppEncodeError,
  SmppUnsentError,
  SmppStatusError,
  SmppTimeoutError,
  Status,
  statusName,
  type BindType,
  type SmppDecodeError,
} from './errors.js';
import { PduReader, type RefusedPdu } from './pdu-reader.js';
import { genericNack } from './pdu/check.js';
import { createLimiter, type Limiter } from './rate-limiter.js';

const { PDU: PduClass } = smpp;

export interface ServerBindEntry {
  key: string;
  namespace: string;
  name: string;
  smscName: string;
  systemId: string;
  password: string;
  allowedBindTypes: BindType[];
  ipAllowlist: string[]; // [] = any
  tpsLimit: number; // deliver_sm we send to the partner, per any 1-second window; <= 0 = unlimited
  inboundTpsLimit: number; // partner submit_sm above this per second get ESME_RTHROTTLED; <= 0 = unlimited
  maxSessions: number;
  suspend: boolean;
}

export interface ListenerOptions {
  host: string;
  port: number;
  maxConnections: number;
  tls?: { key: string | Buffer; cert: string | Buffer };
  bindTimeoutMs?: number; // default 10000
  peerResponseTimeoutMs?: number; // default 60000
  enquireLinkIntervalMs?: number; // default 30000
  window?: number; // outstanding deliver_sm per session, default 10
  /** system_id we answer binds with; default "smpp-operator". */
  systemId?: string;
  /** Failed-bind slow-down per source address. */
  slowdown?: SlowdownOptions;
  /** A deliver() that finds no free session slot waits at most this long; default peerResponseTimeoutMs. */
  deliverQueueTimeoutMs?: number;
  /**
   * After a negative bind response, how long the socket stays open for the partner to read it
   * and close first; default 500. Some clients (jSMPP) lose the response if the close comes first.
   */
  bindRejectLingerMs?: number;
  /** After unbind_resp to a partner's unbind, how long we wait for it to close first; default 1000. */
  unbindLingerMs?: number;
}

/** A request refused before any handler saw it (see pdu/check.ts), for metrics. */
export interface PduRefusal {
  command: string;
  status: number;
  reason: string;
  peerAddress: string;
  /** The bind the session is bound to, when it is. */
  key: string | undefined;
}

/** outbind or alert_notification from a partner: not an ESME's to send; answered or ignored per SMPP, counted. */
export interface UnexpectedPdu {
  command: 'outbind' | 'alert_notification';
  peerAddress: string;
  key: string | undefined;
}

export interface ServerSessionInfo {
  key: string;
  id: string;
  peerAddress: string;
  peerPort: number;
  bindType: BindType;
  since: Date;
}

export type PartnerSubmitHandler = (
  bind: ServerBindEntry,
  pdu: PDU,
  session: ServerSessionInfo,
) => Promise<InboundResult>;

/** Answers a partner's query_sm: a status, and on success the query_sm_resp fields. */
export type PartnerQueryHandler = (
  bind: ServerBindEntry,
  pdu: PDU,
  session: ServerSessionInfo,
) => Promise<{ status: number; fields?: PduOptions }>;

/** Why a partner's bind was refused, as a metric label. */
export type BindRejectionCode =
  | 'unknown_system_id'
  | 'wrong_password'
  | 'address_not_allowed'
  | 'suspended'
  | 'bind_type_not_allowed'
  | 'max_sessions'
  | 'malformed_bind';

export interface BindRejection {
  systemId: string;
  peerAddress: string;
  /** For people: names the limit or bind type. */
  reason: string;
  code: BindRejectionCode;
  status: number;
}

interface Outgoing {
  command: string;
  resolve: (pdu: PDU) => void;
  reject: (err: Error) => void;
  sentAt: number;
}

interface Delivery {
  fields: PduOptions;
  resolve: (pdu: PDU) => void;
  reject: (err: Error) => void;
  queuedAt: number;
}

/** Live state of one server bind: its entry, its sessions, its limiters and its deliver queue. */
class BindState {
  entry: ServerBindEntry;
  tag: string;
  allow: CidrAllowlist;
  readonly conns: Conn[] = [];
  rr = 0;
  out: Limiter;
  inbound: Limiter | null;
  queue: Delivery[] = [];
  pumpTimer: NodeJS.Timeout | null = null;

  constructor(entry: ServerBindEntry, log: Logger) {
    this.entry = entry;
    this.tag = passwordTag(entry.password);
    this.allow = allowlistFor(entry, log);
    this.out = createLimiter(entry.tpsLimit >= 1 ? Math.min(Math.floor(entry.tpsLimit), 10_000) : undefined);
    this.inbound = entry.inboundTpsLimit >= 1 ? inboundLimiter(entry.inboundTpsLimit) : null;
  }

  update(entry: ServerBindEntry, log: Logger): void {
    const old = this.entry;
    this.entry = entry;
    this.tag = passwordTag(entry.password);
    this.allow = allowlistFor(entry, log);
    if (old.tpsLimit !== entry.tpsLimit) {
      this.out = createLimiter(
        entry.tpsLimit >= 1 ? Math.min(Math.floor(entry.tpsLimit), 10_000) : undefined,
      );
    }
    if (old.inboundTpsLimit !== entry.inboundTpsLimit) {
      this.inbound = entry.inboundTpsLimit >= 1 ? inboundLimiter(entry.inboundTpsLimit) : null;
    }
  }
}

function inboundLimiter(rate: number): Limiter {
  const r = Math.min(Math.floor(rate), 10_000);
  return createLimiter(r, { burst: r });
}

function allowlistFor(entry: ServerBindEntry, log: Logger): CidrAllowlist {
  try {
    return new CidrAllowlist(entry.ipAllowlist);
  } catch (err) {
    // Fail closed: a typo in the allowlist must not open the bind to everyone.
    log.error(
      { namespace: entry.namespace, bind: entry.name, err },
      'invalid ipAllowlist; refusing all binds for this entry',
    );
    return new CidrAllowlist(['::/128']);
  }
}

type ConnState = 'open' | 'binding' | 'bound' | 'closing';

/** One accepted socket, from connect through bind to close. */
class Conn {
  readonly id: string;
  readonly socket: Socket;
  readonly session: InstanceType<typeof smpp.Session>;
  readonly peerAddress: string;
  readonly peerPort: number;
  readonly openedAt = performance.now();
  reader: PduReader | null = null;
  state: ConnState = 'open';
  bind: BindState | null = null;
  bindType: BindType | null = null;
  tag = '';
  systemId = '';
  info: ServerSessionInfo | null = null;
  seq = 0;
  readonly pending = new Map<number, Outgoing>();
  enquireSeq = -1;
  enquireSentAt = 0;
  lastEnquire = 0;
  unbindSeq = -1;
  needDrain = false;
  /** Partner requests handed to a handler and not answered yet. */
  answering = 0;
  /** Close once `answering` reaches 0 (the stream broke; answers already owed still go out). */
  endWhenAnswered = false;
  closeTimer: NodeJS.Timeout | null = null;
  closeReason: string | null = null;
  closed = false;
  readonly onDrain: () => void;

  constructor(id: string, session: InstanceType<typeof smpp.Session>, onDrain: (c: Conn) => void) {
    this.id = id;
    this.session = session;
    this.socket = session.socket;
    this.peerAddress = normalizeAddress(this.socket.remoteAddress ?? '');
    this.peerPort = this.socket.remotePort ?? 0;
    this.onDrain = () => {
      this.needDrain = false;
      onDrain(this);
    };
  }

  nextSeq(): number {
    this.seq = this.seq >= 0x7fffffff ? 1 : this.seq + 1;
    return this.seq;
  }

  write(buf: Buffer): void {
    const socket = this.socket;
    if (this.closed || !socket.writable) return;
    if (!socket.write(buf) && !this.needDrain) {
      this.needDrain = true;
      socket.once('drain', this.onDrain);
    }
  }

  get receives(): boolean {
    return this.bindType === 'receiver' || this.bindType === 'transceiver';
  }
}

/**
 * The SMPP server partners bind to. Authenticates against a live table of binds, enforces the
 * per-bind limits, hands partner submit_sm to the gateway and sends deliver_sm back.
 *
 * Events: 'sessionBound' (info), 'sessionClosed' (info, reason), 'bindRejected' (BindRejection),
 * 'decodeError' (err), and for metrics 'submitThrottled' (info) when a partner submit_sm is
 * answered ESME_RTHROTTLED, 'connectionRefused' ({ peerAddress, reason }) at maxConnections,
 * 'pduRefused' (PduRefusal) for a request answered with an error before any handler saw it, and
 * 'unexpectedPdu' (UnexpectedPdu) for outbind / alert_notification.
 */
export class SmppListener extends EventEmitter {
  private readonly opts: ListenerOptions;
  private readonly log: Logger;
  private readonly bindTimeoutMs: number;
  private readonly peerTimeoutMs: number;
  private readonly enquireMs: number;
  private readonly window: number;
  private readonly queueTimeoutMs: number;
  private readonly bindRejectLingerMs: number;
  private readonly unbindLingerMs: number;
  private readonly slowdown: BindSlowdown;
  private server: Server | null = null;
  private readonly conns = new Set<Conn>();
  private binds = new Map<string, BindState>();
  private bySystemId = new Map<string, BindState[]>();
  private handler: PartnerSubmitHandler | null = null;
  private queryHandler: PartnerQueryHandler | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private nextConnId = 1;
  private closing: Promise<void> | null = null;

  constructor(opts: ListenerOptions, log: Logger) {
    super();
    this.opts = opts;
    this.log = log;
    this.bindTimeoutMs = opts.bindTimeoutMs ?? 10_000;
    this.peerTimeoutMs = opts.peerResponseTimeoutMs ?? 60_000;
    this.enquireMs = opts.enquireLinkIntervalMs ?? 30_000;
    this.window = opts.window ?? 10;
    this.queueTimeoutMs = opts.deliverQueueTimeoutMs ?? this.peerTimeoutMs;
    this.bindRejectLingerMs = opts.bindRejectLingerMs ?? 500;
    this.unbindLingerMs = opts.unbindLingerMs ?? 1000;
    this.slowdown = new BindSlowdown(opts.slowdown);
    if (!Number.isInteger(opts.maxConnections) || opts.maxConnections < 1) {
      throw new RangeError(
        `SmppListener: maxConnections must be a positive integer, got ${opts.maxConnections}`,
      );
    }
  }

  listen(): Promise<{ port: number }> {
    const onSession = (session: InstanceType<typeof smpp.Session>): void => this.accept(session);
    const server = this.opts.tls
      ? // A TLS peer that never finishes its handshake must not hold a connection slot for long.
        smpp.createServer(
          { key: this.opts.tls.key, cert: this.opts.tls.cert, handshakeTimeout: this.bindTimeoutMs },
          onSession,
        )
      : smpp.createServer(onSession);
    server.maxConnections = this.opts.maxConnections;
    server.on('drop', (d: unknown) => {
      const info = d as { remoteAddress?: string } | undefined;
      this.log.warn(
        { peerAddress: info?.remoteAddress, max: this.opts.maxConnections },
        'SMPP connection refused: maxConnections reached',
      );
      this.emit('connectionRefused', {
        peerAddress: normalizeAddress(info?.remoteAddress ?? ''),
        reason: 'maxConnections',
      });
    });
    server.on('tlsClientError', (err: unknown) => {
      this.log.debug({ err }, 'TLS handshake with a partner failed');
    });
    server.on('error', (err: unknown) => this.log.error({ err }, 'SMPP listener error'));
    this.server = server;
    const interval = Math.max(
      10,
      Math.min(250, Math.min(this.bindTimeoutMs, this.peerTimeoutMs, this.enquireMs) / 5),
    );
    this.sweepTimer = setInterval(() => this.sweep(), interval);
    this.sweepTimer.unref();
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', onError);
        const port = (server.address() as AddressInfo).port;
        this.log.info({ host: this.opts.host, port, tls: !!this.opts.tls }, 'SMPP listener up');
        resolve({ port });
      });
    });
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const server = this.server;
    const serverClosed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    const all = [...this.conns].map((c) => this.connClosed(c));
    for (const c of this.conns) {
      if (c.state === 'bound') this.unbindAndClose(c, 'listener closing');
      else this.destroy(c, 'listener closing');
    }
    await Promise.all(all);
    for (const bs of this.binds.values()) this.failQueue(bs, new SmppUnsentError('listener closed'));
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    await serverClosed;
  }

  setBinds(entries: ServerBindEntry[]): void {
    const next = new Map<string, BindState>();
    for (const e of entries) {
      const existing = this.binds.get(e.key);
      if (existing) {
        existing.update(e, this.log);
        next.set(e.key, existing);
      } else {
        next.set(e.key, new BindState(e, this.log));
      }
    }
    for (const [key, bs] of this.binds) {
      if (!next.has(key)) {
        for (const c of [...bs.conns]) this.unbindAndClose(c, 'bind removed');
        this.failQueue(bs, new SmppUnsentError('bind removed'));
      }
    }
    for (const bs of next.values()) this.enforce(bs);
    this.binds = next;
    const bySys = new Map<string, BindState[]>();
    for (const bs of next.values()) {
      const list = bySys.get(bs.entry.systemId);
      if (list) list.push(bs);
      else bySys.set(bs.entry.systemId, [bs]);
    }
    this.bySystemId = bySys;
  }

  /** Drops live sessions the (changed) entry no longer admits. */
  private enforce(bs: BindState): void {
    const e = bs.entry;
    let allowedLeft = e.maxSessions;
    for (const c of [...bs.conns]) {
      let reason: string | null = null;
      if (e.suspend) reason = 'bind suspended';
      else if (c.tag !== bs.tag) reason = 'password changed';
      else if (c.systemId !== e.systemId) reason = 'system_id changed';
      else if (c.info && !e.allowedBindTypes.includes(c.info.bindType))
        reason = 'bind type no longer allowed';
      else if (!bs.allow.allows(c.peerAddress)) reason = 'address no longer allowed';
      else if (allowedLeft <= 0) reason = 'maxSessions lowered';
      if (reason) this.unbindAndClose(c, reason);
      else allowedLeft--;
    }
  }

  setSubmitHandler(h: PartnerSubmitHandler): void {
    this.handler = h;
  }

  setQueryHandler(h: PartnerQueryHandler): void {
    this.queryHandler = h;
  }

  sessions(key?: string): ServerSessionInfo[] {
    const out: ServerSessionInfo[] = [];
    if (key !== undefined) {
      for (const c of this.binds.get(key)?.conns ?? []) if (c.info) out.push(c.info);
      return out;
    }
    for (const bs of this.binds.values()) for (const c of bs.conns) if (c.info) out.push(c.info);
    return out;
  }

  /** Live counters of one bind, e.g. for an in-flight gauge: bound sessions, deliver_sm awaiting a response, deliver_sm waiting to be sent. */
  stats(key: string): { sessions: number; inFlight: number; queued: number; bufferedBytes: number } {
    const bs = this.binds.get(key);
    if (!bs) return { sessions: 0, inFlight: 0, queued: 0, bufferedBytes: 0 };
    let inFlight = 0;
    let bufferedBytes = 0;
    for (const c of bs.conns) {
      inFlight += c.pending.size;
      bufferedBytes += c.socket.writableLength;
    }
    return { sessions: bs.conns.length, inFlight, queued: bs.queue.length, bufferedBytes };
  }

  deliver(key: string, fields: PduOptions): Promise<PDU> {
    const bs = this.binds.get(key);
    if (!bs || !bs.conns.some((c) => c.receives && c.state === 'bound')) {
      return Promise.reject(new SmppUnsentError(`no receiver or transceiver session bound for ${key}`));
    }
    return new Promise<PDU>((resolve, reject) => {
      bs.queue.push({ fields, resolve, reject, queuedAt: performance.now() });
      this.pumpBind(bs);
    });
  }

  // ---- connections --------------------------------------------------------------------------

  private accept(session: InstanceType<typeof smpp.Session>): void {
    const conn = new Conn(String(this.nextConnId++), session, (c) => {
      if (c.bind) this.pumpBind(c.bind);
    });
    if (this.closing) {
      session.destroy();
      return;
    }
    this.conns.add(conn);
    const socket = conn.socket;
    // Replace the library's reader (see PduReader): a bad PDU must drop the connection, not stall it.
    socket.removeAllListeners('readable');
    const reader = new PduReader(
      {
        onPdu: (pdu) => this.onPdu(conn, pdu),
        onRefused: (r) => this.onRefused(conn, r),
        onDecodeError: (err, nack) => this.onDecodeError(conn, err, nack),
      },
      { addresses: true },
    );
    conn.reader = reader;
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.setNoDelay(true);
    session.on('error', (err: Error) => {
      conn.closeReason ??= `socket error: ${err.message}`;
    });
    session.on('close', () => this.onClose(conn));
    this.log.debug(
      { peerAddress: conn.peerAddress, peerPort: conn.peerPort, conn: conn.id },
      'SMPP connection accepted',
    );
  }

  private connClosed(c: Conn): Promise<void> {
    if (c.closed) return Promise.resolve();
    return new Promise((r) => c.socket.once('close', () => r()));
  }

  private destroy(c: Conn, reason: string): void {
    c.closeReason ??= reason;
    c.reader?.stop();
    c.socket.destroy();
  }

  /**
   * Leaves the socket open for `ms` so the partner can read what we wrote and close first, then
   * ends it. Closing at once loses the last response in some clients (jSMPP).
   */
  private closeAfter(c: Conn, ms: number, reason: string): void {
    c.closeReason ??= reason;
    if (c.closed || c.closeTimer) return;
    c.closeTimer = setTimeout(() => this.end(c), ms);
    c.closeTimer.unref();
  }

  /** Half-closes after what was written, and destroys if the partner does not close in turn. */
  private end(c: Conn): void {
    if (c.closed) return;
    c.socket.end();
    const force = setTimeout(() => c.socket.destroy(), 1000);
    force.unref();
    c.socket.once('close', () => clearTimeout(force));
  }

  /** Polite close: unbind, give the partner a moment to answer, then close. */
  private unbindAndClose(c: Conn, reason: string): void {
    if (c.state === 'closing' || c.closed) return;
    c.closeReason ??= reason;
    if (c.state !== 'bound') {
      this.destroy(c, reason);
      return;
    }
    c.state = 'closing';
    this.detach(c);
    c.unbindSeq = c.nextSeq();
    c.write(new PduClass('unbind', { sequence_number: c.unbindSeq }).toBuffer());
    const t = setTimeout(() => this.destroy(c, reason), 1000);
    t.unref();
    c.socket.once('close', () => clearTimeout(t));
  }

  private onClose(c: Conn): void {
    if (c.closed) return;
    c.closed = true;
    c.reader?.stop();
    if (c.closeTimer) clearTimeout(c.closeTimer);
    c.closeTimer = null;
    this.conns.delete(c);
    const reason = c.closeReason ?? 'closed by peer';
    if (c.pending.size > 0) {
      const err = new SmppClosedError(`partner session closed (${reason}) before a response`);
      const pending = [...c.pending.values()];
      c.pending.clear();
      for (const p of pending) p.reject(err);
    }
    this.detach(c);
    if (c.info) {
      this.log.info(
        { key: c.info.key, peerAddress: c.peerAddress, conn: c.id, reason },
        'partner SMPP session closed',
      );
      this.emit('sessionClosed', c.info, reason);
    }
  }

  /** Takes a connection out of its bind's session list (it can no longer take deliveries). */
  private detach(c: Conn): void {
    const bs = c.bind;
    if (!bs) return;
    const i = bs.conns.indexOf(c);
    if (i >= 0) bs.conns.splice(i, 1);
    if (bs.queue.length > 0) {
      if (!bs.conns.some((x) => x.receives && x.state === 'bound')) {
        this.failQueue(
          bs,
          new SmppUnsentError(`no receiver or transceiver session bound for ${bs.entry.key}`),
        );
      } else {
        this.pumpBind(bs);
      }
    }
  }

  /**
   * The stream lost its framing: nothing after this point can be read. Requests read before it
   * still get their answers, then the connection closes (bounded by peerResponseTimeoutMs).
   */
  private onDecodeError(c: Conn, err: SmppDecodeError, nack: Buffer | null): void {
    this.log.warn(
      { peerAddress: c.peerAddress, conn: c.id, key: c.info?.key, err },
      'SMPP framing error from partner; closing the connection once earlier requests are answered',
    );
    this.emit('decodeError', err);
    if (nack) c.write(nack);
    c.closeReason ??= `decode error: ${err.message}`;
    c.state = 'closing';
    this.detach(c);
    if (c.answering === 0) {
      this.end(c);
      return;
    }
    c.endWhenAnswered = true;
    this.closeAfter(c, this.peerTimeoutMs, c.closeReason);
  }

  /** A framed request that breaks SMPP: answered with its error status, the session carries on. */
  private onRefused(c: Conn, r: RefusedPdu): void {
    if (c.closed) return;
    const key = c.info?.key;
    this.log.info(
      {
        peerAddress: c.peerAddress,
        conn: c.id,
        key,
        command: r.command,
        status: statusName(r.status),
        reason: r.reason,
      },
      'partner PDU refused',
    );
    this.emit('pduRefused', {
      command: r.command,
      status: r.status,
      reason: r.reason,
      peerAddress: c.peerAddress,
      key,
    } satisfies PduRefusal);
    c.write(r.response);
    if (c.state === 'open' && r.command.startsWith('bind_')) {
      // A malformed bind is a failed bind: one attempt per connection, slowed down like the others.
      this.slowdown.failed(c.peerAddress);
      this.emit('bindRejected', {
        systemId: '',
        peerAddress: c.peerAddress,
        reason: r.reason,
        code: 'malformed_bind',
        status: r.status,
      } satisfies BindRejection);
      c.state = 'closing';
      this.closeAfter(c, this.bindRejectLingerMs, `bind rejected: ${r.reason}`);
    }
  }

  private onUnexpected(c: Conn, pdu: PDU): void {
    const command = pdu.command === 'outbind' ? 'outbind' : 'alert_notification';
    // outbind is the SMSC's to send (§4.1.7): refuse it. alert_notification has no response (§4.12): ignore it.
    if (command === 'outbind') c.write(genericNack(pdu.sequence_number, Status.ESME_RINVCMDID));
    this.log.info(
      { peerAddress: c.peerAddress, conn: c.id, key: c.info?.key, command },
      'partner sent a command only an SMSC sends',
    );
    this.emit('unexpectedPdu', {
      command,
      peerAddress: c.peerAddress,
      key: c.info?.key,
    } satisfies UnexpectedPdu);
  }

  // ---- inbound PDUs -------------------------------------------------------------------------

  private onPdu(c: Conn, pdu: PDU): void {
    if (c.closed) return;
    if ((pdu.command_id & 0x80000000) !== 0) {
      this.onResponse(c, pdu);
      return;
    }
    const cmd = pdu.command;
    if (cmd === 'outbind' || cmd === 'alert_notification') {
      this.onUnexpected(c, pdu);
      return;
    }
    if (cmd === 'unknown') {
      c.write(pdu.response({ command_status: Status.ESME_RINVCMDID }).toBuffer());
      return;
    }
    if (cmd === 'bind_transmitter' || cmd === 'bind_receiver' || cmd === 'bind_transceiver') {
      if (c.state === 'open') this.onBind(c, pdu);
      else
        c.write(
          pdu
            .response({ command_status: c.state === 'bound' ? Status.ESME_RALYBND : Status.ESME_RINVBNDSTS })
            .toBuffer(),
        );
      return;
    }
    if (c.state !== 'bound') {
      if (cmd === 'unbind' && c.state === 'closing') {
        c.write(pdu.response().toBuffer());
        this.closeAfter(c, this.unbindLingerMs, c.closeReason ?? 'unbind by peer');
        return;
      }
      c.write(pdu.response({ command_status: Status.ESME_RINVBNDSTS }).toBuffer());
      return;
    }
    switch (cmd) {
      case 'submit_sm':
        this.onSubmit(c, pdu);
        return;
      case 'query_sm':
        this.onQuery(c, pdu);
        return;
      case 'enquire_link':
        c.write(pdu.response().toBuffer());
        return;
      case 'unbind':
        c.write(pdu.response().toBuffer());
        c.state = 'closing';
        this.detach(c);
        // The partner unbound: it closes first (§2.3); we close only if it does not, in a while.
        this.closeAfter(c, this.unbindLingerMs, 'unbind by peer');
        return;
      default:
        // cancel_sm, replace_sm, submit_multi, data_sm, ...: the seeds' providers answer what
        // they do not support with generic_nack ESME_RINVCMDID.
        c.write(
          new PduClass('generic_nack', {
            sequence_number: pdu.sequence_number,
            command_status: Status.ESME_RINVCMDID,
          }).toBuffer(),
        );
    }
  }

  private onResponse(c: Conn, pdu: PDU): void {
    const seq = pdu.sequence_number;
    const out = c.pending.get(seq);
    if (out) {
      c.pending.delete(seq);
      const status = pdu.command_status;
      const bs = c.bind;
      if (status === 0) {
        bs?.out.accepted();
        out.resolve(pdu);
      } else {
        if (status === Status.ESME_RTHROTTLED) bs?.out.throttled();
        out.reject(new SmppStatusError(pdu.command, status));
      }
      if (bs && bs.queue.length > 0) this.pumpBind(bs);
      return;
    }
    if (seq === c.enquireSeq) {
      c.enquireSeq = -1;
    } else if (seq === c.unbindSeq) {
      c.socket.end();
    }
  }

  private onBind(c: Conn, pdu: PDU): void {
    c.state = 'binding';
    const delay = this.slowdown.delayFor(c.peerAddress);
    if (delay > 0) {
      this.log.debug(
        { peerAddress: c.peerAddress, delayMs: delay },
        'slowing down binds from an address with failed attempts',
      );
      setTimeout(() => this.authenticate(c, pdu), delay).unref();
    } else {
      this.authenticate(c, pdu);
    }
  }

  private authenticate(c: Conn, pdu: PDU): void {
    if (c.closed) return;
    const systemId = typeof pdu.system_id === 'string' ? pdu.system_id : '';
    const password = typeof pdu.password === 'string' ? pdu.password : '';
    const bindType = pdu.command.slice('bind_'.length) as BindType;

    const candidates = this.bySystemId.get(systemId) ?? [];
    let bs: BindState | undefined;
    let passwordOk = false;
    // Compare against every candidate so timing does not reveal which one matched.
    for (const cand of candidates) {
      if (safeEqual(password, cand.entry.password) && !bs) {
        bs = cand;
        passwordOk = true;
      }
    }
    let status = 0;
    let reason = '';
    let code: BindRejectionCode = 'unknown_system_id';
    let countsAsFailure = false;
    if (candidates.length === 0) {
      safeEqual(password, password); // same work as a real comparison
      status = Status.ESME_RINVSYSID;
      reason = 'unknown system_id';
      countsAsFailure = true;
    } else if (!passwordOk || !bs) {
      status = Status.ESME_RINVPASWD;
      reason = 'wrong password';
      code = 'wrong_password';
      countsAsFailure = true;
    } else if (!bs.allow.allows(c.peerAddress)) {
      status = Status.ESME_RBINDFAIL;
      reason = 'address not in ipAllowlist';
      code = 'address_not_allowed';
      countsAsFailure = true;
    } else if (bs.entry.suspend) {
      status = Status.ESME_RBINDFAIL;
      reason = 'bind suspended';
      code = 'suspended';
    } else if (!bs.entry.allowedBindTypes.includes(bindType)) {
      status = Status.ESME_RINVBNDSTS;
      reason = `bind type ${bindType} not allowed`;
      code = 'bind_type_not_allowed';
    } else if (bs.conns.length >= bs.entry.maxSessions) {
      // The seeds' providers answer "already bound" when the account's sessions are used up.
      status = Status.ESME_RALYBND;
      reason = `maxSessions (${bs.entry.maxSessions}) reached`;
      code = 'max_sessions';
    }

    if (status !== 0 || !bs) {
      if (countsAsFailure) this.slowdown.failed(c.peerAddress);
      this.log.warn(
        {
          systemId,
          peerAddress: c.peerAddress,
          reason,
          status: statusName(status),
          namespace: bs?.entry.namespace,
          bind: bs?.entry.name,
        },
        'partner bind rejected',
      );
      this.emit('bindRejected', {
        systemId,
        peerAddress: c.peerAddress,
        reason,
        code,
        status,
      } satisfies BindRejection);
      c.write(pdu.response({ command_status: status }).toBuffer());
      // One attempt per connection: a guesser has to reconnect (and meet maxConnections and the
      // slow-down). Anything more on this connection is answered ESME_RINVBNDSTS.
      c.state = 'closing';
      this.closeAfter(c, this.bindRejectLingerMs, `bind rejected: ${reason}`);
      return;
    }

    this.slowdown.succeeded(c.peerAddress);
    c.state = 'bound';
    c.bind = bs;
    c.bindType = bindType;
    c.tag = bs.tag;
    c.systemId = bs.entry.systemId;
    c.lastEnquire = performance.now();
    c.info = {
      key: bs.entry.key,
      id: c.id,
      peerAddress: c.peerAddress,
      peerPort: c.peerPort,
      bindType,
      since: new Date(),
    };
    bs.conns.push(c);
    c.write(pdu.response({ system_id: this.opts.systemId ?? 'smpp-operator' }).toBuffer());
    this.log.info(
      {
        namespace: bs.entry.namespace,
        bind: bs.entry.name,
        peerAddress: c.peerAddress,
        bindType,
        conn: c.id,
      },
      'partner SMPP session bound',
    );
    this.emit('sessionBound', c.info);
  }

  /** The session's bind, when it may send requests (not a receiver); else answers for it. */
  private transmitter(c: Conn, pdu: PDU): { bs: BindState; info: ServerSessionInfo } | null {
    const bs = c.bind;
    const info = c.info;
    if (!bs || !info) return null;
    if (c.bindType === 'receiver') {
      c.write(pdu.response({ command_status: Status.ESME_RINVBNDSTS }).toBuffer());
      return null;
    }
    return { bs, info };
  }

  private onSubmit(c: Conn, pdu: PDU): void {
    const t = this.transmitter(c, pdu);
    if (!t) return;
    const { bs, info } = t;
    if (bs.inbound && bs.inbound.take() > 0) {
      c.write(pdu.response({ command_status: Status.ESME_RTHROTTLED }).toBuffer());
      if (this.listenerCount('submitThrottled') > 0) this.emit('submitThrottled', info);
      return;
    }
    const h = this.handler;
    if (!h) {
      c.write(pdu.response({ command_status: Status.ESME_RSYSERR }).toBuffer());
      return;
    }
    this.answerWith(
      c,
      pdu,
      async () => {
        const res = await h(bs.entry, pdu, info);
        return res.status !== 0 ? { command_status: res.status } : { message_id: res.messageId ?? '' };
      },
      Status.ESME_RSYSERR,
    );
  }

  /** SMPP 3.4 §4.8: the partner asks for the state of a message it submitted. */
  private onQuery(c: Conn, pdu: PDU): void {
    const t = this.transmitter(c, pdu);
    if (!t) return;
    const { bs, info } = t;
    const h = this.queryHandler;
    if (!h) {
      c.write(pdu.response({ command_status: Status.ESME_RINVCMDID }).toBuffer());
      return;
    }
    this.answerWith(
      c,
      pdu,
      async () => {
        const res = await h(bs.entry, pdu, info);
        return res.status !== 0 ? { command_status: res.status } : (res.fields ?? {});
      },
      Status.ESME_RQUERYFAIL,
    );
  }

  /** Answers `pdu` with what `run` resolves to; a handler that fails gets `failStatus`, logged. */
  private answerWith(c: Conn, pdu: PDU, run: () => Promise<PduOptions>, failStatus: number): void {
    c.answering++;
    run().then(
      (opts) => this.answer(c, pdu, opts),
      (err: unknown) => {
        this.log.warn({ key: c.bind?.entry.key, err }, `partner ${pdu.command} handler failed`);
        this.answer(c, pdu, { command_status: failStatus });
      },
    );
  }

  private answer(c: Conn, pdu: PDU, opts: PduOptions): void {
    c.answering--;
    if (c.closed) return;
    c.write(pdu.response(opts).toBuffer());
    if (c.endWhenAnswered && c.answering === 0) this.end(c);
  }

  // ---- outbound deliver_sm --------------------------------------------------------------------

  private pumpBind(bs: BindState): void {
    while (bs.queue.length > 0) {
      const n = bs.conns.length;
      let pick: Conn | null = null;
      for (let i = 0; i < n; i++) {
        const c = bs.conns[(bs.rr + i) % n] as Conn;
        if (c.state === 'bound' && c.receives && !c.needDrain && c.pending.size < this.window) {
          pick = c;
          bs.rr = (bs.rr + i + 1) % n;
          break;
        }
      }
      if (!pick) return; // a response or 'drain' pumps again
      const wait = bs.out.take();
      if (wait > 0) {
        if (!bs.pumpTimer) {
          bs.pumpTimer = setTimeout(() => {
            bs.pumpTimer = null;
            this.pumpBind(bs);
          }, Math.ceil(wait));
        }
        return;
      }
      const d = bs.queue.shift() as Delivery;
      let buf: Buffer;
      const seq = pick.nextSeq();
      try {
        const pdu = new PduClass('deliver_sm', d.fields);
        pdu.sequence_number = seq;
        buf = pdu.toBuffer();
      } catch (err) {
        d.reject(new SmppEncodeError('deliver_sm', err));
        continue;
      }
      pick.pending.set(seq, {
        command: 'deliver_sm',
        resolve: d.resolve,
        reject: d.reject,
        sentAt: performance.now(),
      });
      pick.write(buf);
    }
  }

  private failQueue(bs: BindState, err: Error): void {
    const q = bs.queue;
    bs.queue = [];
    if (bs.pumpTimer) clearTimeout(bs.pumpTimer);
    bs.pumpTimer = null;
    for (const d of q) d.reject(err);
  }

  // ---- timers: one sweep for every deadline ------------------------------------------------

  private sweep(): void {
    const now = performance.now();
    for (const c of this.conns) {
      if (c.closed) continue;
      if ((c.state === 'open' || c.state === 'binding') && now - c.openedAt > this.bindTimeoutMs) {
        this.log.info({ peerAddress: c.peerAddress, conn: c.id }, 'no bind within the bind timeout; closing');
        this.destroy(c, `no bind within ${this.bindTimeoutMs} ms`);
        continue;
      }
      if (c.state !== 'bound') continue;
      // The oldest request (Map order) decides: a partner that leaves any request unanswered is dropped.
      const first = c.pending.values().next();
      const oldestPending = first.done ? Infinity : first.value.sentAt;
      const oldestEnquire = c.enquireSeq !== -1 ? c.enquireSentAt : Infinity;
      if (now - Math.min(oldestPending, oldestEnquire) > this.peerTimeoutMs) {
        this.log.warn(
          { peerAddress: c.peerAddress, conn: c.id, key: c.info?.key },
          'partner did not answer in time; dropping session',
        );
        if (!first.done) {
          const [seq, out] = c.pending.entries().next().value as [number, Outgoing];
          c.pending.delete(seq);
          out.reject(new SmppTimeoutError(out.command, this.peerTimeoutMs));
        }
        // The seeds' providers drop such sessions without an unbind; so do we.
        this.destroy(c, `partner did not answer within ${this.peerTimeoutMs} ms`);
        continue;
      }
      if (c.enquireSeq === -1 && now - c.lastEnquire >= this.enquireMs) {
        c.lastEnquire = now;
        c.enquireSeq = c.nextSeq();
        c.enquireSentAt = now;
        c.write(new PduClass('enquire_link', { sequence_number: c.enquireSeq }).toBuffer());
      }
    }
    for (const bs of this.binds.values()) {
      const q = bs.queue;
      while (q.length > 0 && now - (q[0] as Delivery).queuedAt > this.queueTimeoutMs) {
        (q.shift() as Delivery).reject(new SmppTimeoutError('deliver_sm', this.queueTimeoutMs));
      }
    }
  }
}
