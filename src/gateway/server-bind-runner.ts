/**
 * One SmppServerBind: the partner binds to our listener. While it has a receiver/transceiver
 * session, the core's messages for its smscName go out as deliver_sm (the listener spreads them
 * across sessions at the bind's tpsLimit); the partner's deliver_sm_resp decides the report.
 * Its submit_sm become core messages; the submit_sm_resp carries the core's id.
 */
import type { SubmitFields, SubmitSm } from '../smpp/pdu/message.js';
import type { Answer, Pdu } from '../smpp/pdu/pdu.js';
import type { QuerySm } from '../smpp/pdu/query.js';
import { smppAbsoluteTime, STATE_CODES } from '../codec/index.js';
import type { CoreClient, CoreMessage } from '../core/index.js';
import { CoreError } from '../core/index.js';
import type { Logger } from '../log.js';
import {
  makeBindLabels,
  zeroBindCounters,
  type BindLabels,
  type HotCounter,
  type Metrics,
} from '../metrics.js';
import type { InboundResult } from '../smpp/client-session.js';
import { Status } from '../smpp/errors.js';
import { describeClose, type CloseReason } from '../smpp/link/close-reason.js';
import type { ServerBindEntry, ServerSessionInfo, SmppListener } from '../smpp/server-listener.js';
import { Accounting } from './accounting.js';
import { classify, failedDecision, type Failure } from './failure.js';
import type { CorePolls } from './core-polls.js';
import { MtPump, type Decision, type MtPumpOptions } from './mt-pump.js';
import { encodeCore, inboundMessage, partFields } from './pdu-mapping.js';
import { finalStateOf, type PartnerReceipts } from './partner-receipts.js';
import type { Reporter } from './reporter.js';
import { sameStatus, type BindRuntimeStatus, type InFlightIds, type ResolvedServerBind } from './types.js';

/** submit_sm_resp while the core is unreachable: "queue full", which partners retry. */
const SUBMIT_TEMPORARY_ERROR = Status.ESME_RMSGQFUL;
/** submit_sm_resp for a message the core refuses or we cannot decode. */
const SUBMIT_PERMANENT_ERROR = 0x45; // ESME_RSUBMITFAIL

/** Session ends that are nobody's error: not worth a lastError in the status. */
/** Closes that are not a fault of the partner's session: they leave lastError alone. */
function orderlyClose(r: CloseReason): boolean {
  if (r.kind === 'unbind-by-peer') return true;
  return (
    r.kind === 'local' &&
    (r.cause === 'listener closing' || r.cause === 'bind removed' || r.cause === 'bind suspended')
  );
}

export interface ServerBindRunnerDeps {
  bind: ResolvedServerBind;
  listener: SmppListener;
  core: CoreClient;
  metrics: Metrics;
  log: Logger;
  reporter: Reporter;
  accounting: Accounting;
  inFlightIds: InFlightIds;
  /** the Gateway's shared core polls (one per smscName per interval); default: the pump's own */
  corePolls?: CorePolls;
  defaultPollIntervalMs: number;
  nextReference: () => number;
  /** May the pump poll the core (default true: standalone, no coordination)? */
  pollAllowed?: boolean;
  /** Receipt tracking for submit_sm with registered_delivery; null without a listener. */
  receipts?: PartnerReceipts | null;
  onStatus: (s: BindRuntimeStatus) => void;
}

function serverBindKey(b: { namespace: string; name: string }): string {
  return `${b.namespace}/${b.name}`;
}

export function listenerEntry(b: ResolvedServerBind): ServerBindEntry {
  const s = b.spec;
  return {
    key: serverBindKey(b),
    namespace: b.namespace,
    name: b.name,
    smscName: s.smscName,
    systemId: s.systemId,
    password: b.password,
    allowedBindTypes: [...s.allowedBindTypes],
    ipAllowlist: [...s.ipAllowlist],
    tpsLimit: s.tpsLimit,
    inboundTpsLimit: s.inboundTpsLimit,
    maxSessions: s.maxSessions,
    suspend: s.suspend,
  };
}

