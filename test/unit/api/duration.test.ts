import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, isDuration, parseDuration } from '../../../src/api/duration.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1.5s', 1500],
    ['2h0m5s10ms', 7_205_010],
  ])('%s = %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 's', '1 m', '-1s', '1d', '1mm', '1.s', 'PT30S'])('rejects %j with a hint', (text) => {
    expect(isDuration(text)).toBe(false);
    expect(() => parseDuration(text)).toThrow(DurationError);
    expect(() => parseDuration(text)).toThrow(/e\.g\. "500ms"/);
  });

  it('formatDuration and parseDuration are inverse for whole milliseconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 24 * 3_600_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});
