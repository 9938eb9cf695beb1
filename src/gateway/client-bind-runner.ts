/**
 * One SmppClientBind: owns its ClientSession to the carrier, runs the MT loop through it
 * (transmitter / transceiver), and turns the carrier's deliver_sm into MO messages and receipt
 * updates (receiver / transceiver). Status and metrics follow every session event.
 */
import type { SubmitFields } from '../smpp/pdu/message.js';
import type { Pdu } from '../smpp/pdu/pdu.js';
import { parseDuration } from '../api/index.js';
import type { CoreClient, CoreMessage } from '../core/index.js';
import { CoreError } from '../core/index.js';
import type { Logger } from '../log.js';
import {
  makeBindLabels,
  zeroBindCounters,
  type BindLabels,
  type HotCounter,
  type HotGauge,
  type Metrics,
} from '../metrics.js';
import { ClientSession, type ClientSessionOptions, type InboundResult } from '../smpp/client-session.js';
import { SmppStatusError, Status } from '../smpp/errors.js';
import { Accounting } from './accounting.js';
import { classify, failedDecision, type Failure } from './failure.js';
import { ReceiptStoreUnavailable, type CarrierIdRecord, type ReceiptStore } from '../receipt-store/types.js';
import type { CorePolls } from './core-polls.js';
import { MtPump, type Decision } from './mt-pump.js';
import {
  encodeCore,
  inboundMessage,
  partFields,
  pduIsReceipt,
  pduReceipt,
  type MessageRequest,
} from './pdu-mapping.js';
import type { Reporter } from './reporter.js';
import { sameStatus, type BindRuntimeStatus, type InFlightIds, type ResolvedClientBind } from './types.js';

/** deliver_sm_resp when the core cannot take an MO now: the SMSC keeps it and retries. */
const MO_TEMPORARY_ERROR = Status.ESME_RX_T_APPN;
/** deliver_sm_resp for an MO that can never be accepted (undecodable, rejected by the core). */
const MO_PERMANENT_ERROR = 0x65; // ESME_RX_P_APPN

/** In-session retries of long-message parts refused for a passing reason, and the pause before the first. */
const PART_RETRIES = 2;
const PART_RETRY_DELAY_MS = 250;

/** Bind responses that mean our configuration is wrong: retrying without a change will not help. */
const CONFIG_ERRORS: ReadonlySet<number> = new Set([
  Status.ESME_RINVPASWD,
  Status.ESME_RINVSYSID,
  Status.ESME_RBINDFAIL,
]);

export interface ClientBindRunnerDeps {
  bind: ResolvedClientBind;
  core: CoreClient;
  metrics: Metrics;
  log: Logger;
  /** Carrier id → core id, shared by every bind of this smscName (and every pod, on Redis). */
  receiptStore: ReceiptStore;
  reporter: Reporter;
  /** Gateway-wide accounting; this bind's counts roll up into it. */
  accounting: Accounting;
  inFlightIds: InFlightIds;
  /** the Gateway's shared core polls (one per smscName per interval); default: the pump's own */
  corePolls?: CorePolls;
  /** Poll interval when spec.queueCheckInterval is unset (SMPP_POLL_INTERVAL). */
  defaultPollIntervalMs: number;
  /** Reference numbers for concatenated messages, shared so binds do not reuse each other's. */
  nextReference: () => number;
  onStatus: (s: BindRuntimeStatus) => void;
  /** Extra ClientSession options (tests: short timeouts). */
  sessionOverrides?: Partial<ClientSessionOptions>;
}

export class ClientBindRunner {
  readonly key: string;
  readonly bind: ResolvedClientBind;
  readonly labels: BindLabels;
  readonly acct: Accounting;
  private readonly d: ClientBindRunnerDeps;
  private readonly log: Logger;
  private readonly smscName: string;
  /** Where this bind's carrier ids are kept: namespace/smscName. */
  private readonly scope: string;
  private session: ClientSession | null = null;
  private pump: MtPump | null = null;
  private current: BindRuntimeStatus = { phase: 'Pending' };
  private everBound = false;
  private stopping: Promise<void> | null = null;
  private untrackUptime: (() => void) | null = null;
  private readonly sentCounter: HotCounter;
  private readonly inflight: HotGauge;
  /** Receipts whose message id matched nothing we sent. */
  unmatchedReceipts = 0;
  /** How long a receipt waits for our own "sent" report (less than the SMSC's response timeout). */
  private readonly receiptWaitMs = 5000;

