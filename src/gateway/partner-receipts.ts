/**
 * Delivery receipts for partners. A partner that submits with registered_delivery expects a
 * deliver_sm receipt once its message reaches a final state (SMPP 3.4 §5.2.17; the provider
 * notes' "passive" status). The core has no way to push that state to the frontend that posted
 * the message, so the gateway asks: GET /api/messages/{id} on a widening schedule until the
 * message is delivered, failed or expired, then sends the receipt on the partner's own bind.
 *
 * Tracking is in memory and per process, bounded in count and age; what it gives up on is
 * counted, never silent.
 */
import type { PduOptions, PDU } from 'smpp';
import { formatReceipt, receiptState, STATE_CODES, wantsReceipt, type ReceiptState } from '../codec/index.js';
import type { CoreClient } from '../core/index.js';
import type { Logger } from '../log.js';
import type { BindLabels, Metrics, PartnerReceiptResult } from '../metrics.js';
import { classify } from './failure.js';

export interface TrackedSubmit {
  bindKey: string;
  labels: BindLabels;
  coreId: string;
  /** registered_delivery of the partner's submit_sm. */
  registeredDelivery: number;
  /** The partner's addresses; the receipt goes back from destination to source. */
  source: { addr: string; ton: number; npi: number };
  destination: { addr: string; ton: number; npi: number };
  /** The first characters of the message, for the receipt's text field. */
  text: string;
  submittedAt: Date;
}

export interface FinalState {
  state: ReceiptState;
  err: string;
  doneAt: Date;
}

export interface PartnerReceiptsOptions {
  core: Pick<CoreClient, 'getMessage' | 'retryDelayMs'>;
  deliver: (bindKey: string, fields: PduOptions) => Promise<PDU>;
  metrics: Metrics;
  log: Logger;
  /**
   * Waits between checks of one message; the last one repeats. Default 5 s, 15 s, 30 s, 1, 2, 5,
   * 10 and 30 min, then hourly: most receipts come within minutes, and a message whose carrier
   * never sends one should not cost a request every few minutes for two days.
   */
  checkDelaysMs?: number[];
  /** Give up on a message (no final state, or no session to send it on) after this long. Default 48 h. */
  maxAgeMs?: number;
  /** Messages tracked at once, all binds together. Default 100,000. */
  maxTracked?: number;
  /** Core requests and deliveries at once. Default 8. */
  concurrency?: number;
  /** How often due entries are looked for. Default 1 s. */
  tickMs?: number;
}

interface Entry extends TrackedSubmit {
  due: number;
  checks: number;
  final?: FinalState;
  busy: boolean;
}

const FINAL_STATES: ReadonlySet<ReceiptState> = new Set([
  'DELIVRD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'REJECTD',
  'UNKNOWN',
]);

