/**
 * Status writes of many objects, in parallel but bounded, coalesced per object.
 *
 * A burst of status changes (a thousand binds becoming Bound after a restart) must not be a
 * thousand sequential round trips, nor a thousand at once. So: a fixed number of writes in flight
 * (default 16), first come first served; per object at most one write in flight and one waiting,
 * the waiting one replaced by each newer submission (only the latest status matters); and per
 * object at most one write per `minIntervalMs` (default 1 s). A caller submits and goes on: the
 * reconcile worker is not held for the round trip.
 *
 * Failures are retried here, with per-object exponential backoff (the caller has already moved
 * on); a newer submission replaces the one that failed. Errors a retry cannot fix (422 invalid,
 * 403 forbidden) are logged and the write given up. A write that succeeds lends its result to the
 * object's waiting write, when both were computed from the same view of the object: otherwise the
 * waiting one would carry a resourceVersion our own write just made stale and conflict for nothing.
 */
import type { Logger } from '../log.js';
import { httpStatusOf } from './http.js';
import type {
  ConflictPolicy,
  StatusObject,
  StatusResource,
  StatusTarget,
  StatusWriter,
} from './status-writer.js';
import { backoffDelay } from '../backoff.js';

export interface StatusJob {
  target: StatusTarget;
  desired: (current: StatusObject | undefined, obj: StatusResource) => StatusObject;
  /** the caller's copy of the object (the informer's): saves a read */
  current?: StatusResource;
  onConflict: ConflictPolicy;
}

export interface StatusQueueOptions {
  /** writes in flight at once; default 16 */
  concurrency?: number;
  /** least time between the starts of two writes of one object; default 1000 ms */
  minIntervalMs?: number;
  /** retry delay after a failed write, doubling to retryMaxMs; defaults 500 ms, 30 s */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** called with the object as the server stored it, after each write */
  onWritten?: (target: StatusTarget, stored: StatusResource) => void;
}

export interface StatusQueueStats {
  submitted: number;
  /** submissions that replaced one still waiting */
  coalesced: number;
  written: number;
  unchanged: number;
  /** given up after 409 (computed from a stale view; the reconcile computes anew) */
  conflicts: number;
  gone: number;
  /** failed attempts (retried unless permanent) */
  failures: number;
  /** writes given up after an error a retry cannot fix */
  abandoned: number;
  /** most writes in flight at once */
  maxInFlight: number;
}

interface Slot {
  key: string;
  waiting: StatusJob | undefined;
  inFlight: boolean;
  /** in the ready list */
  queued: boolean;
  /** no write starts before this (interval since the last write, or a retry's backoff) */
  notBefore: number;
  failures: number;
  timer: NodeJS.Timeout | undefined;
}

/** Errors a retry cannot fix: the request itself is wrong or not allowed. */
function permanent(code: number | undefined): boolean {
  return code !== undefined && code >= 400 && code < 500 && code !== 408 && code !== 409 && code !== 429;
}

export class StatusQueue {
  private readonly concurrency: number;
  private readonly minIntervalMs: number;
  private readonly retryBaseMs: number;
  private readonly retryMaxMs: number;
  private readonly onWritten: ((target: StatusTarget, stored: StatusResource) => void) | undefined;
  private readonly slots = new Map<string, Slot>();
  /** keys ready to write, oldest first, from `head` on */
  private ready: string[] = [];
  private head = 0;
  private active = 0;
  /** slots with a write waiting */
  private waiting = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** counts the returns to idle, so quiet() can tell a new burst came and went while it waited */
  private idleReturns = 0;
  /** when it last became idle (performance.now()); a queue never used has been idle forever */
  private idleAt = -Infinity;
  /** the current burst (from idle to idle): when it began and the writes it made */
  private burst: { since: number; written: number } | undefined;
  readonly stats: StatusQueueStats = {
    submitted: 0,
    coalesced: 0,
    written: 0,
    unchanged: 0,
    conflicts: 0,
    gone: 0,
    failures: 0,
    abandoned: 0,
    maxInFlight: 0,
  };

  constructor(
    private readonly writer: StatusWriter,
    private readonly log: Logger,
    opts: StatusQueueOptions = {},
  ) {
    this.concurrency = Math.max(1, opts.concurrency ?? 16);
    this.minIntervalMs = Math.max(0, opts.minIntervalMs ?? 1_000);
    this.retryBaseMs = opts.retryBaseMs ?? 500;
    this.retryMaxMs = opts.retryMaxMs ?? 30_000;
    this.onWritten = opts.onWritten;
  }

