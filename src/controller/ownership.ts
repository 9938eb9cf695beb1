/**
 * Who runs which client bind, and who polls for which partner. Pure decisions; the Lease calls
 * live in claims.ts and the controller.
 *
 * - Live gateway pods are the holders of fresh member Leases (one per pod, renewed every few
 *   seconds). Leases work against any API server, with or without nodes and pods.
 * - Client binds are grouped by smscName (the core's queue is named by the SMSc header alone,
 *   so every bind that polls one queue must run on one pod), and groups are spread over a fixed
 *   number of shards. A shard's preferred pod is the rendezvous (HRW) winner over the live pods,
 *   so shards spread evenly and only ~1/n of them move when a pod joins or leaves.
 * - The shard's claim Lease is the mutual exclusion: only its holder runs the shard's sessions.
 *   A pod that is no longer preferred stops them and releases the claim (graceful handoff); the
 *   preferred pod takes a claim only when it is free, or its holder is gone.
 */
import { createHash } from 'node:crypto';

/**
 * Shards per operator installation. Fixed (every pod must agree, or two pods could compute two
 * shards for one group): 64 spreads groups over 2–3 pods within about ±15 % of an even split, a
 * failover rewrites at most 64 small objects, and a shard's handoff moves 1/64 of the binds.
 */
export const SHARDS = 64;

const shardMemo = new Map<string, number>();

/**
 * The shard of a group of client binds: sha256 of its smscName, modulo SHARDS. Remembered: a
 * failover asks it for every bind once per shard taken (64 × 1,000 hashes were a tenth of the
 * survivor's CPU while it took over). Bounded by forgetting all past 100,000 names.
 */
export function shardOf(smscName: string): number {
  let s = shardMemo.get(smscName);
  if (s === undefined) {
    s = createHash('sha256').update(smscName).digest().readUInt32BE(0) % SHARDS;
    if (shardMemo.size >= 100_000) shardMemo.clear();
    shardMemo.set(smscName, s);
  }
  return s;
}

/** The claim Lease of a shard, in the operator's namespace. */
export function shardLeaseName(shard: number): string {
  return `smpp-shard-${String(shard).padStart(2, '0')}`;
}

/** The key rendezvous hashing ranks pods for, for one shard. */
export function shardKey(shard: number): string {
  return `shard/${shard}`;
}

/** The claim Lease of the poller of the partners with this smscName, in the operator's namespace. */
export function pollerLeaseName(smscName: string): string {
  const safe =
    smscName
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .slice(0, 200)
      .replace(/^-+|-+$/g, '') || 'x';
  // The hash keeps names distinct that differ only in case or in characters a name cannot hold.
  const h = createHash('sha256').update(smscName).digest('hex').slice(0, 10);
  return `smpp-poll-${safe}-${h}`;
}

export type OwnershipAction =
  /** try to take the claim (it may still be held: then wait and retry) */
  | 'acquire'
  /** keep running it */
  | 'hold'
  /** stop the sessions, then release the claim */
  | 'release'
  /** nothing to do here: another pod runs it, or nobody should */
  | 'none';

export interface OwnershipInput {
  self: string;
  /** HRW winner among live pods; undefined when no pod is known to be live (not even self) */
  preferred: string | undefined;
  /** this pod holds the claim right now */
  holding: boolean;
  /** the thing exists and should run somewhere */
  wanted: boolean;
}

export function decideOwnership(i: OwnershipInput): OwnershipAction {
  if (!i.wanted) return i.holding ? 'release' : 'none';
  // With no live view at all (our own membership not yet written, or the API server away)
  // keep what we hold: fencing through member-Lease renewal, not the view, decides when to stop.
  if (i.preferred === undefined) return i.holding ? 'hold' : 'none';
  if (i.preferred === i.self) return i.holding ? 'hold' : 'acquire';
  return i.holding ? 'release' : 'none';
}

