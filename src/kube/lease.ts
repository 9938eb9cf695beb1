/**
 * One coordination.k8s.io/v1 Lease as a lock (one per client bind: exactly one session runs).
 *
 * Fencing: the holder counts its validity from the START of its last successful write, and
 * declares the lease lost after renewDeadlineMs without a newer one. Another pod may only take
 * the lease after seeing the same renewTime unchanged for a whole leaseDuration on its own clock,
 * which begins after that write; so with renewDeadline < leaseDuration the old holder has
 * stopped its session before anybody else can start one (clock skew does not matter: nobody
 * compares timestamps written by others with its own clock).
 */
import { EventEmitter } from 'node:events';
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { httpStatusOf } from './http.js';

export interface LeaseLockOptions {
  namespace: string;
  name: string;
  /** who we are: the pod name */
  holderIdentity: string;
  /** default 15 s (written to spec.leaseDurationSeconds, whole seconds, min 1) */
  leaseDurationMs?: number;
  /** give up the lease after this long without a successful renew; default 10 s; < leaseDuration */
  renewDeadlineMs?: number;
  /** interval between acquire attempts and between renewals; default 2 s */
  retryPeriodMs?: number;
  labels?: Record<string, string>;
  onAcquired?: () => void;
  /** the session must stop now: another pod may take the lease soon */
  onLost?: (reason: string) => void;
}

/** What others last showed us, and when we first saw it (monotonic ms). */
interface Observed {
  holder: string;
  renewTime: string;
  durationMs: number;
  at: number;
}

const now = (): number => performance.now();

function timeString(t: Date | string | undefined): string {
  if (t === undefined) return '';
  return typeof t === 'string' ? t : t.toISOString();
}

/**
 * Events: 'acquired' (), 'lost' (reason: string), 'released' (). The callbacks in the options
 * are called alongside. Errors are logged, never thrown from the background loop.
 */
export class LeaseLock extends EventEmitter {
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  private readonly durationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryMs: number;
  private heldFlag = false;
  /** bumped on every loss/release: answers that arrive for an older epoch are ignored */
  private epoch = 0;
  private lastSuccessStart = 0;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private loopTimer: NodeJS.Timeout | undefined;
  private loopRunning: Promise<void> | undefined;
  private stopped = true;
  private observed: Observed | undefined;
  private current: V1Lease | undefined;

