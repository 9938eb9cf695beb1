import type { Socket } from 'node:net';
import type { SubmitSm } from '../pdu/message.js';
import type { Answer, Pdu } from '../pdu/pdu.js';
import type { QuerySm } from '../pdu/query.js';
import type { Bind } from '../pdu/session.js';
import type { Logger } from '../../log.js';
import type { BindSlowdown } from '../auth.js';
import { normalizeAddress } from '../cidr.js';
import { Status, statusName, type BindType, type SmppDecodeError } from '../errors.js';
import { describeClose, type CloseReason } from '../link/close-reason.js';
import { SmppLink, type LinkHooks, type LinkOptions } from '../link/link.js';
import type { RefusedPdu } from '../pdu-reader.js';
import { genericNack } from '../pdu/check.js';
import { authenticate } from './authenticate.js';
import type { BindState, BindTable, BoundSession } from './bind-table.js';
import type {
  BindRejection,
  PartnerQueryHandler,
  PartnerSubmitHandler,
  PduRefusal,
  ServerSessionInfo,
  UnexpectedPdu,
} from './types.js';

/** What a partner session needs of its listener. */
export interface PartnerContext {
  readonly log: Logger;
  readonly table: BindTable;
  readonly slowdown: BindSlowdown;
  readonly linkOptions: LinkOptions;
  /** system_id we answer binds with. */
  readonly systemId: string;
  readonly bindRejectLingerMs: number;
  /** The listener's submit_sm and query_sm handlers, as they are now. */
  submitHandler(): PartnerSubmitHandler | null;
  queryHandler(): PartnerQueryHandler | null;
  /** The listener's events (see SmppListener). */
  emit(event: string, ...args: unknown[]): boolean;
  listenerCount(event: string): number;
  /** The session's socket closed. */
  closed(s: PartnerSession): boolean;
}

function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run();
  } catch (err) {
    return Promise.reject(err as Error);
  }
}

/**
 * One accepted partner connection, from connect through bind to close: the SMSC side of an
 * SmppLink. It authenticates the bind, hands submit_sm and query_sm to the listener's handlers
 * and answers what the listener does not serve; the link does the rest.
 */
export class PartnerSession implements LinkHooks, BoundSession {
  readonly id: string;
  readonly link: SmppLink;
  readonly peerAddress: string;
  readonly peerPort: number;
  private readonly ctx: PartnerContext;
  /** A bind arrived and is being authenticated. */
  private binding = false;
  bind: BindState | null = null;
  bindType: BindType = 'transceiver';
  tag = '';
  systemId = '';
  private _info: ServerSessionInfo | null = null;

  constructor(id: string, socket: Socket, ctx: PartnerContext) {
    this.id = id;
    this.ctx = ctx;
    this.peerAddress = normalizeAddress(socket.remoteAddress ?? '');
    this.peerPort = socket.remotePort ?? 0;
    this.link = new SmppLink(socket, ctx.linkOptions, this);
  }

  /** Set once bound. */
  get info(): ServerSessionInfo {
    return this._info as ServerSessionInfo;
  }

  get receives(): boolean {
    return this._info !== null && (this.bindType === 'receiver' || this.bindType === 'transceiver');
  }

  private get key(): string | undefined {
    return this._info?.key;
  }

  // ---- LinkHooks -----------------------------------------------------------------------------

  request(link: SmppLink, pdu: Pdu): void {
    const cmd = pdu.command;
    if (cmd === 'outbind' || cmd === 'alert_notification') {
      this.onUnexpected(pdu);
      return;
    }
    if (cmd === 'bind_transmitter' || cmd === 'bind_receiver' || cmd === 'bind_transceiver') {
      if (link.state === 'open' && !this.binding) this.onBind(pdu);
      else
        link.respond(pdu, {
          command_status: link.state === 'bound' ? Status.ESME_RALYBND : Status.ESME_RINVBNDSTS,
        });
      return;
    }
    switch (cmd) {
      case 'submit_sm':
        this.onSubmit(pdu);
        return;
      case 'query_sm':
        this.onQuery(pdu);
        return;
      default:
        // cancel_sm, replace_sm, submit_multi, data_sm, ...: the seeds' providers answer what
        // they do not support with generic_nack ESME_RINVCMDID.
        link.write(genericNack(pdu.sequence_number, Status.ESME_RINVCMDID));
    }
  }

