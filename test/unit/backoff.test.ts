import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, equalJitter } from '../../src/backoff.js';

describe('backoffDelay', () => {
  it('doubles from the minimum per attempt up to the cap', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelay(n, 100, 1000))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('stays finite and capped for huge attempt counts and a zero minimum', () => {
    expect(backoffDelay(5000, 100, 30_000)).toBe(30_000);
    expect(backoffDelay(5000, 0, 30_000)).toBe(0);
    expect(backoffDelay(5000, 1, Infinity)).toBe(2 ** 52);
  });

  it('treats a negative attempt as the first', () => {
    expect(backoffDelay(-1, 100, 1000)).toBe(100);
  });
});

describe('equalJitter', () => {
  it('keeps half fixed and randomises the other half', () => {
    expect(equalJitter(1000, () => 0)).toBe(500);
    expect(equalJitter(1000, () => 0.5)).toBe(750);
    expect(equalJitter(1000, () => 0.999999)).toBeCloseTo(1000, 2);
  });
});

describe('Backoff', () => {
  it('grows exponentially with jitter between min and max', () => {
    const lo = new Backoff(100, 1000, () => 0);
    expect([lo.next(), lo.next(), lo.next(), lo.next(), lo.next()]).toEqual([100, 100, 200, 400, 500]);
    const hi = new Backoff(100, 1000, () => 0.999999);
    expect([hi.next(), hi.next(), hi.next(), hi.next(), hi.next()]).toEqual([100, 200, 400, 800, 1000]);
    hi.reset();
    expect(hi.next()).toBe(100);
    expect(hi.attempts).toBe(1);
    expect(() => new Backoff(10, 5)).toThrow(RangeError);
  });
});
