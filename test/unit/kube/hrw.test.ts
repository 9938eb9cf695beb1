import { describe, expect, it } from 'vitest';
import { preferredOwner, rankOwners } from '../../../src/kube/hrw.js';

const pods = (n: number): string[] =>
  Array.from({ length: n }, (_, i) => `smpp-operator-${i}-x${(i * 7919) % 97}`);
const keys = (n: number): string[] => Array.from({ length: n }, (_, i) => `ns-${i % 5}/bind-${i}`);

function spread(ks: string[], ps: string[]): Map<string, number> {
  const counts = new Map<string, number>(ps.map((p) => [p, 0]));
  for (const k of ks) {
    const o = preferredOwner(k, ps);
    if (o === undefined) throw new Error('no owner');
    counts.set(o, (counts.get(o) ?? 0) + 1);
  }
  return counts;
}

describe('preferredOwner (rendezvous hashing)', () => {
  it('has no owner without live pods, and the only pod owns everything', () => {
    expect(preferredOwner('a/b', [])).toBeUndefined();
    expect(preferredOwner('a/b', ['p1'])).toBe('p1');
  });

  it('does not depend on the order (or duplicates) of the live pods', () => {
    const ps = pods(7);
    for (const k of keys(50)) {
      const a = preferredOwner(k, ps);
      expect(preferredOwner(k, [...ps].reverse())).toBe(a);
      expect(preferredOwner(k, [...ps, ...ps])).toBe(a);
      expect(rankOwners(k, ps)[0]).toBe(a);
    }
  });

  it('spreads 1000 keys evenly over 20 pods', () => {
    const counts = [...spread(keys(1000), pods(20)).values()];
    // 50 expected per pod; binomial sd ~6.9, so 20..80 is > 4 sd either side.
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...counts)).toBeLessThanOrEqual(80);
  });

  it('spreads 1000 keys evenly over 4 pods', () => {
    const counts = [...spread(keys(1000), pods(4)).values()];
    // 250 expected per pod; sd ~13.7.
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(190);
    expect(Math.max(...counts)).toBeLessThanOrEqual(310);
  });

  it('moves only keys won by a new pod when one is added, and only a removed pod`s keys when one leaves', () => {
    const ks = keys(1000);
    const before = pods(10);
    const added = [...before, 'smpp-operator-new'];
    let moved = 0;
    for (const k of ks) {
      const a = preferredOwner(k, before);
      const b = preferredOwner(k, added);
      if (a !== b) {
        moved++;
        expect(b).toBe('smpp-operator-new');
      }
    }
    // ~1000/11 = 91 expected.
    expect(moved).toBeGreaterThan(40);
    expect(moved).toBeLessThan(160);

    const gone = before[3] ?? '';
    const after = before.filter((p) => p !== gone);
    for (const k of ks) {
      const a = preferredOwner(k, before);
      if (a !== gone) expect(preferredOwner(k, after)).toBe(a);
    }
  });
});
