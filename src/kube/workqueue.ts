/**
 * A reconcile work queue in the manner of client-go's: keys, not events, are queued, so a burst
 * of changes to one object collapses into one reconcile; one key is never processed by two
 * workers at once (a key added while it is being processed runs again right after); failures
 * are retried with per-key exponential backoff; and a handler may ask to run again later.
 */
import { EventEmitter } from 'node:events';

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
  /** keys waiting to run, in order; `queuedSet` mirrors it for O(1) dedupe */
  private readonly queue: string[] = [];
  private readonly queuedSet = new Set<string>();
  private readonly processing = new Set<string>();
  /** keys added while processing: run again when the current run ends */
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
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
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.delayed.set(key, { at, timer });
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
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(n, 52));
  }

  /** Queued now (not counting delayed keys or keys being processed). */
  get length(): number {
    return this.queue.length;
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
    if (this.queue.length === 0 && this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking keys and timers; waits for running handlers to finish. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    this.running = false;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.queue.length = 0;
    this.queuedSet.clear();
    this.dirty.clear();
    await this.idle();
  }

  private cancelDelayed(key: string): void {
    const pending = this.delayed.get(key);
    if (pending) {
      clearTimeout(pending.timer);
      this.delayed.delete(key);
    }
  }

  private pump(): void {
    while (this.running && this.processing.size < this.concurrency) {
      const key = this.queue.shift();
      if (key === undefined) break;
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
    if (this.queue.length > 0 || this.processing.size > 0) return;
    const waiters = this.idleWaiters.splice(0);
    for (const w of waiters) w();
  }
}
