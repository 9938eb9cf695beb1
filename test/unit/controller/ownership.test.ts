import { describe, expect, it } from 'vitest';
import { preferredOwner } from '../../../src/kube/hrw.js';
import {
  decideOwnership,
  MembershipView,
  memberLeaseName,
  pollerLeaseName,
  SHARDS,
  shardKey,
  shardLeaseName,
  shardOf,
} from '../../../src/controller/ownership.js';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

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

describe('shards', () => {
  it('puts one smscName in one shard, whatever the bind or namespace', () => {
    expect(shardOf('vodafone_uk')).toBe(shardOf('vodafone_uk'));
    const s = shardOf('vodafone_uk');
    expect(s).toBeGreaterThanOrEqual(0);
    expect(s).toBeLessThan(SHARDS);
  });

  it('spreads 1,000 groups over the shards, and the shards evenly over pods', () => {
    const perShard = new Array<number>(SHARDS).fill(0);
    for (let i = 0; i < 1000; i++) perShard[shardOf(`carrier_${i}`)]!++;
    expect(Math.min(...perShard)).toBeGreaterThan(0);
    expect(Math.max(...perShard)).toBeLessThan(40); // mean 15.6
    for (const pods of [
      ['gw-a', 'gw-b'],
      ['gw-a', 'gw-b', 'gw-c'],
    ]) {
      const n: Record<string, number> = {};
      for (let i = 0; i < SHARDS; i++) {
        const p = preferredOwner(shardKey(i), pods) as string;
        n[p] = (n[p] ?? 0) + 1;
      }
      for (const p of pods) expect(n[p], p).toBeGreaterThan((SHARDS / pods.length) * 0.6);
    }
  });

  it('moves only the shards a new pod wins when it joins (~1/n)', () => {
    let moved = 0;
    for (let i = 0; i < SHARDS; i++) {
      const before = preferredOwner(shardKey(i), ['gw-a', 'gw-b']);
      const after = preferredOwner(shardKey(i), ['gw-a', 'gw-b', 'gw-c']);
      if (before !== after) {
        moved++;
        expect(after).toBe('gw-c');
      }
    }
    expect(moved).toBeGreaterThan(SHARDS / 6);
    expect(moved).toBeLessThan(SHARDS / 2);
  });

  it('names every claim Lease validly and distinctly', () => {
    expect(shardLeaseName(7)).toBe('smpp-shard-07');
    const names = ['partner_acme', 'Partner_Acme', 'x'.repeat(300), '__', 'a.b-c'].map(pollerLeaseName);
    for (const n of names) {
      expect(n).toMatch(DNS_SUBDOMAIN);
      expect(n.length).toBeLessThanOrEqual(253);
    }
    expect(new Set(names).size).toBe(names.length);
    expect(memberLeaseName('gw-a')).toBe('smpp-operator-member-gw-a');
    expect(memberLeaseName('p'.repeat(300)).length).toBeLessThanOrEqual(253);
  });
});

describe('MembershipView', () => {
  const sight = (holder: string, renewTime: string, wall: number, durationMs = 5_000) => ({
    holder,
    renewTime,
    renewedAtWall: wall,
    durationMs,
  });

  it('counts a pod live while its Lease keeps being renewed, and drops it after one duration', () => {
    const v = new MembershipView(0);
    v.observe(sight('a', 't1', 1_000), 1_000, 1_000);
    v.observe(sight('b', 't1', 1_000), 1_000, 1_000);
    expect(v.live(2_000)).toEqual(['a', 'b']);
    v.observe(sight('a', 't2', 5_000), 5_000, 5_000);
    v.observe(sight('b', 't1', 1_000), 5_000, 5_000);
    expect(v.live(7_000)).toEqual(['a']);
    v.forget('a', 7_000);
    expect(v.live(7_000)).toEqual([]);
  });

  it('does not count a long-dead Lease as live when first seen', () => {
    const v = new MembershipView(1_000);
    v.observe(sight('old', 't0', 0), 10, 3_600_000);
    expect(v.live(10)).toEqual([]);
  });

  it('times silence from our own first sighting, never from the writer’s clock', () => {
    const v = new MembershipView(1_000);
    // Written an hour "ago" by a skewed clock: silence still starts when we first see it.
    v.observe(sight('skewed', 't0', 0), 100, 3_600_000);
    expect(v.silence('skewed', 100)).toEqual({ since: 100, renewTime: 't0' });
    v.observe(sight('skewed', 't0', 0), 5_000, 3_605_000);
    expect(v.silence('skewed', 5_000).since).toBe(100);
    v.observe(sight('skewed', 't1', 1), 6_000, 3_606_000);
    expect(v.silence('skewed', 6_000)).toEqual({ since: 6_000, renewTime: 't1' });
    // Gone from the list: absent from then on; never seen at all: silent from the first question.
    v.forget('skewed', 7_000);
    expect(v.silence('skewed', 9_000)).toEqual({ since: 7_000, renewTime: undefined });
    expect(v.silence('stranger', 9_000)).toEqual({ since: 9_000, renewTime: undefined });
    expect(v.silence('stranger', 20_000).since).toBe(9_000);
  });
});