  constructor(
    private readonly api: CoordinationV1Api,
    private readonly opts: LeaseLockOptions,
    private readonly log: Logger,
  ) {
    super();
    this.namespace = opts.namespace;
    this.name = opts.name;
    this.identity = opts.holderIdentity;
    this.durationMs = Math.max(1000, opts.leaseDurationMs ?? 15_000);
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryMs = opts.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.durationMs) {
      throw new Error(`lease ${this.name}: renewDeadlineMs must be shorter than leaseDurationMs`);
    }
  }

  get held(): boolean {
    return this.heldFlag;
  }

  /** Keeps trying to acquire, then renews, until stop() or release(). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /**
   * Stops the background loop without releasing: the lease expires at others as after a crash.
   * A held lease still reports 'lost' when its renew deadline passes, since nothing renews it.
   * tryAcquireOrRenew() keeps working after stop() for callers that drive it themselves.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.loopTimer) clearTimeout(this.loopTimer);
    this.loopTimer = undefined;
    await this.loopRunning;
  }

  /** Stops the loop and, if we hold the lease, marks it free so another pod takes it at once. */
  async release(): Promise<void> {
    await this.stop();
    if (!this.heldFlag) return;
    this.heldFlag = false;
    this.epoch++;
    this.clearDeadline();
    const cur = this.current;
    if (!cur?.metadata?.resourceVersion) return;
    const t = new V1MicroTime();
    try {
      this.current = await this.api.replaceNamespacedLease({
        name: this.name,
        namespace: this.namespace,
        body: {
          ...cur,
          spec: {
            ...cur.spec,
            holderIdentity: undefined,
            leaseDurationSeconds: 1,
            renewTime: t,
            acquireTime: t,
          },
        },
      });
      this.log.info({ lease: this.name, namespace: this.namespace }, 'lease released');
    } catch (err) {
      // Someone else already wrote it (or it is gone): nothing of ours to release.
      this.log.warn(
        { lease: this.name, namespace: this.namespace, status: httpStatusOf(err) },
        'lease release failed',
      );
    }
    this.emit('released');
  }

  /** One attempt: acquire if free/expired/ours, else renew if we hold it. True if held after. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const epoch = this.epoch;
    const started = now();
    const wasHeld = this.heldFlag;
    let lease: V1Lease | undefined;
    try {
      lease = this.heldFlag && this.current ? this.current : await this.read();
      if (!lease) {
        this.current = await this.api.createNamespacedLease({
          namespace: this.namespace,
          body: this.fresh(),
        });
        return this.succeeded(epoch, started, 'created');
      }
      const holder = lease.spec?.holderIdentity ?? '';
      this.observe(lease);
      if (holder !== this.identity && holder !== '' && !this.expired()) {
        if (wasHeld) this.lose(`lease taken by ${holder}`);
        return false;
      }
      const t = new V1MicroTime();
      const takeover = holder !== this.identity;
      const spec = {
        ...lease.spec,
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
        renewTime: t,
        ...(takeover || !wasHeld ? { acquireTime: t } : {}),
        ...(takeover ? { leaseTransitions: (lease.spec?.leaseTransitions ?? 0) + 1 } : {}),
      };
      this.current = await this.api.replaceNamespacedLease({
        name: this.name,
        namespace: this.namespace,
        body: { ...lease, spec },
      });
      return this.succeeded(epoch, started, takeover ? 'taken over' : 'renewed');
    } catch (err) {
      const status = httpStatusOf(err);
      if (status === 409 && wasHeld) {
        // Our copy is stale: re-read and decide again on the next attempt (soon).
        this.current = undefined;
        const fresh = await this.read().catch(() => undefined);
        if (fresh && (fresh.spec?.holderIdentity ?? '') !== this.identity) {
          this.lose(`lease taken by ${fresh.spec?.holderIdentity ?? 'nobody'}`);
          return false;
        }
        this.current = fresh;
      } else if (status !== 409) {
        this.log.warn(
          { lease: this.name, namespace: this.namespace, status, err: (err as Error).message },
          wasHeld ? 'lease renew failed' : 'lease acquire failed',
        );
      }
      return this.heldFlag;
    }
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.api.readNamespacedLease({ name: this.name, namespace: this.namespace });
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw err;
    }
  }

  private fresh(): V1Lease {
    const t = new V1MicroTime();
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: this.name, namespace: this.namespace, labels: this.opts.labels },
      spec: {
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.durationMs / 1000),
        acquireTime: t,
        renewTime: t,
        leaseTransitions: 0,
      },
    };
  }

  private observe(lease: V1Lease): void {
    const holder = lease.spec?.holderIdentity ?? '';
    const renewTime = timeString(lease.spec?.renewTime);
    const durationMs = (lease.spec?.leaseDurationSeconds ?? Math.ceil(this.durationMs / 1000)) * 1000;
    const o = this.observed;
    if (!o || o.holder !== holder || o.renewTime !== renewTime || o.durationMs !== durationMs) {
      this.observed = { holder, renewTime, durationMs, at: now() };
    }
  }

  private expired(): boolean {
    const o = this.observed;
    return o !== undefined && now() - o.at > o.durationMs;
  }

  private succeeded(epoch: number, started: number, how: string): boolean {
    if (epoch !== this.epoch) {
      // We gave the lease up while this request was in flight; it will expire at others.
      return false;
    }
    this.lastSuccessStart = started;
    this.observed = undefined;
    this.armDeadline();
    if (!this.heldFlag) {
      this.heldFlag = true;
      this.log.info({ lease: this.name, namespace: this.namespace, how }, 'lease acquired');
      this.emit('acquired');
      this.opts.onAcquired?.();
    }
    return true;
  }

  private armDeadline(): void {
    this.clearDeadline();
    const left = this.lastSuccessStart + this.renewDeadlineMs - now();
    this.deadlineTimer = setTimeout(() => this.lose('not renewed within renewDeadline'), Math.max(0, left));
    this.deadlineTimer.unref();
  }

  private clearDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }

  private lose(reason: string): void {
    if (!this.heldFlag) return;
    this.heldFlag = false;
    this.epoch++;
    this.current = undefined;
    this.clearDeadline();
    this.log.warn({ lease: this.name, namespace: this.namespace, reason }, 'lease lost');
    this.emit('lost', reason);
    this.opts.onLost?.(reason);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.loopTimer = setTimeout(() => {
      this.loopTimer = undefined;
      this.loopRunning = this.tryAcquireOrRenew()
        .catch(() => false)
        .then(() => {
          this.loopRunning = undefined;
          this.schedule(this.retryMs);
        });
    }, ms);
  }
}
