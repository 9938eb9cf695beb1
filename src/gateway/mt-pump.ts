/**
 * The MT loop of one bind: poll the core for this smscName, take what fits, hand each message to
 * `deliver`, and report its outcome. Shared by client binds (submit_sm to a carrier) and server
 * binds (deliver_sm to a partner).
 *
 * The core has no lock: a GET returns every ready message, including those already handed out
 * and not yet reported. So a message id stays in the process-wide in-flight set from the moment
 * it is taken until the core has acknowledged its outcome; polls skip those ids.
 */
import type { CoreClient, CoreMessage } from '../core/index.js';
import type { Logger } from '../log.js';
import type { Accounting } from './accounting.js';
import { CorePolls, type PollLease } from './core-polls.js';
import type { Reporter } from './reporter.js';
import type { InFlightIds } from './types.js';

export type Decision =
  | { outcome: 'sent'; carrierId: string }
  | { outcome: 'returned'; reason: string }
  | { outcome: 'failed'; reason: string }
  /** Never written to the peer: nothing to tell the core, whose queue still holds it. */
  | { outcome: 'released'; reason: string };

export interface MtPumpOptions {
  smscName: string;
  intervalMs: number;
  /** Most messages of this bind in flight at once (taken and not yet reported). */
  batch: number;
  /**
   * While the core shows a backlog, the batch may grow up to this (default: batch). The core's GET
   * returns every ready message each time, so with a backlog of B messages and a batch of b,
   * each message crosses the wire and is parsed about B / b times; holding more per poll keeps
   * that bounded. Back to `batch` once a poll shows no backlog.
   */
  maxBatch?: number;
  core: Pick<CoreClient, 'poll' | 'markSent' | 'returnForRetry' | 'markFailed' | 'retryDelayMs'>;
  /**
   * The process's shared polls (one core request per smscName per interval for all its pumps);
   * default: this pump's own, which asks the core every time.
   */
  polls?: CorePolls;
  reporter: Reporter;
  acct: Accounting;
  inFlightIds: InFlightIds;
  log: Logger;
  /** Whether polling makes sense now (bound, a receiving session, ...). */
  canPoll: () => boolean;
  /** Sends one message; never rejects. */
  deliver: (m: CoreMessage) => Promise<Decision>;
  /** Called with each decision (metrics). */
  onDecision?: (d: Decision, m: CoreMessage) => void;
  onInFlight?: (n: number) => void;
}

/**
 * The wait until an idle pump's next poll, ending on a grid shared by every pump of the process
 * (slots of intervalMs / 20, 5-50 ms), the nearest point to `intervalMs` from now, so the mean
 * interval stays intervalMs. A thousand pumps each on its own timer woke the process a thousand
 * times a second; on the grid it wakes 20 times and sends each turn's polls together. Measured
 * with 1,000 pumps at 1 s against devcore: 0.05-0.10 core against 0.15-0.18 (ad hoc, see
 * test/bench/README.md, idle row).
 */
export function gridDelay(intervalMs: number, now: number): number {
  const slot = Math.min(50, Math.max(5, Math.floor(intervalMs / 20)));
  return Math.max(0, Math.round((now + intervalMs) / slot) * slot - now);
}