  bindResponse(): void {
    // We never send a bind.
  }

  /** A framed request that breaks SMPP: the link answered it with its error status and carries on. */
  refused(link: SmppLink, r: RefusedPdu): void {
    const key = this.key;
    this.ctx.log.info(
      {
        peerAddress: this.peerAddress,
        conn: this.id,
        key,
        command: r.command,
        status: statusName(r.status),
        reason: r.reason,
      },
      'partner PDU refused',
    );
    this.ctx.emit('pduRefused', {
      command: r.command,
      status: r.status,
      reason: r.reason,
      peerAddress: this.peerAddress,
      key,
    } satisfies PduRefusal);
    if (link.state === 'open' && !this.binding && r.command.startsWith('bind_')) {
      // A malformed bind is a failed bind: one attempt per connection, slowed down like the others.
      this.ctx.slowdown.failed(this.peerAddress);
      this.ctx.emit('bindRejected', {
        systemId: '',
        peerAddress: this.peerAddress,
        reason: r.reason,
        code: 'malformed_bind',
        status: r.status,
      } satisfies BindRejection);
      link.closeAfter(this.ctx.bindRejectLingerMs, { kind: 'bind-rejected', reason: r.reason });
    }
  }

  decodeError(_link: SmppLink, err: SmppDecodeError): void {
    this.ctx.log.warn(
      { peerAddress: this.peerAddress, conn: this.id, key: this.key, err },
      'SMPP framing error from partner; closing the connection once earlier requests are answered',
    );
    this.ctx.emit('decodeError', err);
  }

  ready(): void {
    this.bind?.deliveries.pump();
  }

  unbound(): void {
    this.bind?.remove(this);
  }

  answerFailed(_link: SmppLink, pdu: Pdu, err: unknown): void {
    this.ctx.log.warn({ key: this.bind?.entry.key, err }, `partner ${pdu.command} handler failed`);
  }

  throttled(): void {
    // The bind's limiter pauses deliveries; nothing else to do.
  }

  closed(_link: SmppLink, reason: CloseReason): void {
    const text = describeClose(reason);
    const log = this.ctx.log;
    if (reason.kind === 'bind-timeout') {
      log.info({ peerAddress: this.peerAddress, conn: this.id }, 'no bind within the bind timeout; closing');
    } else if (reason.kind === 'peer-timeout') {
      log.warn(
        { peerAddress: this.peerAddress, conn: this.id, key: this.key },
        'partner did not answer in time; dropping session',
      );
    }
    this.ctx.closed(this);
    const info = this._info;
    if (info) {
      log.info(
        { key: info.key, peerAddress: this.peerAddress, conn: this.id, reason: text },
        'partner SMPP session closed',
      );
      this.ctx.emit('sessionClosed', info, text, reason);
    }
  }

  // ---- requests ------------------------------------------------------------------------------

  private onUnexpected(pdu: Pdu): void {
    const command = pdu.command === 'outbind' ? 'outbind' : 'alert_notification';
    // outbind is the SMSC's to send (§4.1.7): refuse it. alert_notification has no response (§4.12): ignore it.
    if (command === 'outbind') this.link.write(genericNack(pdu.sequence_number, Status.ESME_RINVCMDID));
    this.ctx.log.info(
      { peerAddress: this.peerAddress, conn: this.id, key: this.key, command },
      'partner sent a command only an SMSC sends',
    );
    this.ctx.emit('unexpectedPdu', {
      command,
      peerAddress: this.peerAddress,
      key: this.key,
    } satisfies UnexpectedPdu);
  }

  private onBind(pdu: Bind): void {
    this.binding = true;
    const delay = this.ctx.slowdown.delayFor(this.peerAddress);
    if (delay > 0) {
      this.ctx.log.debug(
        { peerAddress: this.peerAddress, delayMs: delay },
        'slowing down binds from an address with failed attempts',
      );
      setTimeout(() => this.authenticate(pdu), delay).unref();
    } else {
      this.authenticate(pdu);
    }
  }

