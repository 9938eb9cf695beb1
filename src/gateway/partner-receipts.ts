/**
 * Delivery receipts for partners. A partner that submits with registered_delivery expects a
 * deliver_sm receipt once its message reaches a final state (SMPP 3.4 §5.2.17; the provider
 * notes' "passive" status). The core has no way to push that state to the frontend that posted
 * the message, so the gateway asks: GET /api/messages/{id} on a widening schedule until the
 * message is delivered, failed or expired, then sends the receipt on one of the partner's
 * receiver sessions.
 *
 * The tracked submits live in the receipt store's queue (memory, or Redis shared by every pod):
 * any process with a receiver session of the partner claims due entries, checks and sends, so a
 * receipt goes out on whichever pod the partner is bound to, and a restart loses none. Tracking
 * is bounded in count and age; what it gives up on is counted, never silent.
 */
import type { DeliverFields } from '../smpp/pdu/message.js';
import type { Pdu } from '../smpp/pdu/pdu.js';
import { formatReceipt, receiptState, STATE_CODES, wantsReceipt, type ReceiptState } from '../codec/index.js';
import type { CoreClient } from '../core/index.js';
import type { Logger } from '../log.js';
import type { Metrics, PartnerReceiptResult } from '../metrics.js';
import { MemoryPartnerQueue } from '../receipt-store/memory.js';
import type {
  FinalState,
  PartnerReceiptQueue,
  QueuedReceipt,
  TrackedSubmit,
} from '../receipt-store/types.js';
import { classify } from './failure.js';

export type { FinalState, TrackedSubmit } from '../receipt-store/types.js';

export interface PartnerReceiptsOptions {
  core: Pick<CoreClient, 'getMessage' | 'retryDelayMs'>;
  deliver: (bindKey: string, fields: DeliverFields) => Promise<Pdu>;
  metrics: Metrics;
  log: Logger;
  /** Where tracked submits are kept. Default: a queue in this process's memory. */
  queue?: PartnerReceiptQueue;
  /** Server binds whose entries this process looks after. Default: those it tracked itself. */
  binds?: () => Iterable<string>;
  /** Whether this process can send on a bind now (it holds a receiver session). Default: always. */
  canDeliver?: (bindKey: string) => boolean;
  /**
   * Waits between checks of one message; the last one repeats. Default 5 s, 15 s, 30 s, 1, 2, 5,
   * 10 and 30 min, then hourly: most receipts come within minutes, and a message whose carrier
   * never sends one should not cost a request every few minutes for two days.
   */
  checkDelaysMs?: number[];
  /** Give up on a message (no final state, or no session to send it on) after this long. Default 48 h. */
  maxAgeMs?: number;
  /** Messages tracked at once per server bind. Default 100,000. */
  maxTracked?: number;
  /** Core requests and deliveries at once. Default 8. */
  concurrency?: number;
  /** How often due entries are looked for. Default 1 s. */
  tickMs?: number;
  /** How long a claimed entry is not handed to another process. Default 60 s. */
  leaseMs?: number;
  /** How often entries past maxAgeMs are removed. Default 60 s. */
  sweepMs?: number;
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
export function receiptFields(t: TrackedSubmit, f: FinalState): DeliverFields {
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
  private readonly queue: PartnerReceiptQueue;
  private readonly memory: MemoryPartnerQueue | undefined;
  private readonly delays: number[];
  private readonly maxAgeMs: number;
  private readonly maxTracked: number;
  private readonly concurrency: number;
  private readonly leaseMs: number;
  private readonly sweepMs: number;
  /** Binds this process tracked submits for (the default of `binds`). */
  private readonly tracked = new Set<string>();
  /** Bumped when a bind is dropped: a check on its way for it is abandoned. */
  private readonly epochs = new Map<string, number>();
  private running = 0;
  private claiming = false;
  private lastSweep = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: PartnerReceiptsOptions) {
    this.o = opts;
    if (opts.queue) this.queue = opts.queue;
    else this.queue = this.memory = new MemoryPartnerQueue();
    this.delays = opts.checkDelaysMs ?? [
      5_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000,
    ];
    this.maxAgeMs = opts.maxAgeMs ?? 48 * 3600_000;
    this.maxTracked = opts.maxTracked ?? 100_000;
    this.concurrency = opts.concurrency ?? 8;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.sweepMs = opts.sweepMs ?? 60_000;
    this.timer = setInterval(() => this.tick(), opts.tickMs ?? 1000);
    this.timer.unref();
  }

