import { createHash, timingSafeEqual } from 'node:crypto';
import { backoffDelay } from '../backoff.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

/** Compares two secrets in time independent of where they differ (or of their lengths). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** A non-reversible tag of a password, to notice a changed password without keeping it twice. */
export function passwordTag(password: string): string {
  return createHash('sha256').update('smpp-operator:bind:').update(password, 'utf8').digest('hex');
}

export interface SlowdownOptions {
  /** Failures from one address that cost nothing (typos happen). Default 3. */
  freeAttempts?: number;
  /** Delay after the first costly failure; doubles per failure. Default 1000 ms. */
  baseDelayMs?: number;
  /** Ceiling of the delay. Default 30000 ms. */
  maxDelayMs?: number;
  /** A quiet address is forgiven after this long. Default 15 min. */
  forgetAfterMs?: number;
  /** Addresses tracked at most (oldest forgotten first), so a flood cannot grow memory. Default 10000. */
  maxTracked?: number;
}

/**
 * Failed-bind slow-down per source address: after a few failures, every further bind attempt
 * from that address is answered only after an exponentially growing delay, so password guessing
 * is bounded to a handful of tries per minute.
 */
export class BindSlowdown {
  private readonly failures = new Map<string, { count: number; last: number }>();
  private readonly free: number;
  private readonly base: number;
  private readonly max: number;
  private readonly forget: number;
  private readonly maxTracked: number;

  constructor(opts: SlowdownOptions = {}) {
    this.free = opts.freeAttempts ?? 3;
    this.base = opts.baseDelayMs ?? 1000;
    this.max = opts.maxDelayMs ?? 30_000;
    this.forget = opts.forgetAfterMs ?? 15 * 60_000;
    this.maxTracked = opts.maxTracked ?? 10_000;
  }

  /** Delay to apply before answering a bind from this address. */
  delayFor(address: string, now = Date.now()): number {
    const f = this.failures.get(address);
    if (!f) return 0;
    if (now - f.last > this.forget) {
      this.failures.delete(address);
      return 0;
    }
    const over = f.count - this.free;
    if (over < 0) return 0;
    return backoffDelay(over, this.base, this.max);
  }

  failed(address: string, now = Date.now()): void {
    const f = this.failures.get(address);
    if (f) {
      // Re-insert so Map order stays "least recently failed first" for eviction.
      this.failures.delete(address);
      f.count++;
      f.last = now;
      this.failures.set(address, f);
      return;
    }
    if (this.failures.size >= this.maxTracked) {
      const oldest = this.failures.keys().next();
      if (!oldest.done) this.failures.delete(oldest.value);
    }
    this.failures.set(address, { count: 1, last: now });
  }

  succeeded(address: string): void {
    this.failures.delete(address);
  }

  failuresOf(address: string): number {
    return this.failures.get(address)?.count ?? 0;
  }
}
