/**
 * coordination.k8s.io/v1 Leases as this operator uses them: one primitive for pod membership,
 * client-bind shards and server-bind pollers.
 *
 * - A pod's member Lease is the only Lease renewed on a timer (RenewedLease). Its holder counts
 *   its validity from the START of its last successful write and fences itself (stops everything
 *   it runs) renewDeadline later without a newer one, or at once when a write finds the Lease
 *   changed or gone under it.
 * - A claim Lease (a shard of client binds, the poller of a partner) names its holder and is
 *   written only when it changes hands, always conditionally on the resourceVersion last seen
 *   (LeaseApi.replace). A claim is valid while its holder's member Lease is: so steady-state
 *   writes are one per pod per renew period, whatever the number of claims or binds.
 * - Another pod may take a claim from a holder only after it has watched the holder's member
 *   Lease keep the same renewTime (or stay absent) for a whole lease duration on its own clock,
 *   confirmed by a fresh read. That renewTime was written by a write that began before the
 *   watcher first saw it, so the holder fenced itself renewDeadline (< duration) after that: it
 *   runs nothing any more. A fenced holder forgets its claims and takes them back only by a
 *   conditional write, which either it or the taker wins. Clock skew does not matter: nobody
 *   compares timestamps written by others with its own clock.
 */
import { EventEmitter } from 'node:events';
import { V1MicroTime, type KubeConfig, type V1Lease, type V1LeaseSpec } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { collectionPath, httpStatusOf, objectPath, requestJson } from './http.js';

const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'smpp-operator' } as const;

export function leaseTimeString(t: Date | string | undefined): string {
  if (t === undefined) return '';
  return typeof t === 'string' ? t : t.toISOString();
}

/** The Lease changed since we read it (409), or is gone (404): decide again from a fresh copy. */
export class LeaseConflict extends Error {
  constructor(
    readonly lease: string,
    readonly status: number,
  ) {
    super(`lease ${lease}: ${status === 404 ? 'gone' : 'changed since read'}`);
  }
}

const LEASES = 'coordination.k8s.io/v1';

/**
 * Reads and conditional writes of the Leases of one namespace, over kept-alive connections
 * (src/kube/http.ts): membership renews every two seconds, and a failover rewrites dozens of
 * claims at once.
 */
export class LeaseApi {
  constructor(
    private readonly kc: KubeConfig,
    readonly namespace: string,
  ) {}

  private path(name?: string): string {
    return name === undefined
      ? collectionPath(LEASES, 'leases', this.namespace)
      : objectPath(LEASES, 'leases', this.namespace, name);
  }