  constructor(deps: ClientBindRunnerDeps) {
    this.d = deps;
    this.bind = deps.bind;
    this.key = `${deps.bind.namespace}/${deps.bind.name}`;
    this.smscName = deps.bind.spec.smscName;
    this.scope = `${deps.bind.namespace}/${deps.bind.spec.smscName}`;
    this.log = deps.log;
    this.acct = new Accounting(deps.accounting);
    const s = deps.bind.spec;
    this.labels = makeBindLabels({
      namespace: deps.bind.namespace,
      name: deps.bind.name,
      mode: 'client',
      systemId: s.systemId,
      host: s.host,
      port: s.port,
      bindType: s.bindType,
    });
    this.sentCounter = deps.metrics.hotCounter(deps.metrics.messagesSent, this.labels);
    this.inflight = deps.metrics.hotGauge(deps.metrics.inflightMessages, this.labels);
  }

  status(): BindRuntimeStatus {
    return this.current;
  }

  get inFlight(): number {
    return this.pump?.inFlight ?? 0;
  }

  start(): void {
    const s = this.bind.spec;
    const m = this.d.metrics;
    m.connectionStatus.labels(this.labels).set(0);
    this.inflight.set(0);
    zeroBindCounters(m, this.labels);
    this.untrackUptime = m.trackUptime(this.labels, () => this.current.boundSince);
    if (s.suspend) {
      this.setStatus({ phase: 'Suspended' });
      this.log.info('bind suspended; not connecting');
      return;
    }
    const session = new ClientSession(this.sessionOptions(), this.log);
    this.session = session;
    this.wire(session);
    session.setInboundHandler((pdu) => this.onInbound(pdu));
    if (s.bindType !== 'receiver') {
      const interval = s.queueCheckInterval ?? this.d.defaultPollIntervalMs;
      const tps = s.tpsLimit > 0 ? s.tpsLimit : 0;
      // Enough messages in hand to keep the window full between polls, never unbounded.
      const batch = Math.min(
        10_000,
        tps > 0 ? Math.max(2 * s.window, Math.ceil((2 * tps * interval) / 1000)) : Math.max(4 * s.window, 32),
      );
      // With a backlog in the core: up to ten seconds of sending at the TPS limit, or 10,000.
      const maxBatch = tps > 0 ? Math.min(10_000, Math.max(batch, tps * 10)) : 10_000;
      this.pump = new MtPump({
        smscName: this.smscName,
        intervalMs: interval,
        batch,
        maxBatch,
        core: this.d.core,
        reporter: this.d.reporter,
        acct: this.acct,
        inFlightIds: this.d.inFlightIds,
        ...(this.d.corePolls ? { polls: this.d.corePolls } : {}),
        log: this.log,
        canPoll: () => session.state === 'bound',
        deliver: (msg) => this.submit(session, msg),
        onDecision: (dec) => this.countDecision(dec),
        onInFlight: (n) => this.inflight.set(n),
      });
      this.pump.start();
    }
    this.setStatus({ phase: 'Connecting' });
    session.start();
  }

