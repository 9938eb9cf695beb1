import { EventEmitter } from 'node:events';
import { createServer as netServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as tlsServer } from 'node:tls';
import type { DeliverFields, DeliverSmResp } from './pdu/message.js';
import type { Logger } from '../log.js';
import { BindSlowdown } from './auth.js';
import { normalizeAddress } from './cidr.js';
import { SmppUnsentError } from './errors.js';
import type { LocalCloseCause } from './link/close-reason.js';
import { tickInterval, type LinkOptions } from './link/link.js';
import { BindTable, type BoundSession } from './listener/bind-table.js';
import { PartnerSession, type PartnerContext } from './listener/partner-session.js';
import type {
  ListenerOptions,
  PartnerQueryHandler,
  PartnerSubmitHandler,
  ServerBindEntry,
  ServerSessionInfo,
} from './listener/types.js';

export type {
  BindRejection,
  BindRejectionCode,
  ListenerOptions,
  PartnerQueryHandler,
  PartnerSubmitHandler,
  PduRefusal,
  ServerBindEntry,
  ServerSessionInfo,
  UnexpectedPdu,
} from './listener/types.js';

/** After our unbind, how long a partner has to answer before we close anyway. */
const UNBIND_WAIT_MS = 1000;

/**
 * The SMPP server partners bind to: accepts connections (TCP or TLS) up to maxConnections, runs
 * each as a PartnerSession, keeps the live bind table (listener/bind-table.ts) that
 * authentication (listener/authenticate.ts) and the deliver scheduler
 * (listener/deliver-scheduler.ts) work from, and drives every session's timers from one sweep.
 *
 * Events: 'sessionBound' (info), 'sessionClosed' (info, text, reason: CloseReason),
 * 'bindRejected' (BindRejection), 'decodeError' (err), and for metrics 'submitThrottled' (info)
 * when a partner submit_sm is answered ESME_RTHROTTLED, 'connectionRefused' ({ peerAddress,
 * reason }) at maxConnections, 'pduRefused' (PduRefusal) for a request answered with an error
 * before any handler saw it, and 'unexpectedPdu' (UnexpectedPdu) for outbind / alert_notification.
 */
export class SmppListener extends EventEmitter {
  private readonly opts: ListenerOptions;
  private readonly log: Logger;
  private readonly table: BindTable;
  private readonly linkOptions: LinkOptions;
  private readonly ctx: PartnerContext;
  private submitHandler: PartnerSubmitHandler | null = null;
  private queryHandler: PartnerQueryHandler | null = null;
  private readonly queueTimeoutMs: number;
  private server: Server | null = null;
  private readonly conns = new Set<PartnerSession>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private nextConnId = 1;
  private closing: Promise<void> | null = null;

  constructor(opts: ListenerOptions, log: Logger) {
    super();
    this.opts = opts;
    this.log = log;
    if (!Number.isInteger(opts.maxConnections) || opts.maxConnections < 1) {
      throw new RangeError(
        `SmppListener: maxConnections must be a positive integer, got ${opts.maxConnections}`,
      );
    }
    const peerTimeoutMs = opts.peerResponseTimeoutMs ?? 60_000;
    this.linkOptions = {
      window: opts.window ?? 10,
      bindTimeoutMs: opts.bindTimeoutMs ?? 10_000,
      responseTimeoutMs: peerTimeoutMs,
      deadPeer: 'any',
      enquireIntervalMs: opts.enquireLinkIntervalMs ?? 30_000,
      enquireTimeoutMs: peerTimeoutMs,
      unbindLingerMs: opts.unbindLingerMs ?? 1000,
      unbindWaitMs: UNBIND_WAIT_MS,
      strictRequests: true,
      label: 'partner session',
    };
    this.queueTimeoutMs = opts.deliverQueueTimeoutMs ?? peerTimeoutMs;
    this.table = new BindTable(log);
    // What every partner session reads of the listener; the handlers may be set later.
    this.ctx = {
      log,
      table: this.table,
      slowdown: new BindSlowdown(opts.slowdown),
      linkOptions: this.linkOptions,
      systemId: opts.systemId ?? 'smpp-operator',
      bindRejectLingerMs: opts.bindRejectLingerMs ?? 500,
      submitHandler: () => this.submitHandler,
      queryHandler: () => this.queryHandler,
      emit: (event, ...args) => this.emit(event, ...args),
      listenerCount: (event) => this.listenerCount(event),
      closed: (s) => this.conns.delete(s),
    };
  }

