import { EventEmitter } from 'node:events';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { DataSm, DeliverSm, SubmitFields, SubmitSmResp } from './pdu/message.js';
import type { Answer, Pdu } from './pdu/pdu.js';
import type { Logger } from '../log.js';
import { Backoff } from '../backoff.js';
import {
  SmppClosedError,
  SmppUnsentError,
  SmppStatusError,
  SmppTimeoutError,
  Status,
  statusName,
  type BindType,
} from './errors.js';
import { describeClose, type CloseReason } from './link/close-reason.js';
import { SmppLink, tickInterval, type LinkHooks, type LinkOptions } from './link/link.js';
import { RequestQueue } from './link/request-queue.js';
import type { RefusedPdu } from './pdu-reader.js';
import { createLimiter } from './rate-limiter.js';

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
export type InboundHandler = (pdu: DeliverSm | DataSm) => Promise<InboundResult>;
export type { SubmitFields };

export type ClientState = 'idle' | 'connecting' | 'bound' | 'reconnecting' | 'stopped';

const UNBIND_WAIT_MS = 5000;

/**
 * An ESME session to a carrier SMSC: connects, binds, reconnects, and runs submit_sm through a
 * window, a TPS limit and per-request timeouts. Each connection is one SmppLink (framing,
 * window, keep-alive, unbind); this class adds what is the client's: connecting (TCP or TLS),
 * binding, reconnecting with back-off, the submit queue and the inbound handler.
 *
 * Events: 'connecting' (), 'bound' (), 'bindFailed' (err) for any failure before bound (connect
 * or TLS error, bind timeout, non-zero bind response), 'disconnected' (text, reason: CloseReason)
 * when a bound session ends, 'throttled' () on ESME_RTHROTTLED, 'latency' ({ command, ms }) per
 * submit_sm response, 'decodeError' (err), 'pduRefused' (RefusedPdu). It never emits 'error'.
 */
export class ClientSession extends EventEmitter {
  private readonly opts: ClientSessionOptions;
  private readonly log: Logger;
  private readonly linkOpts: LinkOptions;
  private readonly backoff: Backoff;
  private readonly queue: RequestQueue;

  private _state: ClientState = 'idle';
  private link: SmppLink | null = null;
  private pumpQueued = false;
  private handler: InboundHandler | null = null;
  private bindFailureReported = false;
  /** The current link bound (it may be unbinding now). */
  private bound = false;

  private sweepTimer: NodeJS.Timeout | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;

  // Bound once, so the hot path allocates no closures.
  private readonly pump = (): void => {
    this.pumpQueued = false;
    const link = this.link;
    if (link === null || link.state !== 'bound' || this._state !== 'bound') return;
    // One writev for every PDU this pass sends, instead of a syscall each.
    link.cork();
    try {
      this.queue.pump(this.pickLink);
    } finally {
      link.uncork();
    }
  };
  private readonly pickLink = (): SmppLink | null => {
    const link = this.link;
    return link !== null && link.hasRoom ? link : null;
  };
  private readonly hooks: LinkHooks;