  /**
   * Stops polling, unbinds (messages still queued for the window are released;
   * those awaiting a response get it or are returned when the session closes), and resolves
   * once every message this bind took has been decided. Reports may still be in flight: the
   * gateway drains the reporter.
   */
  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.pump?.stop();
    if (this.session) await this.session.stop();
    const m = this.d.metrics;
    m.connectionStatus.labels(this.labels).set(0);
    this.untrackUptime?.();
    this.untrackUptime = null;
    if (this.current.phase !== 'Suspended') {
      const next: BindRuntimeStatus = { phase: 'Pending' };
      if (this.current.lastError !== undefined) next.lastError = this.current.lastError;
      this.setStatus(next);
    }
  }

  /** Resolves when every message this bind took has been reported to the core. */
  idle(): Promise<void> {
    return this.pump?.idle() ?? Promise.resolve();
  }

  private sessionOptions(): ClientSessionOptions {
    const b = this.bind;
    const s = b.spec;
    const o: ClientSessionOptions = {
      host: s.host,
      port: s.port,
      bindType: s.bindType,
      systemId: s.systemId,
      password: b.password,
      interfaceVersion: s.interfaceVersion,
      window: s.window,
      enquireLinkIntervalMs: parseDuration(s.enquireLinkInterval),
      responseTimeoutMs: parseDuration(s.responseTimeout),
      bindTimeoutMs: parseDuration(s.bindTimeout),
      reconnect: {
        minDelayMs: parseDuration(s.reconnect.minDelay),
        maxDelayMs: parseDuration(s.reconnect.maxDelay),
      },
    };
    // 0 is not valid in a manifest; it is how benchmarks ask for no limit at all.
    if (s.tpsLimit > 0) o.tpsLimit = s.tpsLimit;
    if (s.systemType !== undefined) o.systemType = s.systemType;
    if (s.addressRange !== undefined) o.addressRange = s.addressRange;
    if (s.tls.enabled) {
      const tls: NonNullable<ClientSessionOptions['tls']> = {
        enabled: true,
        insecureSkipVerify: s.tls.insecureSkipVerify,
      };
      if (b.tlsCa !== undefined) tls.ca = b.tlsCa;
      if (s.tls.serverName !== undefined) tls.serverName = s.tls.serverName;
      o.tls = tls;
    }
    return { ...o, ...this.d.sessionOverrides };
  }

  private wire(session: ClientSession): void {
    const m = this.d.metrics;
    const l = this.labels;
    session.on('connecting', () => {
      m.connectionAttempts.labels(l).inc();
      if (this.current.phase === 'Error') return; // keep showing why until a bind succeeds
      this.setStatus({ ...this.withError(), phase: this.everBound ? 'Reconnecting' : 'Connecting' });
    });
    session.on('bound', () => {
      this.everBound = true;
      m.bindSuccess.labels(l).inc();
      m.connectionStatus.labels(l).set(1);
      this.setStatus({ ...this.withError(), phase: 'Bound', boundSince: new Date() });
      this.pump?.poke();
    });
    session.on('bindFailed', (err: Error) => {
      m.bindFailures.labels(l).inc();
      const config = err instanceof SmppStatusError && CONFIG_ERRORS.has(err.status);
      this.setStatus({
        phase: config ? 'Error' : this.everBound ? 'Reconnecting' : 'Connecting',
        lastError: err.message,
      });
    });
    session.on('disconnected', (reason: string) => {
      m.disconnections.labels(l).inc();
      m.connectionStatus.labels(l).set(0);
      if (this.session?.state === 'stopped') return;
      this.setStatus({ phase: 'Reconnecting', lastError: `connection lost: ${reason}` });
    });
    session.on('throttled', () => m.throttled.labels(l).inc());
    // The histogram's series appear with the first response: an idle bind's eleven empty
    // buckets were half of /metrics at 1,000 binds.
    let latency: ReturnType<typeof m.submitLatency.labels> | undefined;
    session.on('latency', (e: { command: string; ms: number }) =>
      (latency ??= m.submitLatency.labels(l)).observe(e.ms / 1000),
    );
    session.on('decodeError', () => m.decodeErrors.labels(l).inc());
    session.on('pduRefused', () => m.decodeErrors.labels(l).inc());
  }

  private withError(): { lastError?: string } {
    return this.current.lastError !== undefined ? { lastError: this.current.lastError } : {};
  }

  private setStatus(s: BindRuntimeStatus): void {
    if (sameStatus(this.current, s)) return;
    this.current = s;
    this.d.onStatus(s);
  }

  private countDecision(d: Decision): void {
    const m = this.d.metrics;
    if (d.outcome === 'sent') this.sentCounter.inc();
    else if (d.outcome === 'returned') m.messagesReturned.labels(this.labels).inc();
    else if (d.outcome === 'released') m.messagesReleased.labels(this.labels).inc();
    else m.deliveryFailures.labels(this.labels).inc();
  }

  // ---- MT ---------------------------------------------------------------------------------

  private async submit(session: ClientSession, msg: CoreMessage): Promise<Decision> {
    const s = this.bind.spec;
    let fields: SubmitFields[];
    try {
      const parts = encodeCore(msg, s.codec, this.d.nextReference());
      fields = parts.map((p) => partFields(msg, p, s.addressing, 1));
    } catch (err) {
      const reason = `cannot encode: ${(err as Error).message}`;
      this.log.warn({ messageId: msg.id, err }, 'message cannot be encoded; failed');
      return { outcome: 'failed', reason };
    }
    if (fields.length === 1) {
      try {
        const resp = await session.submit(fields[0] as SubmitFields);
        const carrierId = messageIdOf(resp);
        if (carrierId !== '') this.d.receiptStore.record(this.scope, msg.id, [carrierId]);
        return { outcome: 'sent', carrierId };
      } catch (err) {
        return this.failure(msg, [classify(err)], 0);
      }
    }
    const ids: string[] = [];
    let pending = fields;
    let failures: Failure[] = [];
    // Returning a partly accepted message to the core would resend the accepted parts too, so
    // parts refused for a passing reason (throttling, queue full) are retried here first, with
    // the same concatenation reference so the handset still joins them.
    for (let attempt = 0; ; attempt++) {
      const results = await Promise.allSettled(pending.map((f) => session.submit(f)));
      const retry: SubmitFields[] = [];
      failures = [];
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') ids.push(messageIdOf(r.value));
        else {
          retry.push(pending[i] as SubmitFields);
          failures.push(classify(r.reason));
        }
      });
      pending = retry;
      const permanent = failures.some((f) => f.permanent);
      if (retry.length === 0 || permanent || ids.length === 0 || attempt >= PART_RETRIES) break;
      if (session.state !== 'bound' || this.stopping) break;
      await new Promise((r) => setTimeout(r, PART_RETRY_DELAY_MS * (attempt + 1)));
      this.log.debug(
        { messageId: msg.id, parts: retry.length, attempt: attempt + 1 },
        'retrying refused parts',
      );
    }
    if (failures.length === 0) {
      this.d.receiptStore.record(this.scope, msg.id, ids);
      return { outcome: 'sent', carrierId: ids.join(',') };
    }
    return this.failure(msg, failures, ids.length);
  }

  private failure(msg: CoreMessage, failures: Failure[], acceptedParts: number): Decision {
    if (acceptedParts === 0) {
      const d = failedDecision(failures);
      this.log.debug({ messageId: msg.id, err: d.reason, outcome: d.outcome }, 'submit_sm failed');
      return d;
    }
    // Some parts reached the carrier: the rest cannot be released on their own.
    const d = failedDecision(failures.map((f) => ({ ...f, unsent: false })));
    this.log.warn(
      { messageId: msg.id, acceptedParts, err: d.reason },
      d.outcome === 'failed'
        ? 'long message partly accepted, then refused; failed'
        : 'long message partly accepted; returned, the accepted parts will be sent again',
    );
    return d;
  }

  // ---- MO and receipts --------------------------------------------------------------------

  private onInbound(pdu: MessageRequest): Promise<InboundResult> {
    let receipt: boolean;
    try {
      receipt = pduIsReceipt(pdu);
    } catch {
      receipt = false;
    }
    return receipt ? this.onReceipt(pdu) : this.onMo(pdu);
  }

  private async onMo(pdu: MessageRequest): Promise<InboundResult> {
    const m = this.d.metrics;
    let msg;
    try {
      msg = inboundMessage(pdu, this.smscName);
    } catch (err) {
      m.decodeErrors.labels(this.labels).inc();
      this.log.warn(
        { err, dataCoding: pdu.data_coding, source: pdu.source_addr },
        'MO message cannot be decoded; refused',
      );
      return { status: MO_PERMANENT_ERROR };
    }
    try {
      const { id } = await this.d.core.postMessage(msg);
      m.messagesReceived.labels(this.labels).inc();
      this.log.debug({ coreId: id, parts: msg.message_parts }, 'MO message accepted by the core');
      return { status: 0 };
    } catch (err) {
      if (err instanceof CoreError && !err.temporary) {
        this.log.warn({ err, status: err.status }, 'core refused an MO message');
        return { status: MO_PERMANENT_ERROR };
      }
      this.log.debug({ err }, 'core unavailable; MO left with the SMSC for retry');
      return { status: MO_TEMPORARY_ERROR };
    }
  }

  /**
   * The carrier-id record of a receipt. A fast SMSC can send the receipt in the same TCP segment
   * as the submit_sm_resp, ahead of the code that records the id; so a miss while submits are
   * still being answered here is looked for again locally for a short while, then once more in
   * the store, before it counts as unmatched. Rejects with ReceiptStoreUnavailable.
   */
  private async findSubmitted(carrierId: string): Promise<CarrierIdRecord | undefined> {
    const store = this.d.receiptStore;
    let e = await store.lookup(this.scope, carrierId);
    if (e) return e;
    await new Promise((r) => setImmediate(r));
    e = store.peek(this.scope, carrierId);
    const until = Date.now() + 1000;
    let waited = false;
    // Any bind of this process may have sent it (receipts often come on a separate receiver bind).
    while (!e && this.d.inFlightIds.size > 0 && Date.now() < until) {
      waited = true;
      await new Promise((r) => setTimeout(r, 20));
      e = store.peek(this.scope, carrierId);
    }
    if (!e && waited) e = await store.lookup(this.scope, carrierId);
    return e;
  }

  private async onReceipt(pdu: MessageRequest): Promise<InboundResult> {
    const m = this.d.metrics;
    const l = this.labels;
    let r;
    try {
      r = pduReceipt(pdu);
    } catch {
      r = null;
    }
    if (!r) {
      m.decodeErrors.labels(l).inc();
      this.log.warn({ source: pdu.source_addr }, 'delivery receipt cannot be read; acknowledged and dropped');
      return { status: 0 };
    }
    m.deliveryReceipts.labels({ ...l, outcome: r.outcome }).inc();
    let entry: CarrierIdRecord | undefined;
    try {
      entry = await this.findSubmitted(r.messageId);
    } catch (err) {
      if (!(err instanceof ReceiptStoreUnavailable)) throw err;
      // Not "unknown": the store could not say. The SMSC keeps the receipt and sends it again.
      this.log.debug(
        { carrierMessageId: r.messageId, err },
        'receipt store unavailable; SMSC asked to retry',
      );
      return { status: MO_TEMPORARY_ERROR };
    }
    if (!entry) {
      this.unmatchedReceipts++;
      m.unmatchedReceipts.labels(l).inc();
      this.log.warn(
        { carrierMessageId: r.messageId, stat: r.state },
        'delivery receipt for an unknown message id; acknowledged',
      );
      return { status: 0 };
    }
    const store = this.d.receiptStore;
    const grouped = entry.parts > 1;
    let report = r;
    if (grouped) {
      if (r.outcome === 'pending') return { status: 0 };
      let v;
      try {
        v = await store.partOutcome(this.scope, entry.coreId, entry.key, r.outcome);
      } catch (err) {
        if (!(err instanceof ReceiptStoreUnavailable)) throw err;
        this.log.debug({ coreId: entry.coreId, err }, 'receipt store unavailable; SMSC asked to retry');
        return { status: MO_TEMPORARY_ERROR };
      }
      if (v.verdict !== 'report') return { status: 0 };
      // The core keeps every part's carrier id, as the "sent" report wrote them.
      report = { ...r, messageId: v.carrierIds.join(',') };
    }
    const reopen = async (): Promise<void> => {
      if (grouped) await store.reopen(this.scope, entry.coreId, entry.key).catch(() => undefined);
    };
    // Our own "sent" PATCH for this message may still be on its way: the receipt goes after it.
    const wait = Math.max(100, this.receiptWaitMs);
    if (!(await this.d.inFlightIds.whenReleased(entry.coreId, wait))) {
      await reopen();
      this.log.debug({ coreId: entry.coreId }, 'receipt before the sent report landed; SMSC asked to retry');
      return { status: MO_TEMPORARY_ERROR };
    }
    if (r.outcome === 'failed') m.deliveryFailures.labels(l).inc();
    try {
      await this.d.core.reportReceipt(entry.coreId, report);
      return { status: 0 };
    } catch (err) {
      if (err instanceof CoreError && !err.temporary) {
        this.log.warn({ coreId: entry.coreId, err }, 'core refused a receipt update');
        return { status: 0 };
      }
      await reopen();
      return { status: MO_TEMPORARY_ERROR };
    }
  }
}

function messageIdOf(pdu: Pdu): string {
  return 'message_id' in pdu ? pdu.message_id : '';
}
