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
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { LeaseLock } from '../kube/lease.js';
import type { Logger } from '../log.js';
import type { BindLeases } from './reconcile.js';
import { errText, httpStatus } from './membership.js';
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

/** A bind Lease as last seen through the watch, and since when (monotonic ms) it looks like that. */
interface Sighting {
  lease: V1Lease;
  holder: string;
  renewTime: string;
  since: number;
}

function timeString(t: Date | string | undefined): string {
  if (t === undefined) return '';
  return typeof t === 'string' ? t : t.toISOString();
}

export class BindLeaseTable implements BindLeases {
  private readonly locks = new Map<string, LeaseLock>();
  private readonly sightings = new Map<string, Sighting>();
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;

  constructor(private readonly o: BindLeaseTableOptions) {
    this.renewDeadlineMs = Math.floor((o.durationMs * 2) / 3);
    this.retryMs = Math.max(200, Math.floor(o.durationMs / 4));
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

  /**
   * Records a bind Lease seen through the watch. The watch lets this pod time another holder's
   * silence from long before it wants the bind (a dead pod's Leases are being timed while its
   * membership expires), so a takeover waits one lease duration in total, not two.
   */
  observe(lease: V1Lease, deleted = false): void {
    const ns = lease.metadata?.namespace ?? '';
    const bind = lease.metadata?.labels?.[BIND_LEASE_LABEL];
    if (!bind) return;
    const key = `${ns}/${bind}`;
    if (deleted) {
      this.sightings.delete(key);
      return;
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const renewTime = timeString(lease.spec?.renewTime);
    const prev = this.sightings.get(key);
    const since =
      prev && prev.holder === holder && prev.renewTime === renewTime ? prev.since : performance.now();
    this.sightings.set(key, { lease, holder, renewTime, since });
  }

  /** The holder of the bind's Lease as last watched ('' when free or unknown). */
  watchedHolder(key: string): string {
    return this.sightings.get(key)?.holder ?? '';
  }

  async acquire(key: string, namespace: string, bindName: string): Promise<boolean> {
    if (this.holding(key)) return true;
    const lock = this.lockFor(key, namespace, bindName);
    // A Lease we watched go silent is taken directly (one write instead of a failed attempt first).
    const silent = await this.takeOverSilent(key);
    const ok = await lock.tryAcquireOrRenew();
    if (!ok && silent)
      this.o.log.warn({ namespace, bind: bindName }, 'took a silent lease but could not hold it');
    if (ok) {
      // Background renewals from within the next period on (start() would renew again at once).
      // A random phase spreads the renewals of binds taken together (startup, failover) over
      // the period instead of sending them to the API server as one burst every period.
      const t = setTimeout(
        () => {
          if (this.locks.get(key) === lock && lock.held) lock.start();
        },
        Math.floor(this.retryMs * (0.2 + 0.8 * Math.random())),
      );
      t.unref();
      this.count();
    }
    return ok;
  }

  /**
   * Takes a Lease whose renewTime we have watched stay unchanged for a whole lease duration on
   * our own clock. Its holder stopped acting on it renewDeadline after its last successful write
   * began, which was before we first saw that renewTime: it can no longer be running the session.
   * The write is conditional on the resourceVersion we watched, so a renewal we have not seen
   * yet makes it fail (409) instead of stealing a live Lease.
   */
  private async takeOverSilent(key: string): Promise<boolean> {
    const s = this.sightings.get(key);
    if (!s || s.holder === '' || s.holder === this.o.holder) return false;
    const durationMs = (s.lease.spec?.leaseDurationSeconds ?? Math.ceil(this.o.durationMs / 1000)) * 1000;
    if (performance.now() - s.since <= durationMs) return false;
    const t = new V1MicroTime();
    const ns = s.lease.metadata?.namespace ?? '';
    const name = s.lease.metadata?.name ?? '';
    try {
      await this.o.api.replaceNamespacedLease({
        name,
        namespace: ns,
        body: {
          ...s.lease,
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          spec: {
            ...s.lease.spec,
            holderIdentity: this.o.holder,
            leaseDurationSeconds: Math.ceil(this.o.durationMs / 1000),
            acquireTime: t,
            renewTime: t,
            leaseTransitions: (s.lease.spec?.leaseTransitions ?? 0) + 1,
          },
        },
      });
      this.o.log.info({ namespace: ns, lease: name, from: s.holder }, 'took over a silent bind lease');
      return true;
    } catch (err) {
      if (httpStatus(err) !== 409) {
        this.o.log.warn({ namespace: ns, lease: name, err: errText(err) }, 'bind lease takeover failed');
      }
      return false;
    }
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
