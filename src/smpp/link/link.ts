import type { Socket } from 'node:net';
import {
  SmppClosedError,
  SmppEncodeError,
  SmppStatusError,
  SmppTimeoutError,
  Status,
  type SmppDecodeError,
} from '../errors.js';
import { PduReader, type RefusedPdu } from '../pdu-reader.js';
import { encodeBind, encodeMessageRequest, encodePdu } from '../pdu/codec.js';
import { CommandId } from '../pdu/header.js';
import type { DeliverSmResp, MessageFields, SubmitSmResp } from '../pdu/message.js';
import { answerTo, isResponse, type Answer, type Pdu } from '../pdu/pdu.js';
import type { BindCommand, BindFields } from '../pdu/session.js';
import type { Limiter } from '../rate-limiter.js';
import { describeClose, type CloseReason } from './close-reason.js';
import { headerOnly } from './encode.js';

const MAX_SEQ = 0x7fffffff;
const RESPONSE_BIT = 0x80000000;
/** After our half-close, how long the peer has to close its side before the socket is destroyed. */
const END_GRACE_MS = 1000;

/**
 * 'open': connected, not bound (binds go to the owner; other requests get ESME_RINVBNDSTS).
 * 'bound': requests flow both ways. 'closing': an unbind was sent or received, or the stream
 * broke: responses still settle requests in flight, new requests get ESME_RINVBNDSTS.
 */
export type LinkState = 'open' | 'bound' | 'closing' | 'closed';

/** A request of ours: waits in a RequestQueue, then in the link's window until its response. */
export interface LinkRequest {
  command: 'submit_sm' | 'deliver_sm';
  fields: MessageFields;
  resolve: (pdu: SubmitSmResp | DeliverSmResp) => void;
  reject: (err: Error) => void;
  queuedAt: number;
  sentAt: number;
}

/** What paces a link's requests; told how each response came out (see RequestQueue). */
export interface Pacer {
  readonly limiter: Limiter;
}

export interface LinkOptions {
  /** Requests outstanding at most. */
  window: number;
  /** From connect until bound. */
  bindTimeoutMs: number;
  /** How long a request of ours may wait for its response. */
  responseTimeoutMs: number;
  /**
   * When the peer counts as dead. 'enquire': when an enquire_link goes unanswered for
   * enquireTimeoutMs; other requests that time out fail alone (SmppTimeoutError) and the link
   * stays. 'any': when any request (enquire_link included) goes unanswered for
   * responseTimeoutMs; the oldest fails with SmppTimeoutError, the rest with SmppClosedError.
   */
  deadPeer: 'enquire' | 'any';
  enquireIntervalMs: number;
  enquireTimeoutMs: number;
  /** After our unbind_resp to the peer's unbind, how long it has to close first. */
  unbindLingerMs: number;
  /** After our unbind, how long we wait for unbind_resp before closing anyway. */
  unbindWaitMs: number;
  /** Check the peer's requests by the book: addresses and repeated TLVs (see pdu/check.ts). */
  strictRequests: boolean;
  /** Names the link in error messages, e.g. "SMPP session", "partner session". */
  label: string;
}

/** What a link hands to its owner (the client session or the listener's partner session). */
export interface LinkHooks {
  /**
   * A request the link does not answer itself: binds in any state; outbind and
   * alert_notification in any state; anything else only while bound.
   */
  request(link: SmppLink, pdu: Pdu): void;
  /** A response to the bind the link sent (see SmppLink.bind). */
  bindResponse(link: SmppLink, pdu: Pdu): void;
  /** A request from the peer that breaks SMPP; the link already answered it with `r.response`. */
  refused(link: SmppLink, r: RefusedPdu): void;
  /** The stream lost its framing; the link closes once answers already owed have gone out. */
  decodeError(link: SmppLink, err: SmppDecodeError): void;
  /** A window slot came free or the socket drained: queued requests may go out. */
  ready(link: SmppLink): void;
  /** The link left the bound state (unbind either way, or a broken stream): no new requests. */
  unbound(link: SmppLink): void;
  /** An answer handed to answerLater() failed; the link answers with its failStatus. */
  answerFailed(link: SmppLink, pdu: Pdu, err: unknown): void;
  /** The peer answered ESME_RTHROTTLED; the pacer's limiter pauses for `pauseMs`. */
  throttled(link: SmppLink, pauseMs: number): void;
  closed(link: SmppLink, reason: CloseReason): void;
  /** Each response to a request of ours sent at `sentAt` (performance.now()), for owners that time them. */
  latency?: (command: string, sentAt: number) => void;
}

/** The sweep period for timers of these lengths: a fifth of the shortest, 10-250 ms. */
export function tickInterval(...ms: number[]): number {
  return Math.max(10, Math.min(250, Math.min(...ms) / 5));
}

