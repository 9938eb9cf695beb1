import type { Phase } from '../api/index.js';
import type { ServerSessionInfo } from '../smpp/server-listener.js';

export type { ResolvedClientBind, ResolvedServerBind, Phase } from '../api/index.js';

/** What the gateway reports for one bind; the controller turns it into the resource's status. */
export interface BindRuntimeStatus {
  phase: Phase;
  boundSince?: Date;
  lastError?: string;
  /** Server binds: live partner sessions on this process. */
  sessions?: ServerSessionInfo[];
}

export type BindKind = 'SmppClientBind' | 'SmppServerBind';

export function sameStatus(a: BindRuntimeStatus | undefined, b: BindRuntimeStatus): boolean {
  if (!a) return false;
  if (a.phase !== b.phase || a.lastError !== b.lastError) return false;
  if (a.boundSince?.getTime() !== b.boundSince?.getTime()) return false;
  const sa = a.sessions ?? [];
  const sb = b.sessions ?? [];
  if (sa.length !== sb.length) return false;
  return sa.every((s, i) => s.id === sb[i]?.id);
}

export interface PollToken {
  startedAt: number;
}

/**
 * Core message ids currently handled anywhere in this process (taken, or waiting for the core to
 * acknowledge their outcome): never taken twice. Receipts wait on whenReleased() so a fast
 * carrier's "delivered" cannot reach the core before our own "sent" and be overwritten by it.
 */
export class InFlightIds {
  private readonly ids = new Map<string, (() => void)[] | null>();
  /**
   * Ids released while a poll was on its way, with the release time: that poll's answer is a
   * snapshot from before the release and still lists them, so taking them again would send a
   * message twice (sent) or ignore the core's backoff (returned).
   */
  private readonly released = new Map<string, number>();
  private readonly polls = new Set<PollToken>();

  get size(): number {
    return this.ids.size;
  }

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (!this.ids.has(id)) this.ids.set(id, null);
  }

  delete(id: string): void {
    const waiters = this.ids.get(id);
    this.ids.delete(id);
    if (this.polls.size > 0) {
      this.released.delete(id);
      this.released.set(id, performance.now());
    }
    if (waiters) for (const w of waiters) w();
  }

  /** Call before sending a poll; pass the token to stale() and endPoll() when it answers. */
  beginPoll(): PollToken {
    const t: PollToken = { startedAt: performance.now() };
    this.polls.add(t);
    return t;
  }

  endPoll(t: PollToken): void {
    this.polls.delete(t);
    if (this.polls.size === 0) {
      this.released.clear();
      return;
    }
    let oldest = Infinity;
    for (const p of this.polls) oldest = Math.min(oldest, p.startedAt);
    // Map order is release order: drop what no outstanding poll can still list.
    for (const [id, at] of this.released) {
      if (at >= oldest) break;
      this.released.delete(id);
    }
  }

  /** True when `id` is in flight, or was released after the poll `t` was sent. */
  taken(id: string, t: PollToken): boolean {
    if (this.ids.has(id)) return true;
    const at = this.released.get(id);
    return at !== undefined && at >= t.startedAt;
  }

  /** Resolves true once `id` is no longer in flight, false after timeoutMs. */
  whenReleased(id: string, timeoutMs: number): Promise<boolean> {
    if (!this.ids.has(id)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      const list = this.ids.get(id) ?? [];
      list.push(() => {
        clearTimeout(t);
        resolve(true);
      });
      this.ids.set(id, list);
    });
  }
}