  listen(): Promise<{ port: number }> {
    const onSocket = (socket: Socket): void => this.accept(socket);
    const tls = this.opts.tls;
    const l = this.linkOptions;
    const server: Server = tls
      ? // A TLS peer that never finishes its handshake must not hold a connection slot for long.
        tlsServer({ key: tls.key, cert: tls.cert, handshakeTimeout: l.bindTimeoutMs }, onSocket)
      : netServer(onSocket);
    server.maxConnections = this.opts.maxConnections;
    server.on('drop', (d?: { remoteAddress?: string }) => {
      this.log.warn(
        { peerAddress: d?.remoteAddress, max: this.opts.maxConnections },
        'SMPP connection refused: maxConnections reached',
      );
      this.emit('connectionRefused', {
        peerAddress: normalizeAddress(d?.remoteAddress ?? ''),
        reason: 'maxConnections',
      });
    });
    server.on('tlsClientError', (err: unknown) => {
      this.log.debug({ err }, 'TLS handshake with a partner failed');
    });
    server.on('error', (err: unknown) => this.log.error({ err }, 'SMPP listener error'));
    this.server = server;
    const every = tickInterval(l.bindTimeoutMs, l.responseTimeoutMs, l.enquireIntervalMs);
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      server.once('error', onError);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', onError);
        const port = (server.address() as AddressInfo).port;
        this.log.info({ host: this.opts.host, port, tls: !!tls }, 'SMPP listener up');
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
    const all = [...this.conns].map((c) => c.link.closed);
    for (const c of this.conns) {
      if (c.link.state === 'bound') this.unbindAndClose(c, 'listener closing');
      else c.link.destroy({ kind: 'local', cause: 'listener closing' });
    }
    await Promise.all(all);
    for (const bs of this.table.all()) bs.deliveries.fail(new SmppUnsentError('listener closed'));
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    await serverClosed;
  }

  setBinds(entries: ServerBindEntry[]): void {
    for (const bs of this.table.set(entries)) {
      for (const s of [...bs.sessions]) this.unbindAndClose(s, 'bind removed');
      bs.deliveries.fail(new SmppUnsentError('bind removed'));
    }
    // Drops live sessions a changed entry no longer admits.
    for (const bs of this.table.all())
      for (const [s, cause] of bs.inadmissible()) this.unbindAndClose(s, cause);
  }

  setSubmitHandler(h: PartnerSubmitHandler): void {
    this.submitHandler = h;
  }

  setQueryHandler(h: PartnerQueryHandler): void {
    this.queryHandler = h;
  }

  sessions(key?: string): ServerSessionInfo[] {
    return this.table.sessions(key);
  }

  /** Live counters of one bind, e.g. for an in-flight gauge: bound sessions, deliver_sm awaiting a response, deliver_sm waiting to be sent. */
  stats(key: string): { sessions: number; inFlight: number; queued: number; bufferedBytes: number } {
    return this.table.stats(key);
  }

  deliver(key: string, fields: DeliverFields): Promise<DeliverSmResp> {
    const bs = this.table.get(key);
    if (!bs)
      return Promise.reject(new SmppUnsentError(`no receiver or transceiver session bound for ${key}`));
    return bs.deliveries.deliver(fields);
  }

  // ---- connections --------------------------------------------------------------------------

  private accept(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    const s = new PartnerSession(String(this.nextConnId++), socket, this.ctx);
    this.conns.add(s);
    this.log.debug(
      { peerAddress: s.peerAddress, peerPort: s.peerPort, conn: s.id },
      'SMPP connection accepted',
    );
  }

  /** Polite close of a bound session (unbind first); any other is closed at once. */
  private unbindAndClose(s: BoundSession | PartnerSession, cause: LocalCloseCause): void {
    const link = s.link;
    if (link.state === 'closing' || link.state === 'closed') return;
    link.unbind({ kind: 'local', cause });
  }

  // ---- timers: one sweep for every deadline ------------------------------------------------

  private sweep(): void {
    const now = performance.now();
    for (const s of this.conns) s.link.tick(now);
    for (const bs of this.table.all()) bs.deliveries.expire(now, this.queueTimeoutMs);
  }
}
