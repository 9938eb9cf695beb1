/**
 * A reconcile work queue in the manner of client-go's: keys, not events, are queued, so a burst
 * of changes to one object collapses into one reconcile; one key is never processed by two
 * workers at once (a key added while it is being processed runs again right after); failures
 * are retried with per-key exponential backoff; and a handler may ask to run again later.
 *
 * Sized for tens of thousands of keys (a resync queues every bind at once): the queue is a Fifo
 * (src/fifo.ts) instead of Array.shift (which copies the array each time), and delayed keys
 * wait in one min-heap under one timer instead of a timer each.
 */
import { EventEmitter } from 'node:events';
import { backoffDelay } from '../backoff.js';
import { Fifo } from '../fifo.js';

export interface WorkQueueOptions {
  /** parallel workers (distinct keys); default 1 */
  concurrency?: number;
  /** first retry delay after a failure; default 500 ms */
  baseDelayMs?: number;
  /** retry delay cap; default 60 s */
  maxDelayMs?: number;
}

/** What a handler may return: nothing (done) or a request to run the key again later. */
export type HandlerResult = void | { requeueAfterMs: number };
export type KeyHandler = (key: string) => Promise<HandlerResult>;

/**
 * Events: 'error' is NOT used (an unhandled 'error' would crash the process); failures are
 * reported as 'failed' (key: string, err: unknown, retryInMs: number).
 */
export class WorkQueue extends EventEmitter {
  private readonly concurrency: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  /** keys waiting to run, in order from `head`; `queuedSet` mirrors it for O(1) dedupe */
  private readonly queue = new Fifo<string>();
  private readonly queuedSet = new Set<string>();
  private readonly processing = new Set<string>();
  /** keys added while processing: run again when the current run ends */
  private readonly dirty = new Set<string>();
  /** due time of each delayed key; the heap orders them (stale heap entries are skipped) */
  private readonly delayed = new Map<string, number>();
  private readonly heap = new DueHeap();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly failures = new Map<string, number>();
  private readonly idleWaiters: (() => void)[] = [];
  private running = false;
  private shuttingDown = false;

  constructor(
    private readonly handler: KeyHandler,
    opts: WorkQueueOptions = {},
  ) {
    super();
    this.concurrency = Math.max(1, opts.concurrency ?? 1);
    this.baseDelayMs = opts.baseDelayMs ?? 500;
    this.maxDelayMs = opts.maxDelayMs ?? 60_000;
  }

  /** Begins processing (keys added before start wait). */
  start(): void {
    if (this.shuttingDown) return;
    this.running = true;
    this.pump();
  }

  /** Queues a key now. Cancels a pending delayed add of it (this run supersedes it). */
  add(key: string): void {
    if (this.shuttingDown) return;
    this.cancelDelayed(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queuedSet.has(key)) return;
    this.queuedSet.add(key);
    this.queue.push(key);
    this.pump();
  }

  /** Queues a key after a delay; if it is already due sooner (queued or delayed), that wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    if (this.queuedSet.has(key)) return;
    const at = Date.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending !== undefined && pending <= at) return;
    this.delayed.set(key, at);
    this.heap.push(at, key);
    // Superseded entries wait in the heap until due; rebuild before they outnumber the live ones.
    if (this.heap.size > 2 * this.delayed.size + 1024) {
      this.heap.clear();
      for (const [k, t] of this.delayed) this.heap.push(t, k);
    }
    this.arm();
  }

  /** One timer, for the earliest delayed key. */
  private arm(): void {
    const next = this.heap.peekAt();
    if (next === undefined || this.shuttingDown) return;
    if (this.timer && this.timerAt <= next) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, next - Date.now()));
    this.timer.unref();
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    for (;;) {
      const top = this.heap.peekAt();
      if (top === undefined || top > now) break;
      const { at, key } = this.heap.pop() as { at: number; key: string };
      // Only the entry matching the key's current due time counts; others were superseded.
      if (this.delayed.get(key) !== at) continue;
      this.delayed.delete(key);
      this.add(key);
    }
    this.arm();
  }

  /** Queues a key after its backoff delay and counts one more failure for it; returns the delay. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = this.backoffDelay(n);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears a key's failure count (its next failure retries after baseDelayMs again). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** How many times in a row this key has failed. */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Delay before retry number n+1 (n = failures so far): base * 2^n, capped. */
  backoffDelay(n: number): number {
    return backoffDelay(n, this.baseDelayMs, this.maxDelayMs);
  }

  /** Queued now (not counting delayed keys or keys being processed). */
  get length(): number {
    return this.queue.size;
  }

  /** Keys waiting on a timer (delayed or backing off). */
  get delayedCount(): number {
    return this.delayed.size;
  }

  isProcessing(key: string): boolean {
    return this.processing.has(key);
  }

  /** Resolves when nothing is queued or processing (delayed keys may still be pending). */
  idle(): Promise<void> {
    if (this.length === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking keys and timers; waits for running handlers to finish. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.delayed.clear();
    this.heap.clear();
    this.queue.clear();
    this.queuedSet.clear();
    this.dirty.clear();
    await this.idle();
  }

  private cancelDelayed(key: string): void {
    // Its heap entry stays and is skipped when it comes up.
    this.delayed.delete(key);
  }

  private pump(): void {
    while (this.running && this.processing.size < this.concurrency && this.queue.size > 0) {
      const key = this.queue.shift() as string;
      this.queuedSet.delete(key);
      this.processing.add(key);
      void this.process(key);
    }
    this.notifyIdle();
  }

  private async process(key: string): Promise<void> {
    let result: HandlerResult = undefined;
    let failed = false;
    let error: unknown;
    try {
      result = await this.handler(key);
    } catch (err) {
      failed = true;
      error = err;
    }
    this.processing.delete(key);
    if (!this.shuttingDown) {
      if (failed) {
        const delay = this.addRateLimited(key);
        this.emit('failed', key, error, delay);
      } else {
        this.forget(key);
        if (result && result.requeueAfterMs >= 0) this.addAfter(key, result.requeueAfterMs);
      }
      if (this.dirty.delete(key)) this.add(key);
    }
    this.pump();
  }

  private notifyIdle(): void {
    if (this.length > 0 || this.processing.size > 0) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }
}

/** Binary min-heap of (due time, key). */
class DueHeap {
  private ats: number[] = [];
  private keys: string[] = [];

  get size(): number {
    return this.ats.length;
  }

  peekAt(): number | undefined {
    return this.ats[0];
  }

  clear(): void {
    this.ats = [];
    this.keys = [];
  }

  push(at: number, key: string): void {
    const a = this.ats;
    const k = this.keys;
    let i = a.length;
    a.push(at);
    k.push(key);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if ((a[p] as number) <= at) break;
      a[i] = a[p] as number;
      k[i] = k[p] as string;
      i = p;
    }
    a[i] = at;
    k[i] = key;
  }

  pop(): { at: number; key: string } | undefined {
    const a = this.ats;
    const k = this.keys;
    if (a.length === 0) return undefined;
    const top = { at: a[0] as number, key: k[0] as string };
    const lastAt = a.pop() as number;
    const lastKey = k.pop() as string;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (a[r] as number) < (a[l] as number) ? r : l;
        if ((a[c] as number) >= lastAt) break;
        a[i] = a[c] as number;
        k[i] = k[c] as string;
        i = c;
      }
      a[i] = lastAt;
      k[i] = lastKey;
    }
    return top;
  }
}
