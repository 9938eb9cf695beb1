import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RateLimiter, ThrottleOnly } from '../../../src/smpp/rate-limiter.js';

/** Drives a limiter with a fake clock as fast as it allows; returns the send times. */
function drive(l: RateLimiter, durationMs: number, stepJitter: () => number = () => 0): number[] {
  const sent: number[] = [];
  let now = 0;
  while (now < durationMs) {
    const wait = l.take(now);
    if (wait === 0) sent.push(now);
    else now += wait + stepJitter();
  }
  return sent;
}

function worstWindow(times: number[], windowMs = 1000): number {
  let worst = 0;
  let j = 0;
  for (let i = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= windowMs) j++;
    worst = Math.max(worst, i - j + 1);
  }
  return worst;
}

describe('RateLimiter', () => {
  it('never lets more than `rate` sends into any sliding 1-second window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 7 }), (rate, jitter) => {
        const l = new RateLimiter(rate);
        const times = drive(l, 3500, () => jitter * Math.random());
        expect(worstWindow(times)).toBeLessThanOrEqual(rate);
        // ...and actually delivers close to the rate (at least 90% over 3.5 s).
        expect(times.length).toBeGreaterThanOrEqual(Math.floor(rate * 3.5 * 0.9) - 1);
      }),
      { numRuns: 60 },
    );
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