  constructor(opts: ClientSessionOptions, log: Logger) {
    super();
    if (!opts.host) throw new TypeError('ClientSession: host is required');
    if (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65535) {
      throw new RangeError(`ClientSession: port must be 1-65535, got ${opts.port}`);
    }
    this.opts = opts;
    this.log = log;
    const window = opts.window ?? 10;
    if (!Number.isInteger(window) || window < 1) {
      throw new RangeError(`ClientSession: window must be a positive integer, got ${opts.window}`);
    }
    const responseTimeoutMs = opts.responseTimeoutMs ?? 10_000;
    this.linkOpts = {
      window,
      bindTimeoutMs: opts.bindTimeoutMs ?? 10_000,
      responseTimeoutMs,
      deadPeer: 'enquire',
      enquireIntervalMs: opts.enquireLinkIntervalMs ?? 30_000,
      enquireTimeoutMs: opts.enquireLinkTimeoutMs ?? responseTimeoutMs,
      // We are the ESME: after the SMSC's unbind we answer and close at once.
      unbindLingerMs: 0,
      unbindWaitMs: Math.min(responseTimeoutMs, UNBIND_WAIT_MS),
      strictRequests: false,
      label: 'SMPP session',
    };
    const limiterOpts: { throttlePauseMs?: number; maxThrottlePauseMs?: number } = {};
    if (opts.throttlePauseMs !== undefined) limiterOpts.throttlePauseMs = opts.throttlePauseMs;
    if (opts.maxThrottlePauseMs !== undefined) limiterOpts.maxThrottlePauseMs = opts.maxThrottlePauseMs;
    this.queue = new RequestQueue(createLimiter(opts.tpsLimit, limiterOpts), this.pump);
    this.backoff = new Backoff(opts.reconnect?.minDelayMs ?? 1000, opts.reconnect?.maxDelayMs ?? 60_000);
    this.hooks = {
      request: (link, pdu) => this.onRequest(link, pdu),
      bindResponse: (link, pdu) => this.onBindResp(link, pdu),
      refused: (_link, r) => this.onRefused(r),
      decodeError: (_link, err) => {
        this.log.warn(
          { host: this.opts.host, port: this.opts.port, err },
          'SMPP decode error; dropping session',
        );
        this.emit('decodeError', err);
      },
      ready: () => {
        // Responses read in one chunk refill the window together: one socket write, not one each.
        if (this.queue.length > 0 && !this.pumpQueued) {
          this.pumpQueued = true;
          queueMicrotask(this.pump);
        }
      },
      unbound: () => undefined,
      answerFailed: (_link, pdu, err) =>
        this.log.warn({ err, command: pdu.command }, 'inbound handler failed'),
      throttled: (_link, pauseMs) => {
        this.log.debug({ pauseMs }, 'SMSC throttled us; pausing submits');
        this.emit('throttled');
      },
      closed: (link, reason) => this.onClose(link, reason),
      latency: (command, sentAt) => {
        if (this.listenerCount('latency') > 0)
          this.emit('latency', { command, ms: performance.now() - sentAt });
      },
    };
  }

  get state(): ClientState {
    return this._state;
  }

  /** Requests sent and awaiting their response. */
  get inFlight(): number {
    return this.link?.inFlight ?? 0;
  }

  /** Submits waiting for bind, a window slot or a TPS slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** Bytes written to the socket but not yet flushed to the kernel. */
  get bufferedBytes(): number {
    return this.link?.bufferedBytes ?? 0;
  }

  start(): void {
    if (this._state !== 'idle') return;
    const l = this.linkOpts;
    const every = tickInterval(l.responseTimeoutMs, l.bindTimeoutMs, l.enquireIntervalMs, l.enquireTimeoutMs);
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
    this.connect();
  }

  setInboundHandler(h: InboundHandler): void {
    this.handler = h;
  }