  /** Entries held in this process's memory queue (tests; -1 for a shared queue). */
  get size(): number {
    return this.memory?.size ?? -1;
  }

  track(t: TrackedSubmit): void {
    if ((t.registeredDelivery & 0x03) === 0 || this.stopped) return;
    this.tracked.add(t.bindKey);
    const e: QueuedReceipt = { ...t, due: Date.now() + (this.delays[0] ?? 0), checks: 0 };
    if (!this.queue.durable) this.o.metrics.partnerReceiptsPending.labels(t.labels).inc();
    void this.queue.add(e, this.maxTracked).then(
      (evicted) => {
        for (const x of evicted) this.finish(x, 'evicted');
      },
      (err: unknown) => this.o.log.warn({ err, messageId: t.coreId }, 'partner receipt could not be queued'),
    );
  }

  /** A partner session is up: send what waited for one now rather than at the next tick. */
  poke(_bindKey: string): void {
    this.tick();
  }

  /** The bind is gone: nothing more can be sent on it. */
  dropBind(bindKey: string): void {
    this.epochs.set(bindKey, (this.epochs.get(bindKey) ?? 0) + 1);
    this.tracked.delete(bindKey);
    void this.queue.dropBind(bindKey).then(
      (gone) => {
        for (const e of gone) this.finish(e, 'dropped');
      },
      (err: unknown) =>
        this.o.log.warn({ err, bind: bindKey }, 'partner receipts of a removed bind not dropped'),
    );
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopped = true;
    // A shared queue keeps them for the other pods (and this one after a restart).
    if (this.queue.durable || !this.memory) return;
    const pending = this.memory.size;
    if (pending > 0)
      this.o.log.info({ pending }, 'partner receipts still pending are not sent (gateway stopping)');
    for (const bindKey of [...this.tracked]) this.dropBind(bindKey);
  }

  private binds(): string[] {
    return [...(this.o.binds?.() ?? this.tracked)];
  }

  /** One pass over due entries (exposed for tests that drive time themselves). */
  tick(now = Date.now()): void {
    if (this.stopped || this.claiming) return;
    if (this.o.core.retryDelayMs(now) > 0) return;
    this.claiming = true;
    void this.pass(now).finally(() => (this.claiming = false));
  }

  private async pass(now: number): Promise<void> {
    const binds = this.binds();
    if (now - this.lastSweep >= this.sweepMs || this.lastSweep === 0) {
      this.lastSweep = now;
      for (const bindKey of binds) await this.sweep(bindKey, now);
    }
    for (const bindKey of binds) {
      const room = this.concurrency - this.running;
      if (room <= 0 || this.stopped) return;
      if (this.o.canDeliver && !this.o.canDeliver(bindKey)) continue;
      let due: QueuedReceipt[];
      try {
        due = await this.queue.claim(bindKey, now, room, this.leaseMs);
      } catch (err) {
        this.o.log.debug({ err, bind: bindKey }, 'partner receipts: claim failed');
        continue;
      }
      const epoch = this.epochs.get(bindKey) ?? 0;
      for (const e of due) {
        this.running++;
        void this.step(e, epoch).finally(() => this.running--);
      }
    }
  }

