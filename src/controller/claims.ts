/**
 * Claim Leases of this pod: shards of client binds and pollers of partners (src/kube/lease.ts
 * explains the protocol). A claim is written only when it changes hands and is valid while our
 * member Lease is; so `held()` is true only for claims taken under the member Lease's current
 * epoch while it is valid. A fence drops them all at once, and they come back only through a
 * conditional write.
 */
import type { V1Lease } from '@kubernetes/client-node';
import { errMessage, freeSpec, heldSpec, LeaseConflict, type LeaseApi } from '../kube/lease.js';
import type { Logger } from '../log.js';

export const CLAIM_LABEL = 'smpp.omnimessage.io/claim';
export const SHARD_LABEL = 'smpp.omnimessage.io/shard';
export const SMSC_ANNOTATION = 'smpp.omnimessage.io/smsc-name';

/** What claims need from membership. */
export interface ClaimAuthority {
  readonly valid: boolean;
  readonly epoch: number;
  /** the holder has been silent a whole lease duration, confirmed by a fresh read */
  confirmGone(holder: string): Promise<boolean>;
}

export interface ClaimMeta {
  labels: Record<string, string>;
  annotations?: Record<string, string>;
}

export type AcquireResult = { held: true } | { held: false; holder: string };

function rvOf(l: V1Lease | undefined): number {
  const n = Number(l?.metadata?.resourceVersion);
  return Number.isFinite(n) ? n : NaN;
}

export class ClaimTable {
  /** claim name → epoch of the member Lease it was taken under */
  private readonly mine = new Map<string, number>();
  private readonly cache = new Map<string, V1Lease>();

  constructor(
    private readonly o: {
      api: LeaseApi;
      self: string;
      durationMs: number;
      authority: ClaimAuthority;
      log: Logger;
      onCountChange?: (n: number) => void;
    },
  ) {}

  /** A claim Lease as watched. Older copies than one we wrote ourselves are ignored. */
  observe(lease: V1Lease): void {
    const name = lease.metadata?.name;
    if (!name) return;
    const have = this.cache.get(name);
    if (have && rvOf(lease) < rvOf(have)) return;
    this.cache.set(name, lease);
  }

  observeDeleted(lease: V1Lease): void {
    const name = lease.metadata?.name;
    if (name) this.cache.delete(name);
  }

  held(name: string): boolean {
    const a = this.o.authority;
    return a.valid && this.mine.get(name) === a.epoch;
  }

  heldNames(): string[] {
    return [...this.mine.keys()].filter((n) => this.held(n));
  }

  /** The holder as last seen ('' free, undefined never seen). */
  holderOf(name: string): string | undefined {
    const l = this.cache.get(name);
    return l ? (l.spec?.holderIdentity ?? '') : undefined;
  }

  /** Claim Leases that name this pod (held or not, e.g. from before a fence or a restart). */
  namingMe(): string[] {
    return [...this.cache.entries()]
      .filter(([, l]) => (l.spec?.holderIdentity ?? '') === this.o.self)
      .map(([n]) => n);
  }

  /** Every claim is void (our member Lease lapsed): nothing may run on them any more. */
  dropAll(): void {
    this.mine.clear();
    this.count();
  }

  private count(): void {
    this.o.onCountChange?.(this.heldNames().length);
  }

  /** Takes the claim if it is free, ours, or its holder is gone. */
  async acquire(name: string, meta: ClaimMeta): Promise<AcquireResult> {
    // A conflict means someone wrote it first: decide once more from the fresh copy at once
    // (a takeover racing a release must not wait a whole retry period).
    const first = await this.acquireOnce(name, meta);
    return first.held || !first.conflict ? first : this.acquireOnce(name, meta);
  }