  /** Queues the write; a write of the same object still waiting is replaced by this one. */
  submit(job: StatusJob): void {
    if (this.closed) return;
    const t = job.target;
    const key = `${t.group}/${t.plural}/${t.namespace}/${t.name}`;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = {
        key,
        waiting: undefined,
        inFlight: false,
        queued: false,
        notBefore: 0,
        failures: 0,
        timer: undefined,
      };
      this.slots.set(key, slot);
    }
    this.stats.submitted++;
    if (slot.waiting) this.stats.coalesced++;
    this.setWaiting(slot, job);
    this.schedule(slot);
  }

  /** Writes waiting (for a free slot, their object's interval or a retry). */
  get depth(): number {
    return this.waiting;
  }

  get inFlight(): number {
    return this.active;
  }

  /** Resolves when no write is waiting (on a timer or not) or in flight. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves once nothing has been waiting or in flight for `ms`: a burst is over, not just
   * between two submissions (a failover's statuses come in as its sessions bind, with gaps).
   */
  async quiet(ms: number): Promise<void> {
    for (;;) {
      await this.idle();
      const left = this.idleAt + ms - performance.now();
      if (left <= 0 || this.closed) return;
      const returns = this.idleReturns;
      await new Promise<void>((r) => setTimeout(r, left).unref());
      if (this.closed || (this.isIdle() && this.idleReturns === returns)) return;
    }
  }

  /**
   * Stops taking submissions and waits up to `timeoutMs` for what is queued to be written
   * (a pod going away writes its last statuses); whatever is left after that is dropped.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.idle(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    for (const s of this.slots.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      this.setWaiting(s, undefined);
    }
    this.notifyIdle();
  }

  private isIdle(): boolean {
    return this.active === 0 && this.waiting === 0;
  }

  private setWaiting(slot: Slot, job: StatusJob | undefined): void {
    if (slot.waiting && !job) this.waiting--;
    else if (!slot.waiting && job) this.waiting++;
    slot.waiting = job;
  }

  private schedule(slot: Slot): void {
    if (slot.inFlight || slot.queued || !slot.waiting) return;
    const wait = slot.notBefore - Date.now();
    if (wait > 0) {
      // Armed even once closed: close() waits for what was submitted before it (a stopping pod's
      // Released statuses, each behind its bind's last write by up to minIntervalMs) and clears
      // the timers itself when it gives up. A timer may also fire a millisecond before Date.now()
      // reaches notBefore; this re-arms it rather than leaving the write stranded.
      if (!slot.timer) {
        slot.timer = setTimeout(() => this.onTimer(slot), wait);
        slot.timer.unref();
      }
      return;
    }
    slot.queued = true;
    this.ready.push(slot.key);
    this.pump();
  }

  private onTimer(slot: Slot): void {
    slot.timer = undefined;
    if (slot.waiting) this.schedule(slot);
    else if (!slot.inFlight && !slot.queued) this.slots.delete(slot.key);
  }

  private pump(): void {
    while (this.active < this.concurrency && this.head < this.ready.length) {
      const key = this.ready[this.head++] as string;
      const slot = this.slots.get(key);
      if (!slot) continue;
      slot.queued = false;
      const job = slot.waiting;
      if (!job || slot.inFlight) continue;
      this.setWaiting(slot, undefined);
      this.burst ??= { since: Date.now(), written: 0 };
      slot.inFlight = true;
      slot.notBefore = Date.now() + this.minIntervalMs;
      this.active++;
      if (this.active > this.stats.maxInFlight) this.stats.maxInFlight = this.active;
      void this.run(slot, job);
    }
    // The ready list is consumed from the front; drop the consumed part now and then.
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    } else if (this.head === this.ready.length) {
      this.ready = [];
      this.head = 0;
    }
  }

  private async run(slot: Slot, job: StatusJob): Promise<void> {
    const t = job.target;
    try {
      const r = await this.writer.write(t, job.desired, job.current, job.onConflict);
      slot.failures = 0;
      switch (r.outcome) {
        case 'written': {
          this.stats.written++;
          if (this.burst) this.burst.written++;
          if (r.object) this.onWritten?.(t, r.object);
          const next = slot.waiting;
          const base = job.current?.metadata?.resourceVersion;
          if (next && r.object && next.current?.metadata?.resourceVersion === base) next.current = r.object;
          break;
        }
        case 'unchanged':
          this.stats.unchanged++;
          slot.notBefore = 0;
          break;
        case 'conflict':
          this.stats.conflicts++;
          slot.notBefore = 0;
          this.log.debug(
            { namespace: t.namespace, bind: t.name },
            'status computed from a stale copy; left to the next reconcile',
          );
          break;
        case 'gone':
          this.stats.gone++;
          slot.notBefore = 0;
          break;
      }
    } catch (err) {
      this.stats.failures++;
      const code = httpStatusOf(err);
      if (permanent(code)) {
        this.stats.abandoned++;
        this.log.error(
          { namespace: t.namespace, bind: t.name, status: code, err },
          'status write refused; not retried',
        );
      } else {
        const delay = backoffDelay(slot.failures, this.retryBaseMs, this.retryMaxMs);
        slot.failures++;
        // A newer status submitted meanwhile is what to retry with; else this one.
        if (!slot.waiting) this.setWaiting(slot, job);
        slot.notBefore = Date.now() + delay;
        this.log.warn(
          { namespace: t.namespace, bind: t.name, status: code, err, retryInMs: delay },
          'status write failed; retrying',
        );
      }
    } finally {
      slot.inFlight = false;
      this.active--;
      if (slot.waiting) this.schedule(slot);
      else if (slot.notBefore > Date.now() && !this.closed) {
        // Kept until its interval is over, so a submission right after still waits for it.
        slot.timer ??= setTimeout(() => this.onTimer(slot), slot.notBefore - Date.now());
        slot.timer.unref();
      } else if (!slot.timer) this.slots.delete(slot.key);
      this.pump();
      this.notifyIdle();
    }
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    this.idleReturns++;
    this.idleAt = performance.now();
    const b = this.burst;
    this.burst = undefined;
    // A burst (a failover's, an apply's) is worth one line: how many writes, how long.
    if (b && b.written >= 50)
      this.log.info({ writes: b.written, ms: Date.now() - b.since }, 'status writes done');
    if (this.idleWaiters.length === 0) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
