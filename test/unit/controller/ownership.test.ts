import { describe, expect, it } from 'vitest';
import { bindLeaseName, decideOwnership, MembershipView } from '../../../src/controller/ownership.js';

describe('decideOwnership', () => {
  it('acquires when preferred, releases when not, holds without a live view', () => {
    expect(decideOwnership({ self: 'a', preferred: 'a', holding: false, wanted: true })).toBe('acquire');
    expect(decideOwnership({ self: 'a', preferred: 'a', holding: true, wanted: true })).toBe('hold');
    expect(decideOwnership({ self: 'a', preferred: 'b', holding: true, wanted: true })).toBe('release');
    expect(decideOwnership({ self: 'a', preferred: 'b', holding: false, wanted: true })).toBe('none');
    expect(decideOwnership({ self: 'a', preferred: undefined, holding: true, wanted: true })).toBe('hold');
    expect(decideOwnership({ self: 'a', preferred: undefined, holding: false, wanted: true })).toBe('none');
    expect(decideOwnership({ self: 'a', preferred: 'a', holding: true, wanted: false })).toBe('release');
    expect(decideOwnership({ self: 'a', preferred: 'a', holding: false, wanted: false })).toBe('none');
  });
});

describe('MembershipView', () => {
  it('counts a pod live while its Lease keeps being renewed, and drops it after one duration', () => {
    const v = new MembershipView(0);
    v.observe({ holder: 'a', renewedAt: 1_000, durationMs: 5_000 }, 1_000);
    v.observe({ holder: 'b', renewedAt: 1_000, durationMs: 5_000 }, 1_000);
    expect(v.live(2_000)).toEqual(['a', 'b']);
    v.observe({ holder: 'a', renewedAt: 5_000, durationMs: 5_000 }, 5_000);
    expect(v.live(7_000)).toEqual(['a']);
    v.forget('a');
    expect(v.live(7_000)).toEqual([]);
  });

  it('does not count a long-dead Lease as live when first seen', () => {
    const v = new MembershipView(1_000);
    v.observe({ holder: 'old', renewedAt: 0, durationMs: 5_000 }, 3_600_000);
    expect(v.live(3_600_000)).toEqual([]);
  });

  it('keeps a pod whose clock runs behind live while it renews', () => {
    const v = new MembershipView(1_000);
    // Its renewTime is an hour in the past by our clock, but it keeps changing.
    v.observe({ holder: 'slow', renewedAt: 10_000, durationMs: 5_000 }, 3_600_000);
    v.observe({ holder: 'slow', renewedAt: 12_000, durationMs: 5_000 }, 3_602_000);
    expect(v.live(3_603_000)).toEqual(['slow']);
    v.observe({ holder: 'slow', renewedAt: 14_000, durationMs: 5_000 }, 3_604_000);
    expect(v.live(3_608_000)).toEqual(['slow']);
    expect(v.live(3_609_500)).toEqual([]);
  });

  it('does not trust a renewTime from a fast clock that never moves', () => {
    const v = new MembershipView(0);
    // The holder's clock runs an hour ahead; its renewTime looks fresh by server time forever.
    v.observe({ holder: 'skewed', renewedAt: 3_600_000, durationMs: 5_000 }, 0);
    expect(v.live(1_000)).toEqual(['skewed']);
    expect(v.live(6_000)).toEqual([]);
  });
});

describe('bindLeaseName', () => {
  it('stays a valid name for any bind name and keeps long names distinct', () => {
    expect(bindLeaseName('vodafone')).toBe('smpp-scb-vodafone');
    const long1 = bindLeaseName('x'.repeat(250) + 'a');
    const long2 = bindLeaseName('x'.repeat(250) + 'b');
    expect(long1.length).toBeLessThanOrEqual(253);
    expect(long1).not.toBe(long2);
  });
});