/**
 * One SMPP connection, whichever side opened it: framing (PduReader), sequence numbers, writes
 * that respect the socket's buffer, a window of requests with their timeouts, response
 * handling (throttling included), enquire_link keep-alive and dead-peer detection, unbind both
 * ways, and a typed close reason. What a bind means and what to do with the peer's requests is
 * the owner's (LinkHooks). Timers are driven by tick(), which the owner calls from one sweep.
 */
export class SmppLink {
  readonly socket: Socket;
  readonly openedAt = performance.now();
  private readonly opts: LinkOptions;
  private readonly window: number;
  private readonly hooks: LinkHooks;
  private readonly reader: PduReader;
  private _state: LinkState = 'open';
  private seq = 0;
  private readonly pending = new Map<number, LinkRequest>();
  private needDrain = false;
  /** Paces the requests sent on this link; set when it binds. */
  pacer: Pacer | null = null;

  private bindSeq = -1;
  private enquireSeq = -1;
  private enquireSentAt = 0;
  private lastEnquire = 0;
  private unbindSeq = -1;
  /** Peer requests handed to the owner and not answered yet. */
  private answering = 0;
  private endWhenAnswered = false;
  private closeTimer: NodeJS.Timeout | null = null;
  private ending = false;
  private closeReason: CloseReason | null = null;
  private socketError: Error | null = null;
  private readonly closedPromise: Promise<CloseReason>;
  private resolveClosed: ((r: CloseReason) => void) | null = null;

  private readonly onDrain = (): void => {
    this.needDrain = false;
    this.hooks.ready(this);
  };

