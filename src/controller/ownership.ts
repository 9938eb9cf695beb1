/**
 * Who runs which client bind. Pure decisions; the Lease calls live in the controller.
 *
 * - Live gateway pods are the holders of fresh "membership" Leases (one per pod, renewed every
 *   few seconds). Leases work against any API server, with or without nodes and pods.
 * - The preferred owner of a bind is the rendezvous (HRW) winner over the live pods, so binds
 *   spread evenly and only ~1/n of them move when a pod joins or leaves.
 * - The bind's own Lease is the mutual exclusion: only its holder runs the session. A pod that
 *   is no longer preferred stops the session and releases the Lease (graceful handoff); the
 *   preferred pod takes a Lease only when it is free or expired.
 */
import { createHash } from 'node:crypto';

export type OwnershipAction =
  /** try to take the bind's Lease (it may still be held: then wait and retry) */
  | 'acquire'
  /** keep running it */
  | 'hold'
  /** stop the session, then release the Lease */
  | 'release'
  /** nothing to do here: another pod runs it, or nobody should */
  | 'none';

export interface OwnershipInput {
  self: string;
  /** HRW winner among live pods; undefined when no pod is known to be live (not even self) */
  preferred: string | undefined;
  /** this pod holds the bind's Lease right now */
  holding: boolean;
  /** the bind exists, is not being deleted and is not waiting on anything that stops it from running */
  wanted: boolean;
}

export function decideOwnership(i: OwnershipInput): OwnershipAction {
  if (!i.wanted) return i.holding ? 'release' : 'none';
  // With no live view at all (our own membership not yet written, or the API server away)
  // keep what we hold: fencing through Lease renewal, not membership, decides when to stop.
  if (i.preferred === undefined) return i.holding ? 'hold' : 'none';
  if (i.preferred === i.self) return i.holding ? 'hold' : 'acquire';
  return i.holding ? 'release' : 'none';
}

export interface MemberLease {
  /** pod name (the Lease's holderIdentity) */
  holder: string;
  /** renewTime (or acquireTime) as epoch ms; undefined when never renewed */
  renewedAt: number | undefined;
  durationMs: number;
}

/**
 * Tracks membership Leases and says which pods are live. A pod is live while we keep seeing
 * its renewTime change, timed on our own clock (as client-go's leader election does), so clock
 * skew between pods never matters. The writer's own timestamp is used once: a Lease whose
 * renewTime is already far older than its duration when we first see it (a pod that died
 * before we started) does not count as live for a whole duration.
 */
export class MembershipView {
  private readonly seen = new Map<string, { renewedAt: number | undefined; observedAt: number }>();
  private readonly leases = new Map<string, MemberLease>();

  constructor(private readonly skewAllowanceMs = 2_000) {}

  /** Record the current state of one membership Lease (from a list or watch event). */
  observe(lease: MemberLease, now: number): void {
    const prev = this.seen.get(lease.holder);
    if (!prev) {
      const ancient =
        lease.renewedAt === undefined || lease.renewedAt + lease.durationMs + this.skewAllowanceMs < now;
      this.seen.set(lease.holder, { renewedAt: lease.renewedAt, observedAt: ancient ? -Infinity : now });
    } else if (prev.renewedAt !== lease.renewedAt) {
      this.seen.set(lease.holder, { renewedAt: lease.renewedAt, observedAt: now });
    }
    this.leases.set(lease.holder, lease);
  }

  holders(): string[] {
    return [...this.leases.keys()];
  }

  forget(holder: string): void {
    this.seen.delete(holder);
    this.leases.delete(holder);
  }

  live(now: number): string[] {
    const out: string[] = [];
    for (const [holder, lease] of this.leases) {
      const s = this.seen.get(holder);
      if (!s || lease.renewedAt === undefined) continue;
      if (s.observedAt + lease.durationMs > now) out.push(holder);
    }
    return out.sort();
  }
}

/**
 * A Kubernetes object name for a bind's Lease. Names are DNS subdomains of at most 253
 * characters; a long bind name is cut and suffixed with a hash so two binds never share one.
 */
export function bindLeaseName(bindName: string): string {
  return boundedName(`smpp-scb-${bindName}`);
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
