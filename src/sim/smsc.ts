// The simulated carrier SMSC. Built on the `smpp` package's own server and session objects, not on
// src/smpp, so that our client is always exercised against an implementation that is not ours.
import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import smpp, { type PDU, type PduOptions, type Server, type Session } from 'smpp';
import type { Logger } from '../log.js';
import { BindRegistry, type BindEvent, type SimBindType, type SystemBinds } from './binds.js';
import { Faults, faultRequestSchema, type FaultRequest, type FaultSnapshot } from './faults.js';
import { History } from './history.js';
import {
  captureFrames,
  garbageFrame,
  messageIdResp,
  parseSubmitBody,
  readFramesDirect,
  SUBMIT_SM_RESP,
  type RawSubmit,
} from './raw-pdu.js';
import {
  DEFAULT_RECEIPT_POLICY,
  mergeReceiptPolicy,
  outcomeFor,
  wantsReceipt,
  type ReceiptPolicy,
  type ReceiptPolicyInput,
} from './receipts.js';
import { encodeText, formatReceiptText, MESSAGE_STATE, previewText } from './text.js';
import { moRequestSchema, type MoRequest } from './mo.js';

const E = smpp.errors;
const ESME_RINVBNDSTS = E.ESME_RINVBNDSTS ?? 0x04;
const ESME_RALYBND = E.ESME_RALYBND ?? 0x05;
const ESME_RINVPASWD = E.ESME_RINVPASWD ?? 0x0e;
const ESME_RINVSYSID = E.ESME_RINVSYSID ?? 0x0f;
const ESME_RINVCMDID = E.ESME_RINVCMDID ?? 0x03;
const ESME_RINVCMDLEN = E.ESME_RINVCMDLEN ?? 0x02;
const SUBMIT_SM = 0x00000004;

export interface SimUser {
  systemId: string;
  password: string;
}

export interface SmscSimOptions {
  /** Credentials accepted; none configured means any system_id/password binds. */
  users?: SimUser[];
  /** system_id the sim puts in its bind responses. */
  systemId?: string;
  /** Ack-only mode for benchmarks: no history, receipts or faults; minimal work per PDU. */
  sink?: boolean;
  messageIdFormat?: 'decimal' | 'hex';
  messageIdStart?: number;
  receipt?: ReceiptPolicyInput;
  /** Entries kept in each history (messages, deliveries, bind events). */
  historyLimit?: number;
  /** The sim's own enquire_link timer towards bound sessions; 0 = never. */
  enquireLinkIntervalMs?: number;
  /** How long POST /mo waits for the deliver_sm_resp by default. */
  moResponseTimeoutMs?: number;
  /** Receipts waiting for a receiver session of their system_id, beyond which the oldest is dropped. */
  pendingReceiptLimit?: number;
}

export interface SimSessionInfo {
  id: string;
  peer: string;
  systemId?: string;
  bindType?: SimBindType;
  since: string;
  boundAt?: string;
}

export interface SubmitRecord {
  at: string;
  sessionId: string;
  systemId: string;
  sequenceNumber: number;
  /** The message id acked, or null when the submit got an error status, no answer or garbage. */
  messageId: string | null;
  commandStatus: number | null;
  outcome: 'ok' | 'error' | 'throttled' | 'dropped' | 'garbage' | 'invalid';
  delayMs: number;
  serviceType: string;
  source: { ton: number; npi: number; addr: string };
  destination: { ton: number; npi: number; addr: string };
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  registeredDelivery: number;
  dataCoding: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  shortMessageHex: string;
  /** Decoded by the sim's own small decoder for reading convenience; shortMessageHex is the truth. */
  text: string;
  /** TLVs by library name when it knows the tag, else "0x1403"; values as hex. */
  tlvs: Record<string, string>;
  error?: string;
}

export interface DeliveryRecord {
  at: string;
  kind: 'receipt' | 'mo';
  systemId: string;
  sessionId: string | null;
  source: string;
  destination: string;
  esmClass: number;
  dataCoding: number;
  shortMessageHex: string;
  receiptedMessageId?: string;
  stat?: string;
  /** deliver_sm_resp status; null until the peer answered. */
  respStatus: number | null;
  respAt?: string;
}

