import { backoffDelay } from '../backoff.js';

/**
 * TPS limiter: a token bucket for smooth pacing plus a log of the last `rate` send times, so
 * that no 1-second window (sliding, not calendar-aligned) ever holds more than `rate` sends —
 * a plain token bucket lets `burst + rate` through in a second, which carriers count as a breach.
 * Also carries the back-off applied when the peer answers ESME_RTHROTTLED.
 *
 * The window is exactly one second: a bind set to 100 TPS sends 100 a second, not less. What it
 * still loses is the caller's timer lateness at each window edge (a send `rate` sends after
 * another waits for that one's second to be over, and a late timer delays it), typically
 * 1-2 ms a second, i.e. 0.1-0.2%. Arrival jitter at the peer is the peer's to absorb: the bucket
 * spaces sends 1/rate apart, so only the sends at a window's edge can be counted early.
 */
const WINDOW_MS = 1000;
// The shortest wait returned: keeps callers on a fake clock from adding a wait too small to
// move a large timestamp (floating point), and is below any real timer's resolution.
const MIN_WAIT_MS = 0.001;

export interface LimiterOptions {
  throttlePauseMs?: number;
  maxThrottlePauseMs?: number;
  burst?: number;
}

/** Back-off after ESME_RTHROTTLED: a pause that doubles with each throttle in a row, up to a maximum. */
export class ThrottleOnly {
  protected pausedUntil = 0;
  private throttleStreak = 0;
  private readonly minPauseMs: number;
  private readonly maxPauseMs: number;

  constructor(opts: { throttlePauseMs?: number; maxThrottlePauseMs?: number } = {}) {
    this.minPauseMs = opts.throttlePauseMs ?? 200;
    this.maxPauseMs = opts.maxThrottlePauseMs ?? 10_000;
  }

  /** 0 to send now, else the ms to wait (tpsLimit unset: only the throttle pause limits). */
  take(now: number = performance.now()): number {
    return now < this.pausedUntil ? this.pausedUntil - now : 0;
  }

  /** The peer said ESME_RTHROTTLED: stop sending for a while, longer each time in a row. Returns the pause in ms. */
  throttled(now: number = performance.now()): number {
    const pause = backoffDelay(this.throttleStreak, this.minPauseMs, this.maxPauseMs);
    this.throttleStreak++;
    this.pausedUntil = Math.max(this.pausedUntil, now + pause);
    return pause;
  }

  /** A request went through: the throttle streak is over. */
  accepted(): void {
    this.throttleStreak = 0;
  }
}

export class RateLimiter extends ThrottleOnly {
  readonly rate: number;
  private readonly burst: number;
  private tokens: number;
  private last: number;
  private readonly log: Float64Array;
  private head = 0;

  constructor(rate: number, opts: LimiterOptions = {}) {
    if (!Number.isInteger(rate) || rate < 1 || rate > 10_000) {
      throw new RangeError(`TPS limit must be an integer from 1 to 10000, got ${rate}`);
    }
    super(opts);
    this.rate = rate;
    // By default one send plus 20 ms worth of credit: enough to catch up after a timer that
    // fired late (a bucket of exactly one token forgets the time each late timer cost: at 5 TPS,
    // 5 ms late per send would be 2.5%), small enough that the back-to-back sends it allows at
    // the edges of 1-second windows cost under 0.2% over 10 s. Policing someone else's traffic
    // uses burst = rate: only the 1-second count matters there.
    this.burst = opts.burst !== undefined ? Math.max(1, Math.min(rate, opts.burst)) : 1 + rate / 50;
    this.tokens = this.burst;
    this.last = Number.NEGATIVE_INFINITY; // first take() starts with a full bucket
    this.log = new Float64Array(rate).fill(-Infinity);
  }

  /**
   * Takes one send slot if available and returns 0; otherwise returns how many ms to wait
   * before asking again (nothing is consumed).
   */
  override take(now: number = performance.now()): number {
    if (now < this.pausedUntil) return this.pausedUntil - now;
    const elapsed = now - this.last;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.rate) / 1000);
    if (this.tokens < 1) return Math.max(MIN_WAIT_MS, ((1 - this.tokens) * 1000) / this.rate);
    // log[head] is the time of the send `rate` sends ago: this send may go once that one's
    // second is over.
    const oldest = this.log[this.head] as number;
    if (now - oldest < WINDOW_MS) return Math.max(MIN_WAIT_MS, WINDOW_MS - (now - oldest));
    this.tokens -= 1;
    this.log[this.head] = now;
    this.head = this.head + 1 === this.rate ? 0 : this.head + 1;
    return 0;
  }
}

export type Limiter = RateLimiter | ThrottleOnly;

export function createLimiter(rate: number | undefined, opts: LimiterOptions = {}): Limiter {
  return rate === undefined || rate <= 0 ? new ThrottleOnly(opts) : new RateLimiter(rate, opts);
}