  private async sweep(bindKey: string, now: number): Promise<void> {
    try {
      for (const e of await this.queue.expire(bindKey, now - this.maxAgeMs)) {
        this.o.log.warn(
          { bind: e.bindKey, messageId: e.coreId, final: e.final?.state ?? null },
          'partner receipt given up: no final state, or no partner session to send it on, in time',
        );
        this.finish(e, 'expired');
      }
      if (this.queue.durable) {
        const n = await this.queue.count(bindKey);
        const labels = this.labelsOf.get(bindKey);
        if (labels) this.o.metrics.partnerReceiptsPending.labels(labels).set(n);
      }
    } catch (err) {
      this.o.log.debug({ err, bind: bindKey }, 'partner receipts: sweep failed');
    }
  }

  /** Labels of each bind seen (a shared queue's gauge is set from its count). */
  private readonly labelsOf = new Map<string, TrackedSubmit['labels']>();

  private gone(e: QueuedReceipt, epoch: number): boolean {
    return this.stopped || (this.epochs.get(e.bindKey) ?? 0) !== epoch;
  }

  private async step(e: QueuedReceipt, epoch: number): Promise<void> {
    this.labelsOf.set(e.bindKey, e.labels);
    if (Date.now() - e.submittedAt.getTime() > this.maxAgeMs) {
      this.o.log.warn(
        { bind: e.bindKey, messageId: e.coreId, final: e.final?.state ?? null },
        'partner receipt given up: no final state, or no partner session to send it on, in time',
      );
      await this.end(e, 'expired');
      return;
    }
    if (e.final === undefined) {
      let m: Record<string, unknown> | null;
      try {
        m = await this.o.core.getMessage(e.coreId);
      } catch (err) {
        this.o.log.debug({ messageId: e.coreId, err }, 'partner receipt: core check failed');
        await this.later(e);
        return;
      }
      if (this.gone(e, epoch)) return; // dropped meanwhile (bind removed, stop)
      if (m === null) {
        this.o.log.warn(
          { bind: e.bindKey, messageId: e.coreId },
          'partner receipt: the core no longer has the message',
        );
        await this.end(e, 'unknown_message');
        return;
      }
      const f = finalStateOf(m, new Date());
      if (f === null) {
        await this.later(e);
        return;
      }
      e.final = f;
      if (!wantsReceipt(e.registeredDelivery, f.state)) {
        await this.end(e, 'not_requested');
        return;
      }
    }
    if (this.gone(e, epoch)) return;
    try {
      await this.o.deliver(e.bindKey, receiptFields(e, e.final));
    } catch (err) {
      const c = classify(err);
      if (c.permanent) {
        this.o.log.warn(
          { bind: e.bindKey, messageId: e.coreId, err: c.reason },
          'partner refused a delivery receipt',
        );
        await this.end(e, 'refused');
        return;
      }
      // No receiver session right now, or a passing refusal: the partner gets it later.
      await this.later(e);
      return;
    }
    await this.end(e, 'sent');
  }

  /** Ends tracking once: an entry ended meanwhile (bind removed, another pod) is not counted twice. */
  private async end(e: QueuedReceipt, result: PartnerReceiptResult): Promise<void> {
    let removed: boolean;
    try {
      removed = await this.queue.remove(e.bindKey, e.coreId);
    } catch (err) {
      // The store is away: the lease runs out and the entry comes back; a receipt may then go twice.
      this.o.log.warn({ err, messageId: e.coreId, result }, 'partner receipt: could not end its tracking');
      return;
    }
    if (removed) this.finish(e, result);
  }

  private async later(e: QueuedReceipt): Promise<void> {
    e.checks++;
    const d = this.delays[Math.min(e.checks, this.delays.length - 1)] ?? 0;
    e.due = Date.now() + d;
    try {
      await this.queue.update(e);
    } catch (err) {
      this.o.log.debug(
        { err, messageId: e.coreId },
        'partner receipt: reschedule failed (the lease brings it back)',
      );
    }
  }

  private finish(e: QueuedReceipt, result: PartnerReceiptResult): void {
    const m = this.o.metrics;
    if (!this.queue.durable) m.partnerReceiptsPending.labels(e.labels).dec();
    m.partnerReceipts.labels({ ...e.labels, result }).inc();
  }
}