  private authenticate(pdu: Bind): void {
    const link = this.link;
    if (link.state !== 'open') return;
    this.binding = false;
    const { ctx, peerAddress } = this;
    const systemId = pdu.system_id;
    const password = pdu.password;
    const bindType = pdu.command.slice('bind_'.length) as BindType;
    const res = authenticate(ctx.table.candidates(systemId), { systemId, password, bindType, peerAddress });

    if (!res.ok) {
      if (res.failure) ctx.slowdown.failed(peerAddress);
      ctx.log.warn(
        {
          systemId,
          peerAddress,
          reason: res.reason,
          status: statusName(res.status),
          namespace: res.bind?.entry.namespace,
          bind: res.bind?.entry.name,
        },
        'partner bind rejected',
      );
      ctx.emit('bindRejected', {
        systemId,
        peerAddress,
        reason: res.reason,
        code: res.code,
        status: res.status,
      } satisfies BindRejection);
      link.respond(pdu, { command_status: res.status });
      // One attempt per connection: a guesser has to reconnect (and meet maxConnections and the
      // slow-down). Anything more on this connection is answered ESME_RINVBNDSTS.
      link.closeAfter(ctx.bindRejectLingerMs, { kind: 'bind-rejected', reason: res.reason });
      return;
    }

    const bs = res.bind;
    ctx.slowdown.succeeded(peerAddress);
    this.bind = bs;
    this.bindType = bindType;
    this.tag = bs.tag;
    this.systemId = bs.entry.systemId;
    this._info = {
      key: bs.entry.key,
      id: this.id,
      peerAddress,
      peerPort: this.peerPort,
      bindType,
      since: new Date(),
    };
    link.markBound(bs.deliveries.pacer);
    bs.add(this);
    link.respond(pdu, { system_id: ctx.systemId });
    ctx.log.info(
      { namespace: bs.entry.namespace, bind: bs.entry.name, peerAddress, bindType, conn: this.id },
      'partner SMPP session bound',
    );
    ctx.emit('sessionBound', this._info);
  }

  /** The session's bind, when it may send requests (not a receiver); else answers for it. */
  private transmitter(pdu: Pdu): BindState | null {
    const bs = this.bind;
    if (!bs) return null;
    if (this.bindType === 'receiver') {
      this.link.respond(pdu, { command_status: Status.ESME_RINVBNDSTS });
      return null;
    }
    return bs;
  }

  private onSubmit(pdu: SubmitSm): void {
    const bs = this.transmitter(pdu);
    if (!bs) return;
    const link = this.link;
    const info = this.info;
    if (bs.inbound && bs.inbound.take() > 0) {
      link.respond(pdu, { command_status: Status.ESME_RTHROTTLED });
      if (this.ctx.listenerCount('submitThrottled') > 0) this.ctx.emit('submitThrottled', info);
      return;
    }
    const h = this.ctx.submitHandler();
    if (!h) {
      link.respond(pdu, { command_status: Status.ESME_RSYSERR });
      return;
    }
    const answer = call(() => h(bs.entry, pdu, info)).then(
      (res): Answer =>
        res.status !== 0 ? { command_status: res.status } : { message_id: res.messageId ?? '' },
    );
    link.answerLater(pdu, answer, Status.ESME_RSYSERR);
  }

  /** SMPP 3.4 §4.8: the partner asks for the state of a message it submitted. */
  private onQuery(pdu: QuerySm): void {
    const bs = this.transmitter(pdu);
    if (!bs) return;
    const h = this.ctx.queryHandler();
    if (!h) {
      this.link.respond(pdu, { command_status: Status.ESME_RINVCMDID });
      return;
    }
    const answer = call(() => h(bs.entry, pdu, this.info)).then(
      (res): Answer => (res.status !== 0 ? { command_status: res.status } : (res.fields ?? {})),
    );
    this.link.answerLater(pdu, answer, Status.ESME_RQUERYFAIL);
  }
}