export class ServerBindRunner {
  readonly key: string;
  readonly bind: ResolvedServerBind;
  readonly labels: BindLabels;
  readonly acct: Accounting;
  private readonly d: ServerBindRunnerDeps;
  private readonly log: Logger;
  private pump: MtPump | null = null;
  private current: BindRuntimeStatus = { phase: 'Pending' };
  private lastError: string | undefined;
  private stopping: Promise<void> | null = null;
  private untrackUptime: (() => void) | null = null;
  /** In a cluster only the pod holding the partner's poller claim may poll (see setPollAllowed). */
  private pollAllowed: boolean;
  /**
   * Messages handed to the listener and not yet answered, and those waiting for a turn. The
   * listener queues without a bound; a pump may hold ten seconds of the partner's TPS. Keeping
   * about a quarter second of it in the listener leaves the rest here, where a withdrawn grant
   * can release it instead of delivering what another pod is about to poll.
   */
  private handed = 0;
  private readonly waiting: ((go: boolean) => void)[] = [];
  private readonly handLimit: number;

  constructor(deps: ServerBindRunnerDeps) {
    this.d = deps;
    this.bind = deps.bind;
    this.key = serverBindKey(deps.bind);
    this.log = deps.log;
    this.pollAllowed = deps.pollAllowed ?? true;
    this.handLimit = Math.max(8, Math.ceil(deps.bind.spec.tpsLimit / 4));
    this.acct = new Accounting(deps.accounting);
    this.labels = makeBindLabels({
      namespace: deps.bind.namespace,
      name: deps.bind.name,
      mode: 'server',
      systemId: deps.bind.spec.systemId,
    });
  }

  status(): BindRuntimeStatus {
    return this.current;
  }

  get inFlight(): number {
    return this.pump?.inFlight ?? 0;
  }

  /** The core as the pump sees it: a partner's acknowledgement is the message's delivery. */
  private readonly pumpCore: MtPumpOptions['core'] = {
    poll: (smsc) => this.d.core.poll(smsc),
    markSent: (id, messageId) => this.d.core.markDelivered(id, messageId),
    returnForRetry: (id, reason) => this.d.core.returnForRetry(id, reason),
    markFailed: (id, reason) => this.d.core.markFailed(id, reason),
    retryDelayMs: () => this.d.core.retryDelayMs(),
  };

  start(): void {
    const s = this.bind.spec;
    const m = this.d.metrics;
    m.connectionStatus.labels(this.labels).set(0);
    m.serverSessions.labels(this.labels).set(0);
    this.untrackUptime = m.trackUptime(this.labels, () => this.current.boundSince);
    const inflight = m.hotGauge(m.inflightMessages, this.labels);
    const sent = m.hotCounter(m.messagesSent, this.labels);
    inflight.set(0);
    zeroBindCounters(m, this.labels);
    if (!s.suspend) {
      const interval = s.queueCheckInterval ?? this.d.defaultPollIntervalMs;
      const batch = Math.min(10_000, Math.max(32, Math.ceil((2 * s.tpsLimit * interval) / 1000)));
      this.pump = new MtPump({
        smscName: s.smscName,
        intervalMs: interval,
        batch,
        // With a backlog in the core: up to ten seconds of sending at the TPS limit.
        maxBatch: Math.min(10_000, Math.max(batch, s.tpsLimit * 10)),
        core: this.pumpCore,
        reporter: this.d.reporter,
        acct: this.acct,
        inFlightIds: this.d.inFlightIds,
        ...(this.d.corePolls ? { polls: this.d.corePolls } : {}),
        log: this.log,
        canPoll: () => this.pollAllowed && this.receivers() > 0,
        deliver: (msg) => this.deliver(msg),
        onDecision: (dec) => this.countDecision(dec, sent),
        onInFlight: (n) => inflight.set(n),
      });
      this.pump.start();
    }
    this.refresh();
  }

  /**
   * Grants or withdraws polling (the controller holds or gave up the partner's poller claim).
   * Withdrawn, the pump takes nothing more; what it took still finishes (see idle()).
   */
  setPollAllowed(allowed: boolean): void {
    if (this.pollAllowed === allowed) return;
    this.pollAllowed = allowed;
    this.log.info(
      { polling: allowed },
      allowed ? 'polling the core for this partner' : 'not polling the core for this partner',
    );
    this.updatePollOwner();
    if (allowed) this.pump?.poke();
    else {
      // Messages not yet handed to the listener go back untouched (released), so the next
      // poller can take them at once and this pod is idle within a few deliveries.
      const w = this.waiting.splice(0);
      for (const wake of w) wake(false);
    }
  }