export interface MemberSighting {
  /** pod name (the Lease's holderIdentity) */
  holder: string;
  /** renewTime (or acquireTime) exactly as written */
  renewTime: string;
  /** the same as epoch ms on the writer's clock; undefined when never renewed */
  renewedAtWall: number | undefined;
  durationMs: number;
}

/**
 * Tracks member Leases and says which pods are live. A pod is live while we keep seeing its
 * renewTime change, timed on our own monotonic clock (as client-go's leader election does), so
 * clock skew between pods never matters. The writer's own timestamp is used once: a Lease whose
 * renewTime is already far older than its duration when we first see it (a pod that died before
 * we started) does not count as live. Silence (same renewTime, or no Lease) is what allows a
 * takeover of the pod's claims; it is always timed from our own first sighting.
 */
export class MembershipView {
  private readonly seen = new Map<string, { renewTime: string; changedAt: number; liveFrom: number }>();
  private readonly leases = new Map<string, MemberSighting>();
  private readonly absentSince = new Map<string, number>();

  constructor(private readonly skewAllowanceMs = 2_000) {}

  /** Record one member Lease as listed or watched. `now` monotonic ms, `wall` epoch ms. */
  observe(lease: MemberSighting, now: number, wall: number): void {
    const prev = this.seen.get(lease.holder);
    this.absentSince.delete(lease.holder);
    if (!prev) {
      const ancient =
        lease.renewedAtWall === undefined ||
        lease.renewedAtWall + lease.durationMs + this.skewAllowanceMs < wall;
      this.seen.set(lease.holder, {
        renewTime: lease.renewTime,
        changedAt: now,
        liveFrom: ancient ? -Infinity : now,
      });
    } else if (prev.renewTime !== lease.renewTime) {
      this.seen.set(lease.holder, { renewTime: lease.renewTime, changedAt: now, liveFrom: now });
    }
    this.leases.set(lease.holder, lease);
  }

  holders(): string[] {
    return [...this.leases.keys()];
  }

  /** The holder's Lease is gone (deleted on a clean leave, or by someone). */
  forget(holder: string, now: number): void {
    this.seen.delete(holder);
    this.leases.delete(holder);
    if (!this.absentSince.has(holder)) this.absentSince.set(holder, now);
  }

  live(now: number): string[] {
    const out: string[] = [];
    for (const [holder, lease] of this.leases) {
      const s = this.seen.get(holder);
      if (!s || lease.renewedAtWall === undefined) continue;
      if (s.liveFrom + lease.durationMs > now) out.push(holder);
    }
    return out.sort();
  }

  /** The next moment (our clock) a pod live now stops being live, if its Lease stays silent. */
  nextExpiry(now: number): number | undefined {
    let next: number | undefined;
    for (const [holder, lease] of this.leases) {
      const s = this.seen.get(holder);
      if (!s || lease.renewedAtWall === undefined) continue;
      const end = s.liveFrom + lease.durationMs;
      if (end > now && (next === undefined || end < next)) next = end;
    }
    return next;
  }

  /**
   * Since when (our clock) the holder's Lease has shown the same renewTime, or been absent
   * (renewTime undefined). A holder never seen at all starts its silence now.
   */
  silence(holder: string, now: number): { since: number; renewTime: string | undefined } {
    const s = this.seen.get(holder);
    if (s) return { since: s.changedAt, renewTime: s.renewTime };
    let since = this.absentSince.get(holder);
    if (since === undefined) {
      since = now;
      this.absentSince.set(holder, now);
    }
    return { since, renewTime: undefined };
  }
}

/** The membership Lease of one gateway pod, in the operator's namespace. */
export function memberLeaseName(pod: string): string {
  return boundedName(`smpp-operator-member-${pod}`);
}

function boundedName(base: string): string {
  if (base.length <= 253) return base;
  const h = createHash('sha256').update(base).digest('hex').slice(0, 16);
  return `${base.slice(0, 236)}-${h}`;
}
