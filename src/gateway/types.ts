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

/**
 * Core message ids currently handled anywhere in this process (taken, or waiting for the core to
 * acknowledge their outcome): never taken twice. Receipts wait on whenReleased() so a fast
 * carrier's "delivered" cannot reach the core before our own "sent" and be overwritten by it.
 */
export class InFlightIds {
  private readonly ids = new Map<string, (() => void)[] | null>();

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
    if (waiters) for (const w of waiters) w();
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