export class MtPump {
  private readonly o: MtPumpOptions;
  private readonly mine = new Set<string>();
  private readonly polls: CorePolls;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  /** The batch now: `batch`, or more while the core has a backlog. */
  private limit: number;
  /** A poll found more than fitted: poll again as soon as half the batch is free. */
  private backlog = false;
  private stopped = true;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: MtPumpOptions) {
    this.o = opts;
    this.limit = opts.batch;
    this.polls = opts.polls ?? new CorePolls(opts.core, opts.inFlightIds);
  }

  /** How many messages this pump may hold now (grows while the core has a backlog). */
  get holdLimit(): number {
    return this.limit;
  }

  /** Messages of this bind taken and not yet reported to the core. */
  get inFlight(): number {
    return this.mine.size;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** No new polls; messages already taken still finish. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Something changed (bound, session added): poll soon. */
  poke(): void {
    if (this.stopped || this.polling) return;
    this.schedule(0);
  }

  /** Resolves once every taken message has been reported (or abandoned). */
  idle(): Promise<void> {
    if (this.mine.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pollOnce();
    }, ms);
  }

  private async pollOnce(): Promise<void> {
    const o = this.o;
    if (this.stopped || this.polling) return;
    if (!o.canPoll()) {
      this.schedule(gridDelay(o.intervalMs, performance.now()));
      return;
    }
    const wait = o.core.retryDelayMs();
    if (wait > 0) {
      this.schedule(Math.max(wait, o.intervalMs));
      return;
    }
    const room = this.limit - this.mine.size;
    if (room <= 0) {
      this.backlog = true; // settle() polls again when room frees up
      return;
    }
    this.polling = true;
    let lease: PollLease;
    try {
      lease = await this.polls.poll(o.smscName, this, o.intervalMs);
    } catch (err) {
      this.polling = false;
      o.log.debug({ err }, 'poll failed');
      this.schedule(Math.max(o.intervalMs, o.core.retryDelayMs()));
      return;
    }
    this.polling = false;
    if (this.stopped) {
      lease.done();
      return;
    }
    const token = lease.token;
    let took = 0;
    let fresh = 0;
    const free = this.limit - this.mine.size;
    for (const m of lease.list) {
      // The core client already filters on dest_smsc; checked again because sending another
      // SMSc's message would be the worst mistake this loop can make.
      if (m.dest_smsc !== o.smscName) continue;
      if (o.inFlightIds.taken(m.id, token)) continue;
      fresh++;
      if (took >= free) continue;
      took++;
      this.take(m);
    }
    lease.done();
    if (fresh > took) {
      this.backlog = true;
      // Half of what is left in the core: the next polls carry it fewer times, and a bind that
      // cannot send that fast does not hold the whole backlog.
      const ceiling = Math.max(o.batch, o.maxBatch ?? o.batch);
      this.limit = Math.min(ceiling, Math.max(this.limit, Math.ceil((fresh - took) / 2)));
      if (this.mine.size <= this.limit / 2) this.schedule(0);
    } else {
      this.backlog = false;
      this.limit = o.batch;
      this.schedule(gridDelay(o.intervalMs, performance.now()));
    }
  }

  private take(m: CoreMessage): void {
    const o = this.o;
    o.inFlightIds.add(m.id);
    this.mine.add(m.id);
    o.acct.take();
    o.onInFlight?.(this.mine.size);
    o.deliver(m).then(
      (d) => this.decide(m, d),
      (err: unknown) =>
        this.decide(m, { outcome: 'returned', reason: (err as Error)?.message ?? String(err) }),
    );
  }

  private decide(m: CoreMessage, d: Decision): void {
    const o = this.o;
    o.acct.settle(d.outcome);
    o.onDecision?.(d, m);
    const done = (): void => this.release(m.id);
    switch (d.outcome) {
      case 'sent':
        o.reporter.report('mark_sent', m.id, () => o.core.markSent(m.id, d.carrierId), done, o.acct);
        break;
      case 'returned':
        o.reporter.report(
          'return_for_retry',
          m.id,
          () => o.core.returnForRetry(m.id, d.reason),
          done,
          o.acct,
        );
        break;
      case 'failed':
        o.reporter.report('mark_failed', m.id, () => o.core.markFailed(m.id, d.reason), done, o.acct);
        break;
      case 'released':
        done();
        break;
    }
  }

  private release(id: string): void {
    const o = this.o;
    o.inFlightIds.delete(id);
    this.mine.delete(id);
    o.onInFlight?.(this.mine.size);
    if (this.mine.size === 0 && this.idleWaiters.length > 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const r of w) r();
    }
    if (this.backlog && !this.stopped && !this.polling && this.mine.size <= this.limit / 2) {
      this.backlog = false;
      this.schedule(0);
    }
  }
}
