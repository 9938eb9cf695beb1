import { EventEmitter } from 'node:events';
import { isIP, type Socket } from 'node:net';
import smpp from 'smpp';
import type { PDU, PduOptions, SessionOptions } from 'smpp';
import type { Logger } from '../log.js';
import { Backoff } from './backoff.js';
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
import { encodeSubmitSm } from './pdu-writer.js';
import { PduReader, type PduSink, type RefusedPdu } from './pdu-reader.js';
import { createLimiter, type Limiter } from './rate-limiter.js';

const { PDU: PduClass, Session } = smpp;

export interface ClientSessionOptions {
  host: string;
  port: number;
  bindType: BindType;
  systemId: string;
  password: string;
  systemType?: string;
  addressRange?: string;
  interfaceVersion?: number;
  tls?: { enabled: boolean; ca?: string | Buffer; serverName?: string; insecureSkipVerify?: boolean };
  /** undefined = unlimited; otherwise 1-10000 submit_sm per any 1-second window. */
  tpsLimit?: number;
  /** Outstanding requests at most; default 10. */
  window?: number;
  /** default 30000 */
  enquireLinkIntervalMs?: number;
  /** How long an enquire_link may stay unanswered before the peer is declared dead; default responseTimeoutMs. */
  enquireLinkTimeoutMs?: number;
  /** default 10000 */
  responseTimeoutMs?: number;
  /** TCP connect + TLS handshake + bind response; default 10000 */
  bindTimeoutMs?: number;
  /** default 1000 / 60000 */
  reconnect?: { minDelayMs: number; maxDelayMs: number };
  /** First pause after ESME_RTHROTTLED (doubles while the peer keeps throttling); default 200 ms. */
  throttlePauseMs?: number;
  /** Ceiling of that pause; default 10000 ms. */
  maxThrottlePauseMs?: number;
}

export interface InboundResult {
  status: number;
  messageId?: string;
}
export type InboundHandler = (pdu: PDU) => Promise<InboundResult>;

export type ClientState = 'idle' | 'connecting' | 'bound' | 'reconnecting' | 'stopped';

/** One submit: waits in the queue, then in the pending map until its response. */
interface Request {
  fields: PduOptions;
  resolve: (pdu: PDU) => void;
  reject: (err: Error) => void;
  queuedAt: number;
  sentAt: number;
}

type LibSession = InstanceType<typeof Session>;

const MAX_SEQ = 0x7fffffff;
const UNBIND_WAIT_MS = 5000;

/**
 * An ESME session to a carrier SMSC: connects, binds, keeps the link alive and reconnects, and
 * runs submit_sm through a window, a TPS limit and per-request timeouts.
 *
 * The library's Session is used for what it is good at — creating the TCP/TLS socket (a fresh
 * Session per connection) and PDU encoding — while reading, sequencing and writing are done
 * here: the library's reader stalls after a decode error and its send() allocates a closure per
 * PDU, both of which matter at thousands of PDUs per second.
 *
 * Events: 'connecting' (), 'bound' (), 'bindFailed' (err) for any failure before bound (connect
 * or TLS error, bind timeout, non-zero bind response), 'disconnected' (reason) when a bound
 * session ends, 'throttled' () on ESME_RTHROTTLED, 'latency' ({ command, ms }) per submit_sm
 * response, 'decodeError' (err). It never emits 'error'.
 */
export class ClientSession extends EventEmitter {
  private readonly opts: ClientSessionOptions;
  private readonly log: Logger;
  private readonly window: number;
  private readonly responseTimeoutMs: number;
  private readonly bindTimeoutMs: number;
  private readonly enquireIntervalMs: number;
  private readonly enquireTimeoutMs: number;
  private readonly limiter: Limiter;
  private readonly backoff: Backoff;

  private _state: ClientState = 'idle';
  private bound = false;
  private session: LibSession | null = null;
  private socket: Socket | null = null;
  private reader: PduReader | null = null;
  private seq = 0;
  private readonly pending = new Map<number, Request>();
  private queue: Request[] = [];
  private qHead = 0;
  private needDrain = false;
  private pumpQueued = false;
  private handler: InboundHandler | null = null;