export interface SimStats {
  connections: number;
  activeSessions: number;
  boundSessions: number;
  binds: number;
  bindFailures: number;
  unbinds: number;
  submits: number;
  submitsAcked: number;
  submitErrors: number;
  enquireLinks: number;
  receiptsSent: number;
  receiptsAcked: number;
  receiptsRejected: number;
  /** Receipts whose deliver_sm had no response when its session closed: queued to send again. */
  receiptsRequeued: number;
  receiptsPending: number;
  moSent: number;
  moAcked: number;
  moRejected: number;
  genericNacks: number;
  decodeErrors: number;
  socketErrors: number;
  faults: {
    throttled: number;
    errors: number;
    dropped: number;
    delayed: number;
    garbage: number;
    disconnects: number;
    refusedBinds: number;
    enquireLinksDropped: number;
  };
}

export interface MoResult {
  sessionId: string;
  systemId: string;
  sequenceNumber: number;
  commandStatus: number;
  messageId: string;
}

export class SimRequestError extends Error {
  readonly httpStatus: number;
  constructor(message: string, httpStatus: number) {
    super(message);
    this.httpStatus = httpStatus;
  }
}

interface LiveSession {
  id: string;
  session: Session;
  peer: string;
  since: Date;
  boundAt?: Date;
  systemId?: string;
  bindType?: SimBindType;
  lastFrame?: () => Buffer | undefined;
  corked: boolean;
  enquireTimer?: NodeJS.Timeout;
  /** Receipts sent on this session that have no deliver_sm_resp yet. */
  unanswered: Set<PendingReceipt>;
}

interface PendingReceipt {
  systemId: string;
  fields: PduOptions;
  record: DeliveryRecord;
  /** Resends so far (receipt policy retryDelayMs / retries). */
  attempt?: number;
}

function zeroStats(): SimStats {
  return {
    connections: 0,
    activeSessions: 0,
    boundSessions: 0,
    binds: 0,
    bindFailures: 0,
    unbinds: 0,
    submits: 0,
    submitsAcked: 0,
    submitErrors: 0,
    enquireLinks: 0,
    receiptsSent: 0,
    receiptsAcked: 0,
    receiptsRejected: 0,
    receiptsRequeued: 0,
    receiptsPending: 0,
    moSent: 0,
    moAcked: 0,
    moRejected: 0,
    genericNacks: 0,
    decodeErrors: 0,
    socketErrors: 0,
    faults: {
      throttled: 0,
      errors: 0,
      dropped: 0,
      delayed: 0,
      garbage: 0,
      disconnects: 0,
      refusedBinds: 0,
      enquireLinksDropped: 0,
    },
  };
}

const BIND_TYPES: Record<string, SimBindType> = {
  bind_transmitter: 'transmitter',
  bind_receiver: 'receiver',
  bind_transceiver: 'transceiver',
};

const TLV_NAMES = new Map<number, string>([
  [0x0005, 'dest_addr_subunit'],
  [0x000d, 'source_addr_subunit'],
  [0x001e, 'receipted_message_id'],
  [0x0204, 'user_message_reference'],
  [0x020a, 'source_port'],
  [0x020b, 'dest_port'],
  [0x020c, 'sar_msg_ref_num'],
  [0x020e, 'sar_total_segments'],
  [0x020f, 'sar_segment_seqnum'],
  [0x0424, 'message_payload'],
  [0x0427, 'message_state'],
  [0x0423, 'network_error_code'],
  [0x0019, 'payload_type'],
  [0x0201, 'privacy_indicator'],
  [0x0030, 'ms_msg_wait_facilities'],
  [0x0017, 'qos_time_to_live'],
]);

function str(v: unknown): string {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('latin1') : '';
}

