/**
 * The per-bind Leases of this pod (`smpp-scb-<bind>` in the bind's namespace), over src/kube's
 * LeaseLock. Holding the Lease is what entitles a pod to run the bind's session. The lock renews
 * in the background and reports loss once renewals have failed for renewDeadline (two thirds of
 * the duration): the session is stopped then, before any other pod can see the Lease expire.
 *
 * A lock object is kept per bind even while another pod holds the Lease: takeover of a dead
 * holder's Lease needs the same renewTime observed unchanged for a whole duration, and that
 * observation lives in the lock.
 */
import type { CoordinationV1Api } from '@kubernetes/client-node';
import { LeaseLock } from '../kube/lease.js';
import type { Logger } from '../log.js';
import type { BindLeases } from './reconcile.js';
import { bindLeaseName } from './ownership.js';

export const BIND_LEASE_LABEL = 'smpp.omnimessage.io/client-bind';

export interface BindLeaseTableOptions {
  api: CoordinationV1Api;
  holder: string;
  durationMs: number;
  log: Logger;
  /** the Lease of this bind can no longer be trusted to be ours: stop its session now */
  onLost: (key: string) => void;
  onCountChange?: (n: number) => void;
}

export class BindLeaseTable implements BindLeases {
  private readonly locks = new Map<string, LeaseLock>();
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;

  constructor(private readonly o: BindLeaseTableOptions) {
    this.renewDeadlineMs = Math.floor((o.durationMs * 2) / 3);
    this.retryMs = Math.max(200, Math.floor(o.durationMs / 5));
  }

  holding(key: string): boolean {
    return this.locks.get(key)?.held ?? false;
  }

  keys(): string[] {
    return [...this.locks.entries()].filter(([, l]) => l.held).map(([k]) => k);
  }

  private count(): void {
    this.o.onCountChange?.(this.keys().length);
  }

  private lockFor(key: string, namespace: string, bindName: string): LeaseLock {
    let lock = this.locks.get(key);
    if (!lock) {
      const created = new LeaseLock(
        this.o.api,
        {
          namespace,
          name: bindLeaseName(bindName),
          holderIdentity: this.o.holder,
          leaseDurationMs: this.o.durationMs,
          renewDeadlineMs: this.renewDeadlineMs,
          retryPeriodMs: this.retryMs,
          labels: { [BIND_LEASE_LABEL]: bindName, 'app.kubernetes.io/managed-by': 'smpp-operator' },
          onLost: () => {
            // Keep the lock (and its observations), but stop its loop: whether to take the
            // bind again is the reconciler's decision, not the lock's.
            void created.stop();
            this.count();
            this.o.onLost(key);
          },
        },
        this.o.log,
      );
      lock = created;
      this.locks.set(key, lock);
    }
    return lock;
  }

  async acquire(key: string, namespace: string, bindName: string): Promise<boolean> {
    if (this.holding(key)) return true;
    const lock = this.lockFor(key, namespace, bindName);
    const ok = await lock.tryAcquireOrRenew();
    if (ok) {
      lock.start(); // background renewals from now on
      this.count();
    }
    return ok;
  }

  async release(key: string): Promise<void> {
    const lock = this.locks.get(key);
    if (!lock) return;
    this.locks.delete(key);
    await lock.release();
    this.count();
  }

  /** Stops renewing every Lease without releasing any: they expire, as after a crash. */
  async abandonAll(): Promise<void> {
    const locks = [...this.locks.values()];
    this.locks.clear();
    await Promise.all(locks.map((l) => l.stop()));
  }

  async releaseAll(): Promise<void> {
    await Promise.all([...this.locks.keys()].map((k) => this.release(k)));
  }
}