  private pollOwnerLabels(): { bind_name: string; namespace: string } {
    return { bind_name: this.bind.name, namespace: this.bind.namespace };
  }

  private updatePollOwner(): void {
    const polling = this.pollAllowed && this.pump !== null && !this.stopping && this.receivers() > 0;
    this.d.metrics.mtPollOwner.labels(this.pollOwnerLabels()).set(polling ? 1 : 0);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.d.metrics.mtPollOwner.remove(this.pollOwnerLabels());
      this.pump?.stop();
      this.untrackUptime?.();
      this.untrackUptime = null;
      this.d.metrics.connectionStatus.labels(this.labels).set(0);
    })();
    return this.stopping;
  }

  idle(): Promise<void> {
    return this.pump?.idle() ?? Promise.resolve();
  }

  // ---- listener events, dispatched by the gateway ------------------------------------------

  onSessionBound(_info: ServerSessionInfo): void {
    this.d.metrics.connectionAttempts.labels(this.labels).inc();
    this.d.metrics.bindSuccess.labels(this.labels).inc();
    this.refresh();
    this.pump?.poke();
  }

  onSessionClosed(_info: ServerSessionInfo, reason: CloseReason): void {
    this.d.metrics.disconnections.labels(this.labels).inc();
    if (!orderlyClose(reason)) this.lastError = `partner session closed: ${describeClose(reason)}`;
    this.refresh();
  }

  onBindRejected(reason: string, status: number): void {
    this.d.metrics.connectionAttempts.labels(this.labels).inc();
    this.d.metrics.bindFailures.labels(this.labels).inc();
    this.lastError = `bind rejected (${reason}, status 0x${status.toString(16).padStart(8, '0').toUpperCase()})`;
    this.refresh();
  }

  onSubmitThrottled(): void {
    this.d.metrics.throttled.labels(this.labels).inc();
  }

  /** Recomputes phase and sessions from the listener. */
  refresh(): void {
    const sessions = this.d.listener.sessions(this.key);
    const m = this.d.metrics;
    m.serverSessions.labels(this.labels).set(sessions.length);
    m.connectionStatus.labels(this.labels).set(sessions.length > 0 ? 1 : 0);
    const next: BindRuntimeStatus = {
      phase: this.bind.spec.suspend ? 'Suspended' : sessions.length > 0 ? 'Bound' : 'Pending',
      sessions,
    };
    const first = sessions.reduce<Date | undefined>(
      (min, s) => (min === undefined || s.since < min ? s.since : min),
      undefined,
    );
    if (first) next.boundSince = first;
    if (this.lastError !== undefined) next.lastError = this.lastError;
    if (!this.stopping) this.updatePollOwner();
    if (sameStatus(this.current, next)) return;
    this.current = next;
    this.d.onStatus(next);
  }

  private receivers(): number {
    let n = 0;
    for (const s of this.d.listener.sessions(this.key))
      if (s.bindType === 'receiver' || s.bindType === 'transceiver') n++;
    return n;
  }

  private countDecision(d: Decision, sent: HotCounter): void {
    const m = this.d.metrics;
    if (d.outcome === 'sent') sent.inc();
    else if (d.outcome === 'returned') m.messagesReturned.labels(this.labels).inc();
    else if (d.outcome === 'released') m.messagesReleased.labels(this.labels).inc();
    else m.deliveryFailures.labels(this.labels).inc();
  }

  // ---- MT: core → partner ------------------------------------------------------------------

  private async deliver(msg: CoreMessage): Promise<Decision> {
    const s = this.bind.spec;
    let fields: SubmitFields[];
    try {
      fields = encodeCore(msg, s.codec, this.d.nextReference()).map((p) =>
        partFields(msg, p, s.addressing, 0),
      );
    } catch (err) {
      this.log.warn({ messageId: msg.id, err }, 'message cannot be encoded; failed');
      return { outcome: 'failed', reason: `cannot encode: ${(err as Error).message}` };
    }
    if (!(await this.turn())) return { outcome: 'released', reason: 'polling for this partner withdrawn' };
    const started = performance.now();
    let results: PromiseSettledResult<Pdu>[];
    try {
      results = await Promise.allSettled(fields.map((f) => this.d.listener.deliver(this.key, f)));
    } finally {
      this.handed--;
      this.waiting.shift()?.(true);
    }
    this.d.metrics.submitLatency.labels(this.labels).observe((performance.now() - started) / 1000);
    const failures: Failure[] = [];
    const ids: string[] = [];
    for (const r of results) {
      if (r.status === 'fulfilled') {
        ids.push('message_id' in r.value ? r.value.message_id : '');
      } else failures.push(classify(r.reason));
    }
    if (failures.length === 0) {
      // deliver_sm_resp message_id is normally empty; the core still needs a non-null marker.
      const carrierId = ids.filter((x) => x !== '').join(',');
      return { outcome: 'sent', carrierId: carrierId === '' ? `${s.smscName}:${msg.id}` : carrierId };
    }
    // Parts the partner accepted cannot be taken back: only a message with none is released.
    const d = failedDecision(ids.length === 0 ? failures : failures.map((f) => ({ ...f, unsent: false })));
    this.log.debug({ messageId: msg.id, err: d.reason, outcome: d.outcome }, 'deliver_sm to partner failed');
    return d;
  }

  /** Resolves true when this message may go to the listener, false when polling was withdrawn. */
  private turn(): Promise<boolean> {
    if (this.handed < this.handLimit) {
      this.handed++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) =>
      this.waiting.push((go) => {
        if (go) this.handed++;
        resolve(go);
      }),
    );
  }

  // ---- query_sm: partner asks for a message's state ------------------------------------------

  async onQuery(pdu: QuerySm): Promise<{ status: number; fields?: Answer }> {
    const id = pdu.message_id.trim();
    if (id === '') return { status: Status.ESME_RINVMSGID };
    let m: Record<string, unknown> | null;
    try {
      m = await this.d.core.getMessage(id);
    } catch (err) {
      this.log.debug({ messageId: id, err }, 'query_sm: core check failed');
      return { status: Status.ESME_RQUERYFAIL };
    }
    // Only the partner that submitted a message may ask about it (the provider notes' rule), so
    // one partner cannot probe another's traffic by id.
    if (m === null || m.source_smsc !== this.bind.spec.smscName) {
      this.log.debug({ messageId: id }, 'query_sm for a message this partner did not submit');
      return { status: Status.ESME_RINVMSGID };
    }
    const f = finalStateOf(m, new Date());
    return {
      status: 0,
      fields: {
        message_id: id,
        final_date: f ? smppAbsoluteTime(f.doneAt) : '',
        message_state: STATE_CODES[f ? f.state : 'ENROUTE'],
        error_code: f && /^\d+$/.test(f.err) && Number(f.err) <= 255 ? Number(f.err) : 0,
      },
    };
  }

  // ---- MO: partner → core ------------------------------------------------------------------

  async onSubmit(pdu: SubmitSm): Promise<InboundResult> {
    const m = this.d.metrics;
    let msg;
    try {
      msg = inboundMessage(pdu, this.bind.spec.smscName);
    } catch (err) {
      m.decodeErrors.labels(this.labels).inc();
      this.log.warn({ err }, 'partner submit_sm cannot be decoded; refused');
      return { status: SUBMIT_PERMANENT_ERROR };
    }
    try {
      const { id } = await this.d.core.postMessage(msg);
      m.messagesReceived.labels(this.labels).inc();
      const rd = pdu.registered_delivery;
      if ((rd & 0x03) !== 0 && this.d.receipts) {
        this.d.receipts.track({
          bindKey: this.key,
          labels: this.labels,
          coreId: id,
          registeredDelivery: rd,
          source: {
            addr: msg.source_msisdn,
            ton: pdu.source_addr_ton,
            npi: pdu.source_addr_npi,
          },
          destination: {
            addr: msg.destination_msisdn,
            ton: pdu.dest_addr_ton,
            npi: pdu.dest_addr_npi,
          },
          text: msg.message_body.slice(0, 20),
          submittedAt: new Date(),
        });
      }
      return { status: 0, messageId: id };
    } catch (err) {
      if (err instanceof CoreError && !err.temporary) {
        this.log.warn({ err, status: err.status }, 'core refused a partner message');
        return { status: SUBMIT_PERMANENT_ERROR };
      }
      return { status: SUBMIT_TEMPORARY_ERROR };
    }
  }
}