  constructor(socket: Socket, opts: LinkOptions, hooks: LinkHooks) {
    this.socket = socket;
    this.opts = opts;
    this.window = opts.window;
    this.hooks = hooks;
    this.closedPromise = new Promise((r) => (this.resolveClosed = r));
    this.reader = new PduReader(
      {
        onPdu: (pdu) => this.onPdu(pdu),
        onRefused: (r) => this.onRefused(r),
        onDecodeError: (err, nack) => this.onDecodeError(err, nack),
      },
      { strict: opts.strictRequests },
    );
    const reader = this.reader;
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', (err: Error) => {
      this.socketError ??= err;
    });
    socket.on('close', () => this.onClose());
    socket.setNoDelay(true);
  }

  get state(): LinkState {
    return this._state;
  }

  /** Requests sent and awaiting their response. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Bound, the window not full and the socket not backed up: send() goes out now. */
  get hasRoom(): boolean {
    return this._state === 'bound' && !this.needDrain && this.pending.size < this.window;
  }

  /** Bytes written but not yet flushed to the kernel. */
  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  get error(): Error | null {
    return this.socketError;
  }

  /** Settles with the close reason once the socket has closed. */
  get closed(): Promise<CloseReason> {
    return this.closedPromise;
  }

  // ---- writing ---------------------------------------------------------------------------

  private nextSeq(): number {
    this.seq = this.seq >= MAX_SEQ ? 1 : this.seq + 1;
    return this.seq;
  }

  /** Writes bytes; notes when the socket buffer is full so hasRoom turns false until 'drain'. */
  write(buf: Buffer): void {
    const socket = this.socket;
    if (this._state === 'closed' || !socket.writable) return;
    if (!socket.write(buf) && !this.needDrain) {
      this.needDrain = true;
      socket.once('drain', this.onDrain);
    }
  }

  /** Answers the peer's request now. */
  respond(pdu: Pdu, opts: Answer = {}): void {
    if (this._state === 'closed') return;
    this.write(this.answerBytes(pdu, opts));
  }

  /**
   * Answers the peer's request with what `run` resolves to; when it fails, the owner hears of it
   * (answerFailed) and the answer carries `failStatus`. A link whose stream broke stays open
   * until such answers are out.
   */
  answerLater(pdu: Pdu, run: Promise<Answer>, failStatus: number): void {
    this.answering++;
    run.then(
      (opts) => this.answered(pdu, opts),
      (err: unknown) => {
        this.hooks.answerFailed(this, pdu, err);
        this.answered(pdu, { command_status: failStatus });
      },
    );
  }

  private answered(pdu: Pdu, opts: Answer): void {
    this.answering--;
    if (this._state === 'closed') return;
    this.write(this.answerBytes(pdu, opts));
    if (this.endWhenAnswered && this.answering === 0) this.end();
  }

  /**
   * The response bytes; an answer whose fields cannot be encoded (an owner's message_id too long)
   * still answers, with ESME_RSYSERR and no body, so the peer is never left waiting.
   */
  private answerBytes(pdu: Pdu, opts: Answer): Buffer {
    try {
      return encodePdu(answerTo(pdu, opts));
    } catch (err) {
      this.hooks.answerFailed(this, pdu, err);
      return encodePdu(answerTo(pdu, { command_status: Status.ESME_RSYSERR }));
    }
  }

  /** Sends a request of ours into the window (the caller checked hasRoom). */
  send(req: LinkRequest): void {
    const seq = this.nextSeq();
    let buf: Buffer;
    try {
      buf = encodeMessageRequest(req.command, req.fields, seq);
    } catch (err) {
      // The fields cannot be encoded: the caller's problem, not the link's.
      req.reject(err instanceof SmppEncodeError ? err : new SmppEncodeError(req.command, err));
      return;
    }
    req.sentAt = performance.now();
    this.pending.set(seq, req);
    this.write(buf);
  }

  /** Batches the writes made until uncork() into one. */
  cork(): void {
    this.socket.cork();
  }

  uncork(): void {
    this.socket.uncork();
  }

  // ---- binding -----------------------------------------------------------------------------

  /** Sends our bind; its response goes to hooks.bindResponse. */
  bind(command: BindCommand, fields: Partial<BindFields>): void {
    this.bindSeq = this.nextSeq();
    this.write(encodeBind(command, fields, this.bindSeq));
  }

  /** The bind succeeded (either side): requests may flow, keep-alive starts. */
  markBound(pacer: Pacer): void {
    if (this._state !== 'open') return;
    this._state = 'bound';
    this.pacer = pacer;
    this.lastEnquire = performance.now();
  }

  // ---- reading -----------------------------------------------------------------------------

  private onPdu(pdu: Pdu): void {
    if (this._state === 'closed') return;
    if (isResponse(pdu)) {
      this.onResponse(pdu);
      return;
    }
    // Commands the engine does not take never get here: the reader refuses them (ESME_RINVCMDID).
    const cmd = pdu.command;
    if (cmd.startsWith('bind_') || cmd === 'outbind' || cmd === 'alert_notification') {
      this.hooks.request(this, pdu);
      return;
    }
    if (cmd === 'unbind' && this._state !== 'open') {
      this.write(headerOnly(CommandId.unbind | RESPONSE_BIT, pdu.sequence_number));
      this.leaveBound();
      // The peer unbound: it closes first (§2.3); we close only if it does not, in a while.
      this.closeAfter(this.opts.unbindLingerMs, { kind: 'unbind-by-peer' });
      return;
    }
    if (this._state !== 'bound') {
      this.respond(pdu, { command_status: Status.ESME_RINVBNDSTS });
      return;
    }
    if (cmd === 'enquire_link') {
      this.write(headerOnly(CommandId.enquire_link | RESPONSE_BIT, pdu.sequence_number));
      return;
    }
    this.hooks.request(this, pdu);
  }

  private onResponse(pdu: Pdu): void {
    const seq = pdu.sequence_number;
    const req = this.pending.get(seq);
    if (req !== undefined) {
      this.pending.delete(seq);
      this.settle(req, pdu);
      this.hooks.ready(this);
      return;
    }
    if (seq === this.bindSeq && this._state === 'open') {
      this.bindSeq = -1;
      this.hooks.bindResponse(this, pdu);
    } else if (seq === this.enquireSeq) {
      this.enquireSeq = -1;
    } else if (seq === this.unbindSeq) {
      this.unbindSeq = -1;
      this.end();
    }
    // Anything else answers a request that already timed out: nothing waits for it.
  }

  private settle(req: LinkRequest, pdu: Pdu): void {
    const status = pdu.command_status;
    const latency = this.hooks.latency;
    if (latency !== undefined) latency(req.command, req.sentAt);
    const limiter = this.pacer?.limiter;
    if (status === 0) {
      limiter?.accepted();
      if (pdu.command === 'submit_sm_resp' || pdu.command === 'deliver_sm_resp') {
        if (pdu.command.startsWith(req.command)) {
          req.resolve(pdu);
          return;
        }
      }
      // A "success" that is not this request's response (a generic_nack with status 0, say).
      req.reject(new SmppStatusError(pdu.command, Status.ESME_RINVCMDID));
      return;
    }
    if (status === Status.ESME_RTHROTTLED && limiter) this.hooks.throttled(this, limiter.throttled());
    req.reject(new SmppStatusError(pdu.command, status));
  }

  /** A framed request that breaks SMPP: answered with its error status, the link carries on. */
  private onRefused(r: RefusedPdu): void {
    if (this._state === 'closed') return;
    if (r.response !== null) this.write(r.response);
    this.hooks.refused(this, r);
  }

  /**
   * The stream lost its framing: nothing after this point can be read. Requests read before it
   * still get their answers, then the link closes (bounded by responseTimeoutMs).
   */
  private onDecodeError(err: SmppDecodeError, nack: Buffer | null): void {
    this.hooks.decodeError(this, err);
    if (nack) this.write(nack);
    this.closeReason ??= { kind: 'decode-error', message: err.message };
    this.leaveBound();
    if (this.answering === 0) {
      this.end();
      return;
    }
    this.endWhenAnswered = true;
    this.closeAfter(this.opts.responseTimeoutMs, this.closeReason);
  }

  // ---- closing -----------------------------------------------------------------------------

  private leaveBound(): void {
    const was = this._state;
    if (was === 'closed' || was === 'closing') return;
    this._state = 'closing';
    if (was === 'bound') this.hooks.unbound(this);
  }

  /** Polite close: unbind, then close on unbind_resp or after unbindWaitMs. */
  unbind(reason: CloseReason): void {
    if (this._state !== 'bound') {
      this.destroy(reason);
      return;
    }
    this.closeReason ??= reason;
    this.leaveBound();
    this.unbindSeq = this.nextSeq();
    this.write(headerOnly(CommandId.unbind, this.unbindSeq));
    this.closeAfter(this.opts.unbindWaitMs, reason);
  }

  /**
   * Leaves the socket open for `ms` so the peer can read what we wrote and close first, then
   * ends it. Closing at once loses the last response in some clients (jSMPP).
   */
  closeAfter(ms: number, reason: CloseReason): void {
    this.closeReason ??= reason;
    this.leaveBound();
    if (this._state === 'closed' || this.closeTimer) return;
    if (ms <= 0) {
      this.end();
      return;
    }
    this.closeTimer = setTimeout(() => this.end(), ms);
    this.closeTimer.unref();
  }

  /** Half-closes after what was written, and destroys if the peer does not close in turn. */
  end(): void {
    if (this._state === 'closed' || this.ending) return;
    this.ending = true;
    this.socket.end();
    const force = setTimeout(() => this.socket.destroy(), END_GRACE_MS);
    force.unref();
    this.socket.once('close', () => clearTimeout(force));
  }

  destroy(reason: CloseReason): void {
    this.closeReason ??= reason;
    this.reader.stop();
    this.socket.destroy();
  }

  private onClose(): void {
    if (this._state === 'closed') return;
    const wasBound = this._state === 'bound';
    this._state = 'closed';
    this.reader.stop();
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    const err = this.socketError;
    const reason: CloseReason =
      this.closeReason ?? (err ? { kind: 'socket-error', message: err.message } : { kind: 'peer-closed' });
    this.closeReason = reason;
    if (this.pending.size > 0) {
      const text = `${this.opts.label} closed (${describeClose(reason)}) before a response`;
      const closedErr = new SmppClosedError(text);
      const pending = [...this.pending.values()];
      this.pending.clear();
      for (const r of pending) r.reject(closedErr);
    }
    if (wasBound) this.hooks.unbound(this);
    this.hooks.closed(this, reason);
    this.resolveClosed?.(reason);
    this.resolveClosed = null;
  }

  // ---- timers ------------------------------------------------------------------------------

  /** Bind timeout, request timeouts, keep-alive and dead-peer detection, at time `now`. */
  tick(now: number): void {
    const state = this._state;
    if (state === 'closed') return;
    const o = this.opts;
    if (state === 'open') {
      if (now - this.openedAt > o.bindTimeoutMs) this.destroy({ kind: 'bind-timeout', ms: o.bindTimeoutMs });
      return;
    }
    if (this.pending.size > 0 && this.expire(now)) return;
    if (state !== 'bound') return;
    if (this.enquireSeq !== -1) {
      if (now - this.enquireSentAt > o.enquireTimeoutMs) {
        this.destroy(
          o.deadPeer === 'enquire'
            ? { kind: 'enquire-timeout', ms: o.enquireTimeoutMs }
            : { kind: 'peer-timeout', ms: o.enquireTimeoutMs },
        );
      }
      return;
    }
    if (now - this.lastEnquire >= o.enquireIntervalMs) {
      this.lastEnquire = now;
      this.enquireSeq = this.nextSeq();
      this.enquireSentAt = now;
      this.write(headerOnly(CommandId.enquire_link, this.enquireSeq));
    }
  }

  /** Fails requests past their timeout; true when that took the link down. */
  private expire(now: number): boolean {
    const ms = this.opts.responseTimeoutMs;
    let expired = false;
    // Insertion order is send order and every request has the same timeout: stop at the first live one.
    for (const [seq, req] of this.pending) {
      if (now - req.sentAt < ms) break;
      this.pending.delete(seq);
      req.reject(new SmppTimeoutError(req.command, ms));
      if (this.opts.deadPeer === 'any') {
        // The seeds' providers drop such sessions without an unbind; so do we.
        this.destroy({ kind: 'peer-timeout', ms });
        return true;
      }
      expired = true;
    }
    if (expired) this.hooks.ready(this);
    return false;
  }
}