  submit(fields: SubmitFields): Promise<SubmitSmResp> {
    if (this._state === 'stopped' || this.stopping) {
      return Promise.reject(new SmppUnsentError('SMPP session stopped'));
    }
    if (this._state === 'idle') {
      return Promise.reject(new SmppUnsentError('SMPP session not started'));
    }
    const response = this.queue.enqueue('submit_sm', fields);
    // Submits made in one turn of the event loop go out together, in one socket write.
    if (this._state === 'bound' && !this.pumpQueued) {
      this.pumpQueued = true;
      queueMicrotask(this.pump);
    }
    return response;
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this._state = 'stopped';
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.queue.failAll(new SmppUnsentError('SMPP session stopped'));
    const link = this.link;
    if (link !== null) {
      // Ask the SMSC to unbind; responses to requests still in flight may arrive first.
      if (link.state === 'bound') link.unbind({ kind: 'local', cause: 'stopped' });
      else link.destroy({ kind: 'local', cause: 'stopped' });
      await link.closed;
    }
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  // ---- connection lifecycle -------------------------------------------------------------

  private connect(): void {
    this.reconnectTimer = null;
    if (this._state === 'stopped') return;
    this._state = 'connecting';
    this.bindFailureReported = false;
    this.emit('connecting');

    const o = this.opts;
    let socket: Socket;
    try {
      socket = o.tls?.enabled ? tlsConnect(this.tlsOptions()) : netConnect({ host: o.host, port: o.port });
    } catch (err) {
      this.reportBindFailure(err as Error);
      this.scheduleReconnect();
      return;
    }
    socket.setKeepAlive(true, 30_000);
    const link = new SmppLink(socket, this.linkOpts, this.hooks);
    this.link = link;
    socket.once(o.tls?.enabled ? 'secureConnect' : 'connect', () => {
      if (this.link !== link) return;
      link.bind(`bind_${o.bindType}`, {
        system_id: o.systemId,
        password: o.password,
        system_type: o.systemType ?? '',
        interface_version: o.interfaceVersion ?? 0x34,
        addr_ton: 0,
        addr_npi: 0,
        address_range: o.addressRange ?? '',
      });
    });
  }

  private tlsOptions(): ConnectionOptions {
    const o = this.opts;
    const t = o.tls ?? { enabled: true };
    const options: ConnectionOptions = {
      host: o.host,
      port: o.port,
      rejectUnauthorized: !t.insecureSkipVerify,
    };
    if (t.ca !== undefined) options.ca = t.ca;
    // SNI must not carry an IP address; identity is then checked against the IP SAN.
    const serverName = t.serverName ?? (isIP(o.host) ? undefined : o.host);
    if (serverName !== undefined) options.servername = serverName;
    if (t.insecureSkipVerify) {
      this.log.warn({ host: o.host, port: o.port }, 'TLS certificate verification is disabled for this bind');
    }
    return options;
  }

  private onBindResp(link: SmppLink, pdu: Pdu): void {
    if (pdu.command_status !== 0 || pdu.command === 'generic_nack') {
      // A generic_nack means the SMSC did not understand our bind at all.
      const err = new SmppStatusError(pdu.command, pdu.command_status || Status.ESME_RINVCMDID);
      this.reportBindFailure(err);
      link.destroy({ kind: 'bind-failed', message: err.message });
      return;
    }
    link.markBound(this.queue);
    this.bound = true;
    this._state = 'bound';
    this.backoff.reset();
    const o = this.opts;
    this.log.info({ host: o.host, port: o.port, bindType: o.bindType, systemId: o.systemId }, 'SMPP bound');
    this.emit('bound');
    this.pump();
  }

  private reportBindFailure(err: Error): void {
    if (this.bindFailureReported) return;
    this.bindFailureReported = true;
    this.log.warn({ host: this.opts.host, port: this.opts.port, err }, 'SMPP bind failed');
    this.emit('bindFailed', err);
  }

  private onClose(link: SmppLink, reason: CloseReason): void {
    if (this.link !== link) return;
    this.link = null;
    const wasBound = this.bound;
    this.bound = false;
    const text = describeClose(reason);
    if (wasBound) {
      this.log.info(
        { host: this.opts.host, port: this.opts.port, reason: text },
        'SMPP session disconnected',
      );
      this.emit('disconnected', text, reason);
    } else if (this._state !== 'stopped') {
      this.reportBindFailure(
        reason.kind === 'bind-timeout'
          ? new SmppTimeoutError(`bind_${this.opts.bindType}`, reason.ms)
          : (link.error ?? new SmppClosedError(`connection closed before bind (${text})`)),
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

  /** A framed request from the SMSC that breaks SMPP: the link answered it with its error. */
  private onRefused(r: RefusedPdu): void {
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
  }

  private onRequest(link: SmppLink, pdu: Pdu): void {
    switch (pdu.command) {
      case 'deliver_sm':
      case 'data_sm':
        if (this.opts.bindType === 'transmitter') {
          link.respond(pdu, { command_status: Status.ESME_RINVBNDSTS });
          return;
        }
        this.onInbound(link, pdu);
        return;
      case 'alert_notification':
      case 'outbind':
        return; // no response defined
      default:
        link.respond(pdu, { command_status: Status.ESME_RINVCMDID });
    }
  }

  private onInbound(link: SmppLink, pdu: DeliverSm | DataSm): void {
    const h = this.handler;
    if (!h) {
      // Nobody to hand it to yet: a temporary error makes the SMSC retry later.
      link.respond(pdu, { command_status: Status.ESME_RX_T_APPN });
      return;
    }
    let p: Promise<InboundResult>;
    try {
      p = h(pdu);
    } catch (err) {
      p = Promise.reject(err as Error);
    }
    link.answerLater(pdu, p.then(inboundAnswer), Status.ESME_RX_T_APPN);
  }

  // ---- timers ----------------------------------------------------------------------------

  private sweep(): void {
    const now = performance.now();
    this.link?.tick(now);
    if (this._state !== 'bound' && this.queue.length > 0) {
      const ms = this.linkOpts.responseTimeoutMs;
      this.queue.expire(now, ms, () => new SmppUnsentError(`SMPP session not bound within ${ms} ms`));
    }
  }
}

function inboundAnswer(res: InboundResult): Answer {
  if (res.status !== 0) return { command_status: res.status };
  return res.messageId ? { message_id: res.messageId } : {};
}