function dateOf(v: unknown): Date | undefined {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/**
 * The final state of a message as the core shows it, or null while it is still on its way.
 * Our own client binds write dlr_state/dlr_error and status delivered|failed from carrier
 * receipts; the reference's PATCH example writes status "entregue"; a permanent failure is
 * status failed / deadletter; a message past `expires` that was never sent has expired.
 */
export function finalStateOf(m: Record<string, unknown>, now: Date): FinalState | null {
  const doneAt = dateOf(m.delivered_at) ?? dateOf(m.updated_at) ?? now;
  const err = typeof m.dlr_error === 'string' && m.dlr_error !== '' ? m.dlr_error : '000';
  const dlr = typeof m.dlr_state === 'string' ? receiptState(m.dlr_state) : undefined;
  if (dlr !== undefined && FINAL_STATES.has(dlr)) return { state: dlr, err, doneAt };
  const status = typeof m.status === 'string' ? m.status.toLowerCase() : '';
  if (status === 'delivered' || status === 'entregue') return { state: 'DELIVRD', err, doneAt };
  if (status === 'failed' || m.deadletter === true) return { state: 'UNDELIV', err, doneAt };
  const expires = dateOf(m.expires);
  const sent = m.deliver_time !== null && m.deliver_time !== undefined;
  if (!sent && expires !== undefined && expires.getTime() <= now.getTime())
    return { state: 'EXPIRED', err, doneAt: expires };
  return null;
}

/** The deliver_sm carrying a receipt for `t`: text of SMPP 3.4 Appendix B plus the TLVs. */
export function receiptFields(t: TrackedSubmit, f: FinalState): PduOptions {
  const text = formatReceipt({
    messageId: t.coreId,
    state: f.state,
    outcome: f.state === 'DELIVRD' ? 'delivered' : 'failed',
    err: f.err,
    submitDate: t.submittedAt,
    doneDate: f.doneAt,
    // Printable ASCII keeps the receipt valid in the default alphabet whatever the original was.
    text: t.text.replace(/[^\x20-\x7e]/g, '?'),
  });
  return {
    source_addr_ton: t.destination.ton,
    source_addr_npi: t.destination.npi,
    source_addr: t.destination.addr,
    dest_addr_ton: t.source.ton,
    dest_addr_npi: t.source.npi,
    destination_addr: t.source.addr,
    esm_class: 0x04,
    data_coding: 0,
    short_message: Buffer.from(text, 'latin1'),
    receipted_message_id: t.coreId,
    message_state: STATE_CODES[f.state],
  };
}

export class PartnerReceipts {
  private readonly o: PartnerReceiptsOptions;
  private readonly delays: number[];
  private readonly maxAgeMs: number;
  private readonly maxTracked: number;
  private readonly concurrency: number;
  /** Insertion order is submit order: the oldest is first when the limit is reached. */
  private readonly entries = new Map<string, Entry>();
  private running = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: PartnerReceiptsOptions) {
    this.o = opts;
    this.delays = opts.checkDelaysMs ?? [
      5_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000,
    ];
    this.maxAgeMs = opts.maxAgeMs ?? 48 * 3600_000;
    this.maxTracked = opts.maxTracked ?? 100_000;
    this.concurrency = opts.concurrency ?? 8;
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? 1000);
    this.timer.unref();
  }

  get size(): number {
    return this.entries.size;
  }

  track(t: TrackedSubmit): void {
    if ((t.registeredDelivery & 0x03) === 0) return;
    const key = `${t.bindKey}\n${t.coreId}`;
    if (this.entries.size >= this.maxTracked && !this.entries.has(key)) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry];
      this.entries.delete(oldestKey);
      this.finish(oldest, 'evicted');
    }
    if (!this.entries.has(key)) this.o.metrics.partnerReceiptsPending.labels(t.labels).inc();
    this.entries.set(key, { ...t, due: Date.now() + (this.delays[0] ?? 0), checks: 0, busy: false });
  }

  /** A partner session is up again: send what waited for one now rather than at the next check. */
  poke(bindKey: string): void {
    const now = Date.now();
    for (const e of this.entries.values()) if (e.bindKey === bindKey && e.final !== undefined) e.due = now;
    this.tick(now);
  }

  /** The bind is gone: nothing more can be sent on it. */
  dropBind(bindKey: string): void {
    for (const [key, e] of this.entries) {
      if (e.bindKey !== bindKey) continue;
      this.entries.delete(key);
      this.finish(e, 'dropped');
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.entries.size > 0)
      this.o.log.info(
        { pending: this.entries.size },
        'partner receipts still pending are not sent (gateway stopping)',
      );
    for (const e of this.entries.values()) this.finish(e, 'dropped');
    this.entries.clear();
  }

  /** One pass over due entries (exposed for tests that drive time themselves). */
  tick(now = Date.now()): void {
    if (this.o.core.retryDelayMs(now) > 0) return;
    for (const [key, e] of this.entries) {
      if (this.running >= this.concurrency) return;
      if (e.busy || e.due > now) continue;
      if (now - e.submittedAt.getTime() > this.maxAgeMs) {
        this.entries.delete(key);
        this.o.log.warn(
          { bind: e.bindKey, messageId: e.coreId, final: e.final?.state ?? null },
          'partner receipt given up: no final state, or no partner session to send it on, in time',
        );
        this.finish(e, 'expired');
        continue;
      }
      e.busy = true;
      this.running++;
      void this.step(key, e).finally(() => {
        e.busy = false;
        this.running--;
      });
    }
  }

  private async step(key: string, e: Entry): Promise<void> {
    if (e.final === undefined) {
      let m: Record<string, unknown> | null;
      try {
        m = await this.o.core.getMessage(e.coreId);
      } catch (err) {
        this.o.log.debug(
          { messageId: e.coreId, err: (err as Error).message },
          'partner receipt: core check failed',
        );
        this.later(e);
        return;
      }
      if (this.entries.get(key) !== e) return; // dropped meanwhile (bind removed, stop)
      if (m === null) {
        this.o.log.warn(
          { bind: e.bindKey, messageId: e.coreId },
          'partner receipt: the core no longer has the message',
        );
        this.end(key, e, 'unknown_message');
        return;
      }
      const f = finalStateOf(m, new Date());
      if (f === null) {
        this.later(e);
        return;
      }
      e.final = f;
      if (!wantsReceipt(e.registeredDelivery, f.state)) {
        this.end(key, e, 'not_requested');
        return;
      }
    }
    try {
      await this.o.deliver(e.bindKey, receiptFields(e, e.final));
    } catch (err) {
      const c = classify(err);
      if (c.permanent) {
        this.o.log.warn(
          { bind: e.bindKey, messageId: e.coreId, err: c.reason },
          'partner refused a delivery receipt',
        );
        this.end(key, e, 'refused');
        return;
      }
      // No receiver session right now, or a passing refusal: the partner gets it later.
      this.later(e);
      return;
    }
    this.end(key, e, 'sent');
  }

  /** Ends tracking once: an entry dropped meanwhile (bind removed, stop) is not counted twice. */
  private end(key: string, e: Entry, result: PartnerReceiptResult): void {
    if (this.entries.get(key) !== e) return;
    this.entries.delete(key);
    this.finish(e, result);
  }

  private later(e: Entry): void {
    e.checks++;
    const d = this.delays[Math.min(e.checks, this.delays.length - 1)] ?? 0;
    e.due = Date.now() + d;
  }

  private finish(e: Entry, result: PartnerReceiptResult): void {
    const m = this.o.metrics;
    m.partnerReceiptsPending.labels(e.labels).dec();
    m.partnerReceipts.labels({ ...e.labels, result }).inc();
  }
}