  async read(name: string): Promise<V1Lease | undefined> {
    try {
      return await requestJson<V1Lease>(this.kc, 'GET', this.path(name));
    } catch (err) {
      if (httpStatusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async list(labelSelector: string): Promise<V1Lease[]> {
    const body = await requestJson<{ items?: V1Lease[] }>(this.kc, 'GET', this.path(), {
      query: { labelSelector },
    });
    return body.items ?? [];
  }

  /** Creates it; LeaseConflict (409) when it exists already. */
  async create(
    name: string,
    spec: V1LeaseSpec,
    labels: Record<string, string>,
    annotations?: Record<string, string>,
  ): Promise<V1Lease> {
    try {
      return await requestJson<V1Lease>(this.kc, 'POST', this.path(), {
        body: {
          apiVersion: LEASES,
          kind: 'Lease',
          metadata: {
            name,
            namespace: this.namespace,
            labels: { ...MANAGED_BY, ...labels },
            ...(annotations ? { annotations } : {}),
          },
          spec,
        },
      });
    } catch (err) {
      if (httpStatusOf(err) === 409) throw new LeaseConflict(name, 409);
      throw err;
    }
  }

  /** Replaces the spec, only if the Lease still has `lease`'s resourceVersion. */
  async replace(lease: V1Lease, spec: V1LeaseSpec): Promise<V1Lease> {
    const name = lease.metadata?.name ?? '';
    try {
      return await requestJson<V1Lease>(this.kc, 'PUT', this.path(name), {
        body: { ...lease, apiVersion: LEASES, kind: 'Lease', spec },
      });
    } catch (err) {
      const status = httpStatusOf(err);
      if (status === 409 || status === 404) throw new LeaseConflict(name, status);
      throw err;
    }
  }

  async delete(name: string): Promise<void> {
    try {
      await requestJson<unknown>(this.kc, 'DELETE', this.path(name));
    } catch (err) {
      if (httpStatusOf(err) !== 404) throw err;
    }
  }
}

/** The spec of a Lease now held by `holder` (a fresh claim, a renewal or a takeover). */
export function heldSpec(
  holder: string,
  durationMs: number,
  prev: V1LeaseSpec | undefined,
  opts: { keepAcquireTime?: boolean } = {},
): V1LeaseSpec {
  const t = new V1MicroTime();
  const takeover = prev !== undefined && (prev.holderIdentity ?? '') !== holder;
  return {
    holderIdentity: holder,
    leaseDurationSeconds: Math.max(1, Math.ceil(durationMs / 1000)),
    acquireTime: opts.keepAcquireTime && prev?.acquireTime ? prev.acquireTime : t,
    renewTime: t,
    leaseTransitions: (prev?.leaseTransitions ?? 0) + (takeover ? 1 : 0),
  };
}

/** The spec of a Lease given up: no holder, so anyone may take it at once. */
export function freeSpec(prev: V1LeaseSpec | undefined): V1LeaseSpec {
  const t = new V1MicroTime();
  return {
    ...prev,
    holderIdentity: undefined,
    leaseDurationSeconds: 1,
    renewTime: t,
    leaseTransitions: prev?.leaseTransitions ?? 0,
  };
}

export interface RenewedLeaseOptions {
  name: string;
  holder: string;
  durationMs: number;
  /** fence after this long without a successful renewal; default 2/3 of the duration */
  renewDeadlineMs?: number;
  /** between renewals; default min(2 s, duration / 3) */
  renewMs?: number;
  labels: Record<string, string>;
  log: Logger;
}

/**
 * A Lease its holder renews on a timer: the pod's member Lease. Events: 'renewed' (), 'fenced'
 * (reason): everything that relied on it must stop now. `epoch` goes up at every fence, so work
 * begun under an older epoch can tell it no longer counts.
 */
export class RenewedLease extends EventEmitter {
  readonly renewMs: number;
  readonly renewDeadlineMs: number;
  private current: V1Lease | undefined;
  private lastSuccessStart = -Infinity;
  private validFlag = false;
  private epochNo = 0;
  private timer: NodeJS.Timeout | undefined;
  private deadline: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;

  constructor(
    private readonly api: LeaseApi,
    private readonly o: RenewedLeaseOptions,
  ) {
    super();
    this.renewDeadlineMs = o.renewDeadlineMs ?? Math.floor((o.durationMs * 2) / 3);
    this.renewMs = o.renewMs ?? Math.max(200, Math.min(2_000, Math.floor(o.durationMs / 3)));
    if (this.renewDeadlineMs >= o.durationMs) {
      throw new Error(`lease ${o.name}: renewDeadlineMs must be shorter than the duration`);
    }
  }

  /** True while a renewal that began less than renewDeadline ago succeeded. */
  get valid(): boolean {
    return this.validFlag;
  }

  get epoch(): number {
    return this.epochNo;
  }

  /** One renewal now, then one every renewMs. Resolves after the first attempt. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.renewOnce();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.renewOnce().finally(() => {
        this.running = undefined;
        this.schedule();
      });
    }, this.renewMs);
    this.timer.unref();
  }

  /** One renewal (or creation). Never throws; failures are logged and counted by the deadline. */
  async renewOnce(): Promise<boolean> {
    const started = performance.now();
    const { name, holder, durationMs, labels, log } = this.o;
    try {
      if (!this.current) {
        const existing = await this.api.read(name);
        this.current = existing
          ? await this.api.replace(existing, heldSpec(holder, durationMs, existing.spec))
          : await this.api.create(name, heldSpec(holder, durationMs, undefined), labels);
      } else {
        this.current = await this.api.replace(
          this.current,
          heldSpec(holder, durationMs, this.current.spec, { keepAcquireTime: true }),
        );
      }
    } catch (err) {
      if (err instanceof LeaseConflict) {
        // Changed or deleted under us: someone may have declared us gone. Nothing we run may
        // outlive that; start over from a fresh copy.
        this.current = undefined;
        this.fence(`member lease ${err.status === 404 ? 'deleted' : 'overwritten'}`);
      } else {
        log.warn({ lease: name, err: errMessage(err), status: httpStatusOf(err) }, 'lease renewal failed');
      }
      return false;
    }
    this.lastSuccessStart = Math.max(this.lastSuccessStart, started);
    const left = this.lastSuccessStart + this.renewDeadlineMs - performance.now();
    if (left <= 0) return false;
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.fence('not renewed within renewDeadline'), left);
    this.deadline.unref();
    if (!this.validFlag) {
      this.validFlag = true;
      log.info({ lease: name }, 'member lease held');
    }
    this.emit('renewed');
    return true;
  }

  private fence(reason: string): void {
    if (this.deadline) clearTimeout(this.deadline);
    this.deadline = undefined;
    if (!this.validFlag) return;
    this.validFlag = false;
    this.epochNo++;
    // After halt() or leave() the deadline passing is the plan, not a fault: a graceful stop
    // logged a warning on every rollout.
    if (this.stopped) this.o.log.info({ lease: this.o.name, reason }, 'member lease left: claims fenced');
    else this.o.log.warn({ lease: this.o.name, reason }, 'member lease lost: fencing');
    this.emit('fenced', reason);
  }

  /** Stops renewing; the Lease expires at the others as after a crash. Fences at the deadline. */
  async halt(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Stops renewing and deletes the Lease (a clean leave). No fence: the caller is winding down
   * what it runs itself, and releases its claims after that.
   */
  async leave(): Promise<void> {
    await this.halt();
    try {
      await this.api.delete(this.o.name);
    } catch (err) {
      this.o.log.warn({ lease: this.o.name, err: errMessage(err) }, 'deleting member lease failed');
    }
  }
}

export function errMessage(err: unknown): string {
  if (err instanceof Error) {
    const body = (err as { body?: unknown }).body;
    if (typeof body === 'string' && body.length > 0) {
      try {
        const parsed = JSON.parse(body) as { message?: string };
        if (parsed.message) return parsed.message;
      } catch {
        /* not JSON */
      }
    }
    return err.message;
  }
  return String(err);
}