/** Constant-time password check: digests have equal length whatever the inputs are. */
function safeEqual(a: string, b: string): boolean {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

/**
 * Events: 'submit' (SubmitRecord), 'bind' (BindEvent), 'delivery' (DeliveryRecord). Not emitted in
 * sink mode.
 */
export class SmscSim extends EventEmitter {
  readonly sink: boolean;
  private readonly server: Server;
  private readonly sessions = new Map<string, LiveSession>();
  private readonly registry = new BindRegistry();
  private readonly faultState = new Faults();
  private readonly submitsHistory: History<SubmitRecord>;
  private readonly deliveriesHistory: History<DeliveryRecord>;
  private readonly bindEvents: History<BindEvent>;
  private readonly timers = new Set<NodeJS.Timeout>();
  private pendingReceipts: PendingReceipt[] = [];
  private receiptPolicy: ReceiptPolicy;
  private counters = zeroStats();
  private sessionSeq = 0;
  private idCounter: number;
  private readonly idHex: boolean;
  private rxCursor = 0;
  private waiters: { target: number; resolve: () => void; reject: (err: Error) => void }[] = [];
  private closed = false;

  private readonly opts: SmscSimOptions;
  private readonly log: Logger;

  // No parameter properties: benchmarks run these sources under Node's plain type stripping.
  constructor(opts: SmscSimOptions, log: Logger) {
    super();
    this.opts = opts;
    this.log = log;
    this.sink = opts.sink === true;
    const limit = opts.historyLimit ?? 10_000;
    this.submitsHistory = new History(limit);
    this.deliveriesHistory = new History(limit);
    this.bindEvents = new History(limit);
    this.receiptPolicy = mergeReceiptPolicy(DEFAULT_RECEIPT_POLICY, opts.receipt ?? {});
    this.idHex = opts.messageIdFormat === 'hex';
    // A start far from 1 keeps carrier ids visibly different from the core's own small ids.
    this.idCounter = opts.messageIdStart ?? 100_000_000 + Math.floor(Math.random() * 100_000_000);
    this.server = smpp.createServer((session) => this.onSession(session));
    this.server.on('error', (err) => this.log.error({ err }, 'smpp server error'));
  }

  async listen(host: string, port: number): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: unknown): void => reject(err instanceof Error ? err : new Error(String(err)));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sessions.values()) s.session.destroy();
    await closing;
    for (const w of this.waiters) w.reject(new Error('smsc-sim closed before the awaited submit_sm arrived'));
    this.waiters = [];
  }

  // ---- sessions -------------------------------------------------------------------------------

  private onSession(session: Session): void {
    const socket = session.socket;
    const s: LiveSession = {
      id: `s${++this.sessionSeq}`,
      session,
      peer: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
      since: new Date(),
      corked: false,
      unanswered: new Set(),
    };
    this.counters.connections++;
    this.counters.activeSessions++;
    this.sessions.set(s.id, s);
    socket.setNoDelay(true);
    const onBadLength = (length: number): void => this.onBadFrame(s, length);
    if (this.sink)
      readFramesDirect(socket, {
        maxLength: smpp.PDU.maxLength,
        onBadLength,
        onFrame: (f) => this.sinkFrame(s, f),
      });
    else s.lastFrame = captureFrames(socket, { keep: true, maxLength: smpp.PDU.maxLength, onBadLength });
    session.on('pdu', (pdu: PDU) => {
      try {
        this.onPdu(s, pdu);
      } catch (err) {
        // Peer input must never take the process down: count it and drop that session only.
        this.counters.decodeErrors++;
        this.log.warn({ err, session: s.id, systemId: s.systemId }, 'failed to handle PDU; closing session');
        session.destroy();
      }
    });
    session.on('error', (err: Error & { syscall?: string }) => {
      if (err.syscall) this.counters.socketErrors++;
      else this.counters.decodeErrors++;
      this.log.warn({ err, session: s.id, systemId: s.systemId }, 'session error; closing');
      session.destroy();
    });
    session.on('close', () => this.onClose(s));
    this.log.debug({ session: s.id, peer: s.peer }, 'connection accepted');
  }

  private onBadFrame(s: LiveSession, length: number): void {
    this.counters.decodeErrors++;
    this.log.warn({ session: s.id, systemId: s.systemId, length }, 'invalid command_length; closing session');
    s.session.destroy();
  }

  private onClose(s: LiveSession): void {
    if (!this.sessions.delete(s.id)) return;
    this.counters.activeSessions--;
    if (s.enquireTimer) clearInterval(s.enquireTimer);
    if (s.systemId !== undefined && s.bindType) {
      this.counters.boundSessions--;
      this.registry.released(s.systemId, s.bindType);
      this.recordBind(s, 'closed');
    }
    // As an SMSC does: a receipt the ESME never answered is not delivered; it goes again on the
    // next receiver session of the system_id (at once if one is bound).
    if (s.unanswered.size > 0) {
      const again = [...s.unanswered];
      s.unanswered.clear();
      this.counters.receiptsRequeued += again.length;
      for (const p of again) this.sendReceipt({ ...p, record: { ...p.record, respStatus: null } });
    }
    this.log.debug({ session: s.id, systemId: s.systemId }, 'connection closed');
  }

  private recordBind(s: LiveSession, event: BindEvent['event'], status?: number, reason?: string): void {
    const e: BindEvent = {
      at: new Date().toISOString(),
      systemId: s.systemId ?? '',
      bindType: s.bindType ?? 'transceiver',
      sessionId: s.id,
      peer: s.peer,
      event,
      ...(status !== undefined ? { status } : {}),
      ...(reason !== undefined ? { reason } : {}),
    };
    this.bindEvents.push(e);
    this.emit('bind', e);
  }

  private onPdu(s: LiveSession, pdu: PDU): void {
    if (pdu.isResponse()) {
      if (pdu.command === 'generic_nack') this.counters.genericNacks++;
      return; // deliver_sm_resp / enquire_link_resp: the library hands them to the send callbacks
    }
    const cmd = pdu.command;
    if (cmd === 'submit_sm') return this.sink ? this.sinkSubmit(s, pdu) : this.onSubmit(s, pdu);
    if (cmd === 'enquire_link') {
      this.counters.enquireLinks++;
      if (this.faultState.dropEnquireLink && !this.sink) {
        this.counters.faults.enquireLinksDropped++;
        return;
      }
      s.session.send(pdu.response());
      return;
    }
    const bindType = BIND_TYPES[cmd];
    if (bindType) return this.onBind(s, pdu, bindType);
    if (cmd === 'unbind') {
      this.counters.unbinds++;
      if (s.systemId !== undefined) this.recordBind(s, 'unbound');
      s.session.send(pdu.response(), () => s.session.close());
      return;
    }
    if (cmd === 'unknown') {
      s.session.send(pdu.response()); // generic_nack ESME_RINVCMDID
      return;
    }
    if (s.systemId === undefined) {
      s.session.send(this.errorResponse(pdu, ESME_RINVBNDSTS));
      return;
    }
    s.session.send(this.errorResponse(pdu, ESME_RINVCMDID));
  }

  private errorResponse(pdu: PDU, status: number): PDU {
    try {
      return pdu.response({ command_status: status });
    } catch {
      // Commands without a *_resp (outbind, alert_notification) get a generic_nack.
      return new smpp.PDU('generic_nack', { command_status: status, sequence_number: pdu.sequence_number });
    }
  }

  private onBind(s: LiveSession, pdu: PDU, bindType: SimBindType): void {
    const systemId = str(pdu.system_id);
    const reply = (status: number): void => {
      s.session.send(
        pdu.response(
          status === 0 ? { system_id: this.opts.systemId ?? 'smscsim' } : { command_status: status },
        ),
      );
    };
    if (s.systemId !== undefined) {
      reply(ESME_RALYBND);
      return;
    }
    let status = 0;
    let reason = '';
    if (this.faultState.refuseBinds && !this.sink) {
      status = this.faultState.refuseBinds;
      reason = 'refused by fault injection';
      this.counters.faults.refusedBinds++;
    } else if (this.opts.users && this.opts.users.length > 0) {
      const user = this.opts.users.find((u) => u.systemId === systemId);
      if (!user) {
        status = ESME_RINVSYSID;
        reason = 'unknown system_id';
      } else if (!safeEqual(user.password, str(pdu.password))) {
        status = ESME_RINVPASWD;
        reason = 'wrong password';
      }
    }
    if (status !== 0) {
      this.counters.bindFailures++;
      this.registry.rejected(systemId);
      const probe: LiveSession = { ...s, systemId, bindType };
      this.recordBind(probe, 'rejected', status, reason);
      this.log.info({ session: s.id, systemId, bindType, status, reason }, 'bind rejected');
      reply(status);
      // Carriers usually hang up after a failed bind; the client must cope with both at once.
      const t = setTimeout(() => {
        this.timers.delete(t);
        s.session.close();
      }, 50);
      this.timers.add(t);
      return;
    }
    s.systemId = systemId;
    s.bindType = bindType;
    s.boundAt = new Date();
    this.counters.binds++;
    this.counters.boundSessions++;
    this.registry.bound(systemId, bindType);
    this.recordBind(s, 'bound');
    this.log.info({ session: s.id, systemId, bindType, peer: s.peer }, 'bound');
    reply(0);
    const every = this.opts.enquireLinkIntervalMs ?? 0;
    if (every > 0) s.enquireTimer = setInterval(() => s.session.enquire_link(), every);
    if (bindType !== 'transmitter') this.flushPendingReceipts(systemId);
  }

  // ---- submit_sm ------------------------------------------------------------------------------

  private nextMessageId(): string {
    const n = this.idCounter++;
    return this.idHex ? n.toString(16).toUpperCase().padStart(8, '0') : String(n);
  }

  /**
   * Sink mode: a bound submit_sm is counted and acked from its header alone, responses written in
   * one batch per read burst; every other PDU goes through the library's decoder as usual.
   */
  private sinkFrame(s: LiveSession, frame: Buffer): void {
    const commandId = frame.readUInt32BE(4);
    if (commandId === SUBMIT_SM && s.systemId !== undefined && s.bindType !== 'receiver') {
      this.counters.submits++;
      this.counters.submitsAcked++;
      this.writeBatched(s, messageIdResp(SUBMIT_SM_RESP, frame.readUInt32BE(12), 0, this.nextMessageId()));
      if (this.waiters.length > 0) this.checkWaiters();
      return;
    }
    let pdu: PDU;
    try {
      pdu = new smpp.PDU(Buffer.from(frame));
    } catch (err) {
      this.counters.decodeErrors++;
      this.log.warn({ err, session: s.id }, 'undecodable PDU; closing session');
      s.session.destroy();
      return;
    }
    s.session.emit('pdu', pdu);
  }

  /** Sink mode, a submit_sm that is not on a bound transmitter/transceiver. */
  private sinkSubmit(s: LiveSession, pdu: PDU): void {
    this.counters.submits++;
    this.counters.submitErrors++;
    this.writeBatched(s, messageIdResp(SUBMIT_SM_RESP, pdu.sequence_number, ESME_RINVBNDSTS, ''));
  }

  private writeBatched(s: LiveSession, buf: Buffer): void {
    const socket = s.session.socket;
    if (!s.corked) {
      s.corked = true;
      socket.cork();
      process.nextTick(() => {
        s.corked = false;
        socket.uncork();
      });
    }
    socket.write(buf);
  }

  private onSubmit(s: LiveSession, pdu: PDU): void {
    this.counters.submits++;
    if (s.systemId === undefined || s.bindType === 'receiver') {
      this.counters.submitErrors++;
      s.session.send(pdu.response({ command_status: ESME_RINVBNDSTS }));
      return;
    }
    const frame = s.lastFrame?.();
    let raw: RawSubmit | undefined;
    let parseError: string | undefined;
    try {
      if (!frame || frame.readUInt32BE(12) !== pdu.sequence_number)
        throw new Error('raw octets not captured');
      raw = parseSubmitBody(frame);
    } catch (err) {
      parseError = err instanceof Error ? err.message : String(err);
    }
    const record = this.submitRecord(s, pdu, raw);
    if (!raw) {
      this.counters.submitErrors++;
      this.counters.decodeErrors++;
      record.outcome = 'invalid';
      record.commandStatus = ESME_RINVCMDLEN;
      record.error = parseError;
      this.log.warn({ session: s.id, systemId: s.systemId, error: parseError }, 'undecodable submit_sm');
      this.finishSubmit(record);
      s.session.send(pdu.response({ command_status: ESME_RINVCMDLEN }));
      return;
    }
    const verdict = this.faultState.nextSubmit();
    const delay = this.faultState.delayMs;
    record.delayMs = delay;
    let respond: (() => void) | undefined;
    switch (verdict.kind) {
      case 'drop':
        this.counters.faults.dropped++;
        record.outcome = 'dropped';
        break;
      case 'garbage':
        this.counters.faults.garbage++;
        record.outcome = 'garbage';
        respond = () => s.session.socket.write(garbageFrame());
        break;
      case 'status':
        this.counters.submitErrors++;
        if (verdict.fault === 'throttle') this.counters.faults.throttled++;
        else this.counters.faults.errors++;
        record.outcome = verdict.fault === 'throttle' ? 'throttled' : 'error';
        record.commandStatus = verdict.status;
        respond = () => s.session.send(pdu.response({ command_status: verdict.status }));
        break;
      case 'ok': {
        const id = this.nextMessageId();
        this.counters.submitsAcked++;
        record.outcome = 'ok';
        record.messageId = id;
        record.commandStatus = 0;
        respond = () => s.session.send(pdu.response({ message_id: id }));
        this.scheduleReceipt(s.systemId, id, raw, record.text);
        break;
      }
    }
    this.finishSubmit(record);
    if (!respond) return;
    if (delay > 0) {
      this.counters.faults.delayed++;
      const t = setTimeout(() => {
        this.timers.delete(t);
        if (!s.session.socket.destroyed) respond();
      }, delay);
      this.timers.add(t);
    } else respond();
  }

  private submitRecord(s: LiveSession, pdu: PDU, raw: RawSubmit | undefined): SubmitRecord {
    const tlvs: Record<string, string> = {};
    for (const t of raw?.tlvs ?? []) {
      tlvs[TLV_NAMES.get(t.tag) ?? `0x${t.tag.toString(16).padStart(4, '0')}`] = t.value.toString('hex');
    }
    const udhi = ((raw?.esmClass ?? 0) & 0x40) !== 0;
    const body = raw
      ? raw.shortMessage.length > 0
        ? raw.shortMessage
        : (raw.tlvs.find((t) => t.tag === 0x0424)?.value ?? raw.shortMessage)
      : Buffer.alloc(0);
    return {
      at: new Date().toISOString(),
      sessionId: s.id,
      systemId: s.systemId ?? '',
      sequenceNumber: pdu.sequence_number,
      messageId: null,
      commandStatus: null,
      outcome: 'invalid',
      delayMs: 0,
      serviceType: raw?.serviceType ?? '',
      source: raw?.source ?? { ton: 0, npi: 0, addr: '' },
      destination: raw?.destination ?? { ton: 0, npi: 0, addr: '' },
      esmClass: raw?.esmClass ?? 0,
      protocolId: raw?.protocolId ?? 0,
      priorityFlag: raw?.priorityFlag ?? 0,
      registeredDelivery: raw?.registeredDelivery ?? 0,
      dataCoding: raw?.dataCoding ?? 0,
      scheduleDeliveryTime: raw?.scheduleDeliveryTime ?? '',
      validityPeriod: raw?.validityPeriod ?? '',
      shortMessageHex: raw?.shortMessage.toString('hex') ?? '',
      text: raw ? previewText(body, raw.dataCoding, udhi) : '',
      tlvs,
    };
  }

  private finishSubmit(record: SubmitRecord): void {
    const entry = this.submitsHistory.push(record);
    this.emit('submit', entry);
    if (this.waiters.length > 0) this.checkWaiters();
  }

  private checkWaiters(): void {
    const n = this.counters.submits;
    this.waiters = this.waiters.filter((w) => {
      if (n < w.target) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `count` submit_sm have arrived in total (since start or the last reset). */
  waitForSubmits(count: number, timeoutMs: number): Promise<void> {
    if (this.counters.submits >= count) return Promise.resolve();
    if (this.closed) return Promise.reject(new Error('smsc-sim is closed'));
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`timed out after ${timeoutMs} ms with ${this.counters.submits}/${count} submit_sm`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(t);
        resolve();
      };
      const fail = (err: Error): void => {
        clearTimeout(t);
        reject(err);
      };
      this.waiters.push({ target: count, resolve: done, reject: fail });
    });
  }

  // ---- receipts and MO ------------------------------------------------------------------------

  private scheduleReceipt(systemId: string, messageId: string, raw: RawSubmit, text: string): void {
    const { stat, err } = outcomeFor(this.receiptPolicy, raw.destination.addr);
    if (!wantsReceipt(raw.registeredDelivery, stat)) return;
    const submitted = new Date();
    const fire = (): void => {
      const done = new Date();
      const body = Buffer.from(formatReceiptText({ messageId, stat, err, submitted, done, text }), 'latin1');
      const fields: PduOptions = {
        source_addr_ton: raw.destination.ton,
        source_addr_npi: raw.destination.npi,
        source_addr: raw.destination.addr,
        dest_addr_ton: raw.source.ton,
        dest_addr_npi: raw.source.npi,
        destination_addr: raw.source.addr,
        esm_class: 0x04,
        data_coding: 0,
        short_message: body,
        receipted_message_id: messageId,
        message_state: MESSAGE_STATE[stat],
      };
      if (err !== '000') {
        // network_error_code: type 3 (GSM) and the two-octet error code.
        const code = Buffer.alloc(3);
        code[0] = 3;
        code.writeUInt16BE(Number(err) & 0xffff, 1);
        fields.network_error_code = code;
      }
      const record: DeliveryRecord = {
        at: done.toISOString(),
        kind: 'receipt',
        systemId,
        sessionId: null,
        source: raw.destination.addr,
        destination: raw.source.addr,
        esmClass: 0x04,
        dataCoding: 0,
        shortMessageHex: body.toString('hex'),
        receiptedMessageId: messageId,
        stat,
        respStatus: null,
      };
      this.sendReceipt({ systemId, fields, record });
    };
    const delay = this.receiptPolicy.delayMs;
    const t = setTimeout(() => {
      this.timers.delete(t);
      fire();
    }, delay);
    this.timers.add(t);
  }

  private receiverFor(systemId: string | undefined): LiveSession | undefined {
    const candidates = [...this.sessions.values()].filter(
      (s) =>
        s.bindType !== undefined &&
        s.bindType !== 'transmitter' &&
        (systemId === undefined || s.systemId === systemId) &&
        !s.session.socket.destroyed,
    );
    if (candidates.length === 0) return undefined;
    return candidates[this.rxCursor++ % candidates.length];
  }

  private sendReceipt(p: PendingReceipt): void {
    const s = this.receiverFor(p.systemId);
    if (!s) {
      this.pendingReceipts.push(p);
      const limit = this.opts.pendingReceiptLimit ?? 10_000;
      if (this.pendingReceipts.length > limit) {
        const lost = this.pendingReceipts.shift();
        this.log.warn({ systemId: lost?.systemId }, 'pending receipt queue full; oldest receipt dropped');
      }
      this.counters.receiptsPending = this.pendingReceipts.length;
      return;
    }
    p.record.sessionId = s.id;
    p.record.at = new Date().toISOString();
    const entry = this.deliveriesHistory.push(p.record);
    this.counters.receiptsSent++;
    s.unanswered.add(p);
    s.session.deliver_sm(p.fields, (resp: PDU) => {
      s.unanswered.delete(p);
      entry.respStatus = resp.command_status;
      entry.respAt = new Date().toISOString();
      if (resp.command_status === 0) this.counters.receiptsAcked++;
      else {
        this.counters.receiptsRejected++;
        const { retryDelayMs, retries } = this.receiptPolicy;
        const attempt = (p.attempt ?? 0) + 1;
        if (retryDelayMs > 0 && attempt <= retries) {
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.sendReceipt({ ...p, record: { ...p.record, respStatus: null }, attempt });
          }, retryDelayMs);
          this.timers.add(t);
        }
      }
      this.emit('delivery', entry);
    });
  }

  private flushPendingReceipts(systemId: string): void {
    const mine = this.pendingReceipts.filter((p) => p.systemId === systemId);
    if (mine.length === 0) return;
    this.pendingReceipts = this.pendingReceipts.filter((p) => p.systemId !== systemId);
    this.counters.receiptsPending = this.pendingReceipts.length;
    for (const p of mine) this.sendReceipt(p);
  }

  /** Sends an MO deliver_sm to a bound receiver/transceiver and waits for its response. */
  async sendMo(input: MoRequest): Promise<MoResult> {
    const parsed = moRequestSchema.safeParse(input);
    if (!parsed.success)
      throw new SimRequestError(
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        400,
      );
    const req = parsed.data;
    let body: Buffer;
    try {
      body = req.hex !== undefined ? Buffer.from(req.hex, 'hex') : encodeText(req.text ?? '', req.dataCoding);
    } catch (err) {
      throw new SimRequestError(err instanceof Error ? err.message : String(err), 400);
    }
    const s = this.receiverFor(req.systemId);
    if (!s || s.systemId === undefined)
      throw new SimRequestError(
        `no receiver or transceiver session bound${req.systemId !== undefined ? ` for ${req.systemId}` : ''}`,
        409,
      );
    const usePayload = req.payload || body.length > 254;
    const fields: PduOptions = {
      service_type: req.serviceType,
      source_addr_ton: req.sourceTon,
      source_addr_npi: req.sourceNpi,
      source_addr: req.source,
      dest_addr_ton: req.destTon,
      dest_addr_npi: req.destNpi,
      destination_addr: req.destination,
      esm_class: req.esmClass,
      data_coding: req.dataCoding,
      short_message: usePayload ? Buffer.alloc(0) : body,
    };
    if (usePayload) fields.message_payload = body;
    if (req.sar) {
      fields.sar_msg_ref_num = req.sar.reference;
      fields.sar_total_segments = req.sar.total;
      fields.sar_segment_seqnum = req.sar.part;
    }
    const entry = this.deliveriesHistory.push({
      at: new Date().toISOString(),
      kind: 'mo',
      systemId: s.systemId,
      sessionId: s.id,
      source: req.source,
      destination: req.destination,
      esmClass: req.esmClass,
      dataCoding: req.dataCoding,
      shortMessageHex: body.toString('hex'),
      respStatus: null,
    });
    this.counters.moSent++;
    const pdu = new smpp.PDU('deliver_sm', fields);
    const timeoutMs = req.timeoutMs ?? this.opts.moResponseTimeoutMs ?? 10_000;
    const resp = await new Promise<PDU>((resolve, reject) => {
      // Not in this.timers: a reset must not leave this request hanging; a close ends it via onClose.
      const t = setTimeout(() => {
        s.session.socket.off('close', onClose);
        reject(new SimRequestError(`no deliver_sm_resp within ${timeoutMs} ms`, 504));
      }, timeoutMs);
      const onClose = (): void => {
        clearTimeout(t);
        reject(new SimRequestError('session closed before deliver_sm_resp', 502));
      };
      s.session.socket.once('close', onClose);
      const sent = s.session.send(pdu, (r: PDU) => {
        clearTimeout(t);
        s.session.socket.off('close', onClose);
        resolve(r);
      });
      if (!sent) onClose();
    });
    entry.respStatus = resp.command_status;
    entry.respAt = new Date().toISOString();
    if (resp.command_status === 0) this.counters.moAcked++;
    else this.counters.moRejected++;
    this.emit('delivery', entry);
    return {
      sessionId: s.id,
      systemId: s.systemId,
      sequenceNumber: pdu.sequence_number,
      commandStatus: resp.command_status,
      messageId: str(resp.message_id),
    };
  }

  // ---- control --------------------------------------------------------------------------------

  applyFaults(input: FaultRequest): FaultSnapshot {
    const parsed = faultRequestSchema.safeParse(input);
    if (!parsed.success)
      throw new SimRequestError(
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        400,
      );
    const now = this.faultState.apply(parsed.data);
    this.log.info({ faults: parsed.data }, 'faults applied');
    if (now.garbageNow) {
      for (const s of this.sessions.values()) {
        this.counters.faults.garbage++;
        s.session.socket.write(garbageFrame());
      }
    }
    if (now.disconnect) this.disconnectAll();
    return this.faultState.snapshot();
  }

  faults(): FaultSnapshot {
    return this.faultState.snapshot();
  }

  setReceiptPolicy(input: ReceiptPolicyInput): ReceiptPolicy {
    try {
      this.receiptPolicy = mergeReceiptPolicy(this.receiptPolicy, input);
    } catch (err) {
      throw new SimRequestError(err instanceof Error ? err.message : String(err), 400);
    }
    return this.receipts();
  }

  receipts(): ReceiptPolicy {
    return { ...this.receiptPolicy, byDestination: { ...this.receiptPolicy.byDestination } };
  }

  /**
   * Drops connections at once, as a carrier restart would: all of them, or only those bound as
   * `systemId`. Returns how many were closed.
   */
  disconnectAll(systemId?: string): number {
    const victims = [...this.sessions.values()].filter(
      (s) => systemId === undefined || s.systemId === systemId,
    );
    this.counters.faults.disconnects += victims.length;
    for (const s of victims) s.session.destroy();
    if (victims.length > 0) this.log.info({ sessions: victims.length, systemId }, 'disconnected sessions');
    return victims.length;
  }

  /** Clears history, counters, faults and pending receipts; live sessions stay. */
  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.faultState.clear();
    this.submitsHistory.clear();
    this.deliveriesHistory.clear();
    this.bindEvents.clear();
    this.pendingReceipts = [];
    this.registry.reset();
    const live = this.sessions.size;
    const bound = [...this.sessions.values()].filter((s) => s.systemId !== undefined).length;
    this.counters = zeroStats();
    this.counters.activeSessions = live;
    this.counters.boundSessions = bound;
  }

  stats(): SimStats {
    return { ...this.counters, faults: { ...this.counters.faults } };
  }

  sessionList(): SimSessionInfo[] {
    return [...this.sessions.values()].map((s) => ({
      id: s.id,
      peer: s.peer,
      since: s.since.toISOString(),
      ...(s.systemId !== undefined ? { systemId: s.systemId } : {}),
      ...(s.bindType ? { bindType: s.bindType } : {}),
      ...(s.boundAt ? { boundAt: s.boundAt.toISOString() } : {}),
    }));
  }

  binds(): { systems: SystemBinds[]; sessions: SimSessionInfo[]; events: (BindEvent & { seq: number })[] } {
    return { systems: this.registry.list(), sessions: this.sessionList(), events: this.bindEvents.since(0) };
  }

  messages(
    since = 0,
    limit = 1000,
    systemId?: string,
  ): { messages: (SubmitRecord & { seq: number })[]; last: number } {
    const filter = systemId === undefined ? undefined : (m: SubmitRecord): boolean => m.systemId === systemId;
    return { messages: this.submitsHistory.since(since, limit, filter), last: this.submitsHistory.last };
  }

  deliveries(since = 0, limit = 1000): { deliveries: (DeliveryRecord & { seq: number })[]; last: number } {
    return { deliveries: this.deliveriesHistory.since(since, limit), last: this.deliveriesHistory.last };
  }
}
