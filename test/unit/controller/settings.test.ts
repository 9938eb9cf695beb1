import { describe, expect, it } from 'vitest';
import { leaseDurationFromEnv } from '../../../src/controller/controller.js';

describe('LEASE_DURATION_SECONDS', () => {
  it('is optional and read in seconds', () => {
    expect(leaseDurationFromEnv({})).toBeUndefined();
    expect(leaseDurationFromEnv({ LEASE_DURATION_SECONDS: '4' })).toBe(4000);
    expect(leaseDurationFromEnv({ LEASE_DURATION_SECONDS: '2.5' })).toBe(2500);
  });

  it('rejects nonsense with a message naming the setting', () => {
    expect(() => leaseDurationFromEnv({ LEASE_DURATION_SECONDS: 'soon' })).toThrow(/LEASE_DURATION_SECONDS/);
    expect(() => leaseDurationFromEnv({ LEASE_DURATION_SECONDS: '1' })).toThrow(/between 2 and 300/);
  });
});