  private bindSeq = -1;
  private bindFailureReported = false;
  private enquireSeq = -1;
  private enquireSentAt = 0;
  private unbindSeq = -1;
  private unbindDone: (() => void) | null = null;
  private closeReason: string | null = null;
  private lastError: Error | null = null;

  private sweepTimer: NodeJS.Timeout | null = null;
  private enquireTimer: NodeJS.Timeout | null = null;
  private bindTimer: NodeJS.Timeout | null = null;
  private pumpTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;

  // Handlers bound once, so the hot path allocates no closures.
  private readonly onDrain = (): void => {
    this.needDrain = false;
    this.pump();
  };
  private readonly onPumpTimer = (): void => {
    this.pumpTimer = null;
    this.pump();
  };
  private readonly sweep = (): void => {
    this.sweepDeadlines();
  };

  constructor(opts: ClientSessionOptions, log: Logger) {
    super();
    if (!opts.host) throw new TypeError('ClientSession: host is required');
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
      throw new RangeError(`ClientSession: port must be 1-65535, got ${opts.port}`);
    }
    this.opts = opts;
    this.log = log;
    this.window = opts.window ?? 10;
    if (!Number.isInteger(this.window) || this.window < 1) {
      throw new RangeError(`ClientSession: window must be a positive integer, got ${opts.window}`);
    }
    this.responseTimeoutMs = opts.responseTimeoutMs ?? 10_000;
    this.bindTimeoutMs = opts.bindTimeoutMs ?? 10_000;
    this.enquireIntervalMs = opts.enquireLinkIntervalMs ?? 30_000;
    this.enquireTimeoutMs = opts.enquireLinkTimeoutMs ?? this.responseTimeoutMs;
    const limiterOpts: { throttlePauseMs?: number; maxThrottlePauseMs?: number } = {};
    if (opts.throttlePauseMs !== undefined) limiterOpts.throttlePauseMs = opts.throttlePauseMs;
    if (opts.maxThrottlePauseMs !== undefined) limiterOpts.maxThrottlePauseMs = opts.maxThrottlePauseMs;
    this.limiter = createLimiter(opts.tpsLimit, limiterOpts);
    this.backoff = new Backoff(opts.reconnect?.minDelayMs ?? 1000, opts.reconnect?.maxDelayMs ?? 60_000);
  }

  get state(): ClientState {
    return this._state;
  }

  /** Requests sent and awaiting their response. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Submits waiting for bind, a window slot or a TPS slot. */
  get queued(): number {
    return this.queue.length - this.qHead;
  }

  /** Bytes written to the socket but not yet flushed to the kernel. */
  get bufferedBytes(): number {
    return this.socket?.writableLength ?? 0;
  }

  start(): void {
    if (this._state !== 'idle') return;
    this.sweepTimer = setInterval(this.sweep, Math.max(10, Math.min(250, this.responseTimeoutMs / 5)));
    this.sweepTimer.unref();
    this.connect();
  }

  setInboundHandler(h: InboundHandler): void {
    this.handler = h;
  }

  submit(fields: PduOptions): Promise<PDU> {
    if (this._state === 'stopped' || this.stopping) {
      return Promise.reject(new SmppUnsentError('SMPP session stopped'));
    }
    if (this._state === 'idle') {
      return Promise.reject(new SmppUnsentError('SMPP session not started'));
    }
    return new Promise<PDU>((resolve, reject) => {
      this.queue.push({ fields, resolve, reject, queuedAt: performance.now(), sentAt: 0 });
      // Submits made in one turn of the event loop go out together, in one socket write.
      if (this.bound && !this.pumpQueued) {
        this.pumpQueued = true;
        queueMicrotask(this.onPumpQueued);
      }
    });
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    const wasBound = this.bound;
    this._state = 'stopped';
    this.clearTimer('reconnectTimer');
    this.clearTimer('pumpTimer');
    this.clearTimer('enquireTimer');
    this.rejectQueued(new SmppUnsentError('SMPP session stopped'));
    const session = this.session;
    const socket = this.socket;
    if (!session || !socket || socket.destroyed) {
      this.clearTimer('sweepTimer');
      return;
    }
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    if (wasBound && socket.writable) {
      // Ask the SMSC to unbind; responses to requests still in flight may arrive first.
      this.unbindSeq = this.nextSeq();
      const unbound = new Promise<void>((resolve) => {
        this.unbindDone = resolve;
      });
      this.write(new PduClass('unbind', { sequence_number: this.unbindSeq }).toBuffer());
      const wait = Math.min(this.responseTimeoutMs, UNBIND_WAIT_MS);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([unbound, closed, new Promise<void>((r) => (timer = setTimeout(r, wait)))]);
      clearTimeout(timer);
      this.closeReason ??= 'stopped';
      socket.end();
      const force = setTimeout(() => socket.destroy(), 1000);
      await closed;
      clearTimeout(force);
    } else {
      this.closeReason ??= 'stopped';
      socket.destroy();
      await closed;
    }
    this.clearTimer('sweepTimer');
  }

  // ---- connection lifecycle -------------------------------------------------------------

  private connect(): void {
    this.reconnectTimer = null;
    if (this._state === 'stopped') return;
    this._state = 'connecting';
    this.bound = false;
    this.seq = 0;
    this.bindSeq = -1;
    this.enquireSeq = -1;
    this.unbindSeq = -1;
    this.closeReason = null;
    this.lastError = null;
    this.bindFailureReported = false;
    this.needDrain = false;
    this.emit('connecting');

    const o = this.opts;
    const options: SessionOptions = { host: o.host, port: o.port };
    if (o.tls?.enabled) {
      options.tls = true;
      if (o.tls.ca !== undefined) options.ca = o.tls.ca;
      // SNI must not carry an IP address; identity is then checked against the IP SAN.
      const serverName = o.tls.serverName ?? (isIP(o.host) ? undefined : o.host);
      if (serverName !== undefined) options.servername = serverName;
      options.rejectUnauthorized = !o.tls.insecureSkipVerify;
      if (o.tls.insecureSkipVerify) {
        this.log.warn(
          { host: o.host, port: o.port },
          'TLS certificate verification is disabled for this bind',
        );
      }
    }

    let session: LibSession;
    try {
      session = new Session(options);
    } catch (err) {
      this.lastError = err as Error;
      this.reportBindFailure(err as Error);
      this.scheduleReconnect();
      return;
    }
    this.session = session;
    const socket = session.socket;
    this.socket = socket;

    // Our reader replaces the library's (see PduReader for why).
    socket.removeAllListeners('readable');
    const sink: PduSink = {
      onPdu: (pdu) => this.onPdu(session, pdu),
      onRefused: (r) => this.onRefused(session, r),
      onDecodeError: (err, nack) => this.onDecodeError(session, err, nack),
    };
    const reader = new PduReader(sink);
    this.reader = reader;
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);

    session.on('error', (err: Error) => {
      if (this.session !== session) return;
      this.lastError = err;
      this.log.debug({ err: err.message }, 'SMPP socket error');
    });
    session.on('close', () => this.onClose(session));
    session.once(o.tls?.enabled ? 'secureConnect' : 'connect', () => this.sendBind(session));

    this.bindTimer = setTimeout(() => {
      this.bindTimer = null;
      if (this.session !== session || this.bound) return;
      const err = new SmppTimeoutError(`bind_${o.bindType}`, this.bindTimeoutMs);
      this.reportBindFailure(err);
      this.destroySession(session, err.message);
    }, this.bindTimeoutMs);
  }

  private sendBind(session: LibSession): void {
    if (this.session !== session) return;
    const o = this.opts;
    this.bindSeq = this.nextSeq();
    const pdu = new PduClass(`bind_${o.bindType}`, {
      sequence_number: this.bindSeq,
      system_id: o.systemId,
      password: o.password,
      system_type: o.systemType ?? '',
      interface_version: o.interfaceVersion ?? 0x34,
      address_range: o.addressRange ?? '',
    });
    this.write(pdu.toBuffer());
  }

  private onBindResp(session: LibSession, pdu: PDU): void {
    this.clearTimer('bindTimer');
    if (pdu.command_status !== 0 || pdu.command === 'generic_nack') {
      // A generic_nack means the SMSC did not understand our bind at all.
      const err = new SmppStatusError(pdu.command, pdu.command_status || Status.ESME_RINVCMDID);
      this.reportBindFailure(err);
      this.destroySession(session, err.message);
      return;
    }
    this.bound = true;
    this._state = 'bound';
    this.backoff.reset();
    this.log.info(
      {
        host: this.opts.host,
        port: this.opts.port,
        bindType: this.opts.bindType,
        systemId: this.opts.systemId,
      },
      'SMPP bound',
    );
    this.enquireTimer = setInterval(() => this.sendEnquireLink(session), this.enquireIntervalMs);
    this.enquireTimer.unref();
    this.emit('bound');
    this.pump();
  }

  private reportBindFailure(err: Error): void {
    if (this.bindFailureReported) return;
    this.bindFailureReported = true;
    this.log.warn({ host: this.opts.host, port: this.opts.port, err: err.message }, 'SMPP bind failed');
    this.emit('bindFailed', err);
  }

  private destroySession(session: LibSession, reason: string): void {
    if (this.session !== session) return;
    this.closeReason ??= reason;
    this.reader?.stop();
    session.socket.destroy();
  }

  private onClose(session: LibSession): void {
    if (this.session !== session) return;
    this.session = null;
    this.socket = null;
    this.reader?.stop();
    this.reader = null;
    this.clearTimer('bindTimer');
    this.clearTimer('enquireTimer');
    this.clearTimer('pumpTimer');
    this.needDrain = false;
    this.enquireSeq = -1;
    const wasBound = this.bound;
    this.bound = false;
    const reason =
      this.closeReason ?? (this.lastError ? `socket error: ${this.lastError.message}` : 'closed by peer');

    if (this.pending.size > 0) {
      const err = new SmppClosedError(`SMPP session closed (${reason}) before a response`);
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const r of pending) r.reject(err);
    }
    this.unbindDone?.();
    this.unbindDone = null;

    if (wasBound) {
      this.log.info({ host: this.opts.host, port: this.opts.port, reason }, 'SMPP session disconnected');
      this.emit('disconnected', reason);
    } else if (this._state !== 'stopped') {
      this.reportBindFailure(
        this.lastError ?? new SmppClosedError(`connection closed before bind (${reason})`),
      );
    }
    if (this._state !== 'stopped') this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this._state === 'stopped') return;
    this._state = 'reconnecting';
    const delay = this.backoff.next();
    this.log.debug({ delayMs: delay, attempt: this.backoff.attempts }, 'SMPP reconnect scheduled');
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  // ---- inbound ----------------------------------------------------------------------------

  private onDecodeError(session: LibSession, err: SmppDecodeError, nack: Buffer | null): void {
    if (this.session !== session) return;
    this.log.warn({ host: this.opts.host, port: this.opts.port, err }, 'SMPP decode error; dropping session');
    this.emit('decodeError', err);
    if (nack) this.write(nack);
    this.destroySession(session, `decode error: ${err.message}`);
  }

  /** A framed request from the SMSC that breaks SMPP: answered with its error, the session stays. */
  private onRefused(session: LibSession, r: RefusedPdu): void {
    if (this.session !== session) return;
    this.log.info(
      {
        host: this.opts.host,
        port: this.opts.port,
        command: r.command,
        status: statusName(r.status),
        reason: r.reason,
      },
      'SMSC PDU refused',
    );
    this.emit('pduRefused', r);
    this.write(r.response);
  }

  private onPdu(session: LibSession, pdu: PDU): void {
    if (this.session !== session) return;
    if ((pdu.command_id & 0x80000000) !== 0) {
      this.onResponse(session, pdu);
      return;
    }
    switch (pdu.command) {
      case 'enquire_link':
        this.write(pdu.response().toBuffer());
        return;
      case 'unbind':
        this.write(pdu.response().toBuffer());
        this.closeReason ??= 'unbind by peer';
        // Let the response flush, then close; 'close' drives the reconnect.
        this.reader?.stop();
        session.socket.end();
        return;
      case 'deliver_sm':
      case 'data_sm':
        if (!this.bound || this.opts.bindType === 'transmitter') {
          this.write(pdu.response({ command_status: Status.ESME_RINVBNDSTS }).toBuffer());
          return;
        }
        this.onInbound(session, pdu);
        return;
      case 'alert_notification':
      case 'outbind':
        return; // no response defined
      case 'unknown':
        this.write(pdu.response({ command_status: Status.ESME_RINVCMDID }).toBuffer());
        return;
      default:
        this.write(pdu.response({ command_status: Status.ESME_RINVCMDID }).toBuffer());
    }
  }

  private onResponse(session: LibSession, pdu: PDU): void {
    const seq = pdu.sequence_number;
    const req = this.pending.get(seq);
    if (req !== undefined) {
      this.pending.delete(seq);
      this.complete(req, pdu);
      // Responses read in one chunk refill the window together: one socket write, not one each.
      if (this.queue.length - this.qHead > 0 && !this.pumpQueued) {
        this.pumpQueued = true;
        queueMicrotask(this.onPumpQueued);
      }
      return;
    }
    if (seq === this.bindSeq && !this.bound) {
      this.onBindResp(session, pdu);
    } else if (seq === this.enquireSeq) {
      this.enquireSeq = -1;
    } else if (seq === this.unbindSeq) {
      this.unbindDone?.();
      this.unbindDone = null;
    }
    // Anything else answers a request that already timed out: nothing waits for it.
  }

  private complete(req: Request, pdu: PDU): void {
    const status = pdu.command_status;
    if (this.listenerCount('latency') > 0) {
      this.emit('latency', { command: 'submit_sm', ms: performance.now() - req.sentAt });
    }
    if (status === 0) {
      this.limiter.accepted();
      req.resolve(pdu);
      return;
    }
    if (status === Status.ESME_RTHROTTLED) {
      const pause = this.limiter.throttled();
      this.log.debug({ pauseMs: pause }, 'SMSC throttled us; pausing submits');
      this.emit('throttled');
    }
    req.reject(new SmppStatusError(pdu.command === 'generic_nack' ? 'generic_nack' : pdu.command, status));
  }

  private onInbound(session: LibSession, pdu: PDU): void {
    const h = this.handler;
    if (!h) {
      // Nobody to hand it to yet: a temporary error makes the SMSC retry later.
      this.write(pdu.response({ command_status: Status.ESME_RX_T_APPN }).toBuffer());
      return;
    }
    let p: Promise<InboundResult>;
    try {
      p = h(pdu);
    } catch (err) {
      p = Promise.reject(err as Error);
    }
    p.then(
      (res) => this.respond(session, pdu, res.status, res.messageId),
      (err: unknown) => {
        this.log.warn({ err, command: pdu.command }, 'inbound handler failed');
        this.respond(session, pdu, Status.ESME_RX_T_APPN, undefined);
      },
    );
  }

  private respond(session: LibSession, pdu: PDU, status: number, messageId: string | undefined): void {
    if (this.session !== session || !session.socket.writable) return;
    const opts: PduOptions =
      status !== 0 ? { command_status: status } : messageId ? { message_id: messageId } : {};
    this.write(pdu.response(opts).toBuffer());
  }

  // ---- outbound ---------------------------------------------------------------------------

  private nextSeq(): number {
    this.seq = this.seq >= MAX_SEQ ? 1 : this.seq + 1;
    return this.seq;
  }

  /** Writes bytes; notes when the socket buffer is full so pump() stops adding requests. */
  private write(buf: Buffer): void {
    const socket = this.socket;
    if (!socket || !socket.writable) return;
    if (!socket.write(buf) && !this.needDrain) {
      this.needDrain = true;
      socket.once('drain', this.onDrain);
    }
  }

  private readonly onPumpQueued = (): void => {
    this.pumpQueued = false;
    this.pump();
  };

  private pump(): void {
    if (!this.bound || this._state !== 'bound') return;
    const queue = this.queue;
    const socket = this.socket;
    if (!socket) return;
    // One writev for every PDU this pass sends, instead of a syscall each.
    socket.cork();
    try {
      this.fill(queue);
    } finally {
      socket.uncork();
    }
    this.compactQueue();
  }

  private fill(queue: Request[]): void {
    while (this.qHead < queue.length && this.pending.size < this.window && !this.needDrain) {
      const wait = this.limiter.take();
      if (wait > 0) {
        if (this.pumpTimer === null) this.pumpTimer = setTimeout(this.onPumpTimer, Math.ceil(wait));
        break;
      }
      const req = queue[this.qHead] as Request;
      queue[this.qHead++] = undefined as unknown as Request;
      this.send(req);
    }
  }

  private compactQueue(): void {
    if (this.qHead === this.queue.length) {
      this.queue = [];
      this.qHead = 0;
    } else if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.qHead);
      this.qHead = 0;
    }
  }

  private send(req: Request): void {
    let buf: Buffer;
    const seq = this.nextSeq();
    try {
      const direct = encodeSubmitSm(req.fields, seq);
      if (direct) buf = direct;
      else {
        const pdu = new PduClass('submit_sm', req.fields);
        pdu.sequence_number = seq;
        buf = pdu.toBuffer();
      }
    } catch (err) {
      // The fields cannot be encoded: the caller's problem, not the session's.
      req.reject(new SmppEncodeError('submit_sm', err));
      return;
    }
    req.sentAt = performance.now();
    this.pending.set(seq, req);
    this.write(buf);
  }

  private sendEnquireLink(session: LibSession): void {
    if (this.session !== session || !this.bound) return;
    if (this.enquireSeq !== -1) return; // one outstanding at a time; the sweep judges it
    this.enquireSeq = this.nextSeq();
    this.enquireSentAt = performance.now();
    this.write(new PduClass('enquire_link', { sequence_number: this.enquireSeq }).toBuffer());
  }

  /** One periodic pass instead of a timer per request: expire responses, dead peers and stale queue entries. */
  private sweepDeadlines(): void {
    const now = performance.now();
    if (this.pending.size > 0) {
      let expired: Request[] | null = null;
      // Insertion order is send order and every request has the same timeout, so stop at the first live one.
      for (const [seq, req] of this.pending) {
        if (now - req.sentAt < this.responseTimeoutMs) break;
        this.pending.delete(seq);
        (expired ??= []).push(req);
      }
      if (expired) {
        for (const r of expired) r.reject(new SmppTimeoutError('submit_sm', this.responseTimeoutMs));
        this.pump();
      }
    }
    if (this.enquireSeq !== -1 && now - this.enquireSentAt > this.enquireTimeoutMs && this.session) {
      this.log.warn(
        { host: this.opts.host, port: this.opts.port },
        'no enquire_link_resp; peer considered dead',
      );
      this.destroySession(this.session, `enquire_link not answered within ${this.enquireTimeoutMs} ms`);
    }
    if (!this.bound && this.qHead < this.queue.length) {
      const err = new SmppUnsentError(`SMPP session not bound within ${this.responseTimeoutMs} ms`);
      while (this.qHead < this.queue.length) {
        const req = this.queue[this.qHead] as Request;
        if (now - req.queuedAt < this.responseTimeoutMs) break;
        this.queue[this.qHead++] = undefined as unknown as Request;
        req.reject(err);
      }
      this.compactQueue();
    }
  }

  private rejectQueued(err: Error): void {
    const q = this.queue;
    const head = this.qHead;
    this.queue = [];
    this.qHead = 0;
    for (let i = head; i < q.length; i++) (q[i] as Request).reject(err);
  }

  private clearTimer(
    name: 'sweepTimer' | 'enquireTimer' | 'bindTimer' | 'pumpTimer' | 'reconnectTimer',
  ): void {
    const t = this[name];
    if (t !== null) {
      clearTimeout(t);
      this[name] = null;
    }
  }
}