  private async acquireOnce(name: string, meta: ClaimMeta): Promise<AcquireResult & { conflict?: boolean }> {
    if (this.held(name)) return { held: true };
    const a = this.o.authority;
    if (!a.valid) return { held: false, holder: this.holderOf(name) ?? '' };
    const epoch = a.epoch;
    const { api, self, durationMs } = this.o;
    let cur = this.cache.get(name);
    try {
      if (!cur) {
        // Not in the watched cache: most likely it does not exist yet (a first start creates
        // every shard). A create that finds it there costs a read, as a read-first would anyway.
        try {
          const created = await api.create(
            name,
            heldSpec(self, durationMs, undefined),
            meta.labels,
            meta.annotations,
          );
          return this.took(name, created, epoch, 'created');
        } catch (err) {
          if (!(err instanceof LeaseConflict)) throw err;
          cur = await api.read(name);
          if (!cur) return { held: false, holder: '' };
          this.observe(cur);
        }
      }
      let holder = cur.spec?.holderIdentity ?? '';
      // A holder confirmed gone (after the first of its claims, without a read: see
      // confirmGone) is taken over with one conditional write; a stale copy only costs a 409.
      if (holder !== '' && holder !== self && !(await a.confirmGone(holder))) {
        // The watched copy may lag a release: read it fresh before waiting on its holder (a
        // read, never a write, and only while this pod is preferred and not holding).
        const fresh = await api.read(name);
        if (fresh) {
          this.observe(fresh);
          cur = fresh;
          holder = fresh.spec?.holderIdentity ?? '';
        }
        if (holder !== '' && holder !== self && !(await a.confirmGone(holder))) {
          return { held: false, holder };
        }
      }
      const written = await api.replace(cur, heldSpec(self, durationMs, cur.spec));
      return this.took(
        name,
        written,
        epoch,
        holder === '' ? 'free' : holder === self ? 'ours' : `from ${holder}`,
      );
    } catch (err) {
      if (err instanceof LeaseConflict) {
        this.cache.delete(name);
        const fresh = await api.read(name).catch(() => undefined);
        if (fresh) this.observe(fresh);
        return { held: false, holder: fresh?.spec?.holderIdentity ?? '', conflict: true };
      }
      this.o.log.warn({ lease: name, err: errMessage(err) }, 'claim acquire failed');
      return { held: false, holder: this.holderOf(name) ?? '' };
    }
  }

  private took(name: string, lease: V1Lease, epoch: number, how: string): AcquireResult {
    this.cache.set(name, lease);
    const a = this.o.authority;
    if (!a.valid || a.epoch !== epoch) {
      // Fenced while the write was on its way: the Lease names us, but nothing may run on it
      // until it is claimed again under the new epoch.
      return { held: false, holder: this.o.self };
    }
    this.mine.set(name, epoch);
    this.o.log.info({ lease: name, how }, 'claim taken');
    this.count();
    return { held: true };
  }

  /**
   * Gives the claim up (the caller has stopped what ran on it). Releases a Lease naming us even
   * when we no longer count it as held (after a fence), so no one has to wait for our silence.
   */
  async release(name: string): Promise<void> {
    this.mine.delete(name);
    this.count();
    const { api, self } = this.o;
    for (let attempt = 0; attempt < 2; attempt++) {
      const cur = this.cache.get(name) ?? (await api.read(name).catch(() => undefined));
      if (!cur || (cur.spec?.holderIdentity ?? '') !== self) return;
      try {
        this.cache.set(name, await api.replace(cur, freeSpec(cur.spec)));
        this.o.log.info({ lease: name }, 'claim released');
        return;
      } catch (err) {
        this.cache.delete(name);
        if (!(err instanceof LeaseConflict)) {
          this.o.log.warn({ lease: name, err: errMessage(err) }, 'claim release failed');
          return;
        }
      }
    }
  }

  /** Releases every claim Lease that names us (a clean shutdown, after every session stopped). */
  async releaseAll(): Promise<void> {
    const names = new Set([...this.mine.keys(), ...this.namingMe()]);
    await Promise.all([...names].map((n) => this.release(n)));
  }
}
