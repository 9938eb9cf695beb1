/**
 * Rendezvous (highest random weight) hashing: every pod scores every key and the highest score
 * owns it. Each pod computes the same answer from the same live set with no coordination, keys
 * spread evenly, and when a pod joins or leaves only the keys it wins or held move (~1/n).
 */
import { createHash } from 'node:crypto';

/** The weight of `member` for `key`: the first 64 bits of sha256(member NUL key). */
function hrwScore(key: string, member: string): bigint {
  return createHash('sha256').update(member).update('\0').update(key).digest().readBigUInt64BE(0);
}

/** Members ordered from most to least preferred for `key` (ties broken by name, for stability). */
export function rankOwners(key: string, members: readonly string[]): string[] {
  return [...new Set(members)]
    .map((m) => ({ m, s: hrwScore(key, m) }))
    .sort((a, b) => (a.s === b.s ? (a.m < b.m ? -1 : 1) : a.s > b.s ? -1 : 1))
    .map((x) => x.m);
}

/** The member that should own `key`, or undefined when there are no live members. */
export function preferredOwner(key: string, livePods: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const pod of livePods) {
    const s = hrwScore(key, pod);
    if (s > bestScore || (s === bestScore && best !== undefined && pod < best)) {
      best = pod;
      bestScore = s;
    }
  }
  return best;
}
