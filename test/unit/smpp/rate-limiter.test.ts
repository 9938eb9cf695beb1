import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RateLimiter, ThrottleOnly } from '../../../src/smpp/rate-limiter.js';

/**
 * Drives a limiter with a fake clock: whenever the caller has something to send it asks, and when
 * told to wait it comes back after the wait plus `late()` ms (a timer firing late). `idle(now)`
 * says whether the caller has nothing to send then (it asks again 1 ms later). Returns the send times.
 */
function drive(
  l: RateLimiter,
  durationMs: number,
  late: () => number = () => 0,
  idle: (now: number) => boolean = () => false,
): number[] {
  const sent: number[] = [];
  let now = 0;
  while (now < durationMs) {
    if (idle(now)) {
      now += 1;
      continue;
    }
    const wait = l.take(now);
    if (wait === 0) sent.push(now);
    else if (wait > 0) now += wait + late();
    else throw new Error(`take() asked for a wait of ${wait} ms`);
  }
  return sent;
}

/** The most sends in any sliding window [t, t + windowMs). */
function worstWindow(times: number[], windowMs = 1000): number {
  let worst = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= windowMs) j++;
    worst = Math.max(worst, i - j + 1);
  }
  return worst;
}

/** The fewest sends in any window [t, t + windowMs) inside [0, durationMs). */
function leanestWindow(times: number[], durationMs: number, windowMs: number): number {
  // The count only changes where a window starts just after a send or ends on one, so the
  // candidates are t = 0 and t = (each send time) + a hair, as long as the window fits.
  let fewest = Number.POSITIVE_INFINITY;
  let end = 0;
  const starts = [0, ...times.map((t) => t + 1e-6)].filter((t) => t + windowMs <= durationMs);
  let begin = 0;
  for (const t of starts) {
    while (begin < times.length && (times[begin] as number) < t) begin++;
    if (end < begin) end = begin;
    while (end < times.length && (times[end] as number) < t + windowMs) end++;
    fewest = Math.min(fewest, end - begin);
  }
  return fewest;
}

/** A random source with a seed, so fast-check's shrinking replays the same lateness. */
function seeded(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('RateLimiter', () => {
  it('never lets more than `rate` sends into any sliding 1-second window, whatever the timing of the asks', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer(),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: 1, max: 1_500 })), {
          maxLength: 4,
        }),
        (rate, maxLateMs, seed, gaps) => {
          const rnd = seeded(seed);
          // Gaps with nothing to send let the bucket refill: the burst after them must still
          // respect the second before them.
          const idle = (now: number): boolean => gaps.some(([from, len]) => now >= from && now < from + len);
          const times = drive(new RateLimiter(rate), 6_000, () => maxLateMs * rnd(), idle);
          expect(worstWindow(times)).toBeLessThanOrEqual(rate);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sends within 1% of the limit over every 10-second window while it has something to send', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer(),
        (rate, maxLateMs, seed) => {
          const rnd = seeded(seed);
          const durationMs = 20_000;
          const times = drive(new RateLimiter(rate), durationMs, () => maxLateMs * rnd());
          const fewest = leanestWindow(times, durationMs, 10_000);
          // One send of slack for the discreteness of small rates (1 TPS: 10 sends per 10 s).
          expect(fewest).toBeGreaterThanOrEqual(Math.ceil(rate * 10 * 0.99) - 1);
          expect(worstWindow(times, 10_000)).toBeLessThanOrEqual(rate * 10);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a bind at 100 TPS sends 100 a second, not 97.5', () => {
    const rnd = seeded(42);
    // Timers firing up to 2 ms late, as on a loaded event loop.
    const times = drive(new RateLimiter(100), 60_000, () => 2 * rnd());
    const perSecond = times.length / 60;
    expect(perSecond).toBeGreaterThanOrEqual(99.5);
    expect(perSecond).toBeLessThanOrEqual(100);
    expect(worstWindow(times)).toBe(100);
  });

  it('without lateness every second is full: exactly `rate` sends in each second of a long run', () => {
    for (const rate of [1, 3, 7, 100, 997, 10_000]) {
      const times = drive(new RateLimiter(rate), 10_000);
      for (let s = 0; s < 10; s++) {
        expect(times.filter((t) => t >= s * 1000 && t < (s + 1) * 1000)).toHaveLength(rate);
      }
    }
  });

  it('polices an inbound burst at `rate` a second with burst = rate', () => {
    const l = new RateLimiter(50, { burst: 50 });
    let accepted = 0;
    for (let i = 0; i < 80; i++) if (l.take(10 + i * 0.01) === 0) accepted++;
    expect(accepted).toBe(50);
    // Everything refused in that second; the next second takes 50 again.
    expect(l.take(900)).toBeGreaterThan(0);
    accepted = 0;
    for (let i = 0; i < 80; i++) if (l.take(1010 + i * 0.01) === 0) accepted++;
    expect(accepted).toBe(50);
  });

  it('rejects rates outside 1-10000', () => {
    expect(() => new RateLimiter(0)).toThrow(RangeError);
    expect(() => new RateLimiter(10_001)).toThrow(RangeError);
    expect(() => new RateLimiter(1.5)).toThrow(RangeError);
  });

  it('pauses after throttling, doubling while throttles continue, and resets on success', () => {
    const l = new RateLimiter(1000, { throttlePauseMs: 100, maxThrottlePauseMs: 350 });
    expect(l.throttled(0)).toBe(100);
    expect(l.take(50)).toBeGreaterThan(0);
    expect(l.take(100)).toBe(0);
    expect(l.throttled(100)).toBe(200);
    expect(l.throttled(100)).toBe(350);
    l.accepted();
    expect(l.throttled(1000)).toBe(100);
    const t = new ThrottleOnly({ throttlePauseMs: 10 });
    expect(t.take(0)).toBe(0);
    t.throttled(0);
    expect(t.take(5)).toBe(5);
  });
});
