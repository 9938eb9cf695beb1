/**
 * Kubernetes Events (core/v1) for binds, as `kubectl describe` shows them. Repeats of the same
 * event (same object, type, reason and message) within the aggregation window bump the count of
 * one Event instead of creating new ones, so a flapping connection can't flood etcd. Emitting
 * never throws: events are best effort and logged when they fail.
 *
 * Events are the least urgent writes a pod makes: a few in flight at once (default 4), the rest
 * waiting in order, and with `yieldTo` each waits (at most `maxHoldMs`) until more urgent writes
 * are done. A failover's 500 "Bound" Events sent at once had filled the connection pool ahead of
 * the 500 status writes that say the same thing, and of the pod's own Lease renewals.
 */
import { randomBytes } from 'node:crypto';
import type { CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import { Fifo } from '../fifo.js';
import type { Logger } from '../log.js';
import { collectionPath, httpStatusOf, objectPath, requestJson } from './http.js';

export interface EventObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  resourceVersion?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  /** source.component / reportingController, e.g. "smpp-operator" */
  component: string;
  /** the pod name: source.host and reportingInstance */
  instance: string;
  /** repeats within this window update one Event; default 10 min */
  aggregateWindowMs?: number;
  /** forget series after this many distinct keys (memory bound); default 4096 */
  maxSeries?: number;
  /** Events written at once; default 4 */
  concurrency?: number;
  /** Events waiting beyond this many are dropped (and counted); default 10,000 */
  maxPending?: number;
  /** resolves when more urgent writes (status) are done: each Event waits for it first */
  yieldTo?: () => Promise<void>;
  /** the longest an Event waits for yieldTo; default 5 s */
  maxHoldMs?: number;
}

interface Pending {
  obj: EventObjectRef;
  type: EventType;
  reason: string;
  message: string;
  done: () => void;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  first: Date;
  last: number;
}

const MAX_MESSAGE = 1024;

export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly windowMs: number;
  private readonly maxSeries: number;
  private readonly concurrency: number;
  private readonly maxPending: number;
  private readonly maxHoldMs: number;
  private readonly pending = new Fifo<Pending>();
  private active = 0;
  readonly stats = { created: 0, updated: 0, failed: 0, dropped: 0, maxInFlight: 0 };

  constructor(
    /** requests go over its kept-alive connections (src/kube/http.ts) */
    private readonly kc: KubeConfig,
    private readonly opts: EventRecorderOptions,
    private readonly log: Logger,
  ) {
    this.windowMs = opts.aggregateWindowMs ?? 600_000;
    this.maxSeries = opts.maxSeries ?? 4096;
    this.concurrency = Math.max(1, opts.concurrency ?? 4);
    this.maxPending = Math.max(1, opts.maxPending ?? 10_000);
    this.maxHoldMs = opts.maxHoldMs ?? 5_000;
  }

  /** Events waiting to be written (not counting those in flight). */
  get depth(): number {
    return this.pending.size;
  }

  /** Records an event on `obj`; resolves when written (or failed and logged, or dropped). */
  emit(obj: EventObjectRef, type: EventType, reason: string, message: string): Promise<void> {
    if (this.depth >= this.maxPending) {
      this.stats.dropped++;
      if (this.stats.dropped === 1 || this.stats.dropped % 1000 === 0)
        this.log.warn(
          { dropped: this.stats.dropped, pending: this.depth },
          'too many events waiting; dropping',
        );
      return Promise.resolve();
    }
    return new Promise<void>((done) => {
      this.pending.push({ obj, type, reason, message, done });
      this.pump();
    });
  }

  private pump(): void {
    while (this.active < this.concurrency && this.pending.size > 0) {
      const job = this.pending.shift() as Pending;
      this.active++;
      if (this.active > this.stats.maxInFlight) this.stats.maxInFlight = this.active;
      void this.run(job);
    }
  }

  private async run(job: Pending): Promise<void> {
    try {
      if (this.opts.yieldTo) await this.hold(this.opts.yieldTo);
      await this.write(job.obj, job.type, job.reason, job.message);
    } finally {
      this.active--;
      job.done();
      this.pump();
    }
  }

  private async hold(yieldTo: () => Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      yieldTo().catch(() => undefined),
      new Promise<void>((r) => {
        timer = setTimeout(r, this.maxHoldMs);
      }),
    ]);
    clearTimeout(timer);
  }

  private async write(obj: EventObjectRef, type: EventType, reason: string, message: string): Promise<void> {
    const msg = message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
    const key = [obj.namespace, obj.kind, obj.name, obj.uid ?? '', type, reason, msg].join('\u0000');
    const nowMs = Date.now();
    const s = this.series.get(key);
    try {
      if (s && nowMs - s.last < this.windowMs) {
        s.count++;
        s.last = nowMs;
        try {
          await requestJson<unknown>(this.kc, 'PATCH', objectPath('v1', 'events', s.namespace, s.name), {
            body: { count: s.count, lastTimestamp: new Date(nowMs) },
            contentType: 'application/merge-patch+json',
          });
          this.stats.updated++;
          return;
        } catch (err) {
          if (httpStatusOf(err) !== 404) throw err;
          // The Event expired (events have a TTL); start a new series.
        }
      }
      const ev = this.build(obj, type, reason, msg, nowMs);
      await requestJson<unknown>(this.kc, 'POST', collectionPath('v1', 'events', obj.namespace), {
        body: ev,
      });
      this.stats.created++;
      this.remember(key, {
        name: ev.metadata.name ?? '',
        namespace: obj.namespace,
        count: 1,
        first: new Date(nowMs),
        last: nowMs,
      });
    } catch (err) {
      this.stats.failed++;
      this.log.warn(
        {
          namespace: obj.namespace,
          bind: obj.name,
          reason,
          status: httpStatusOf(err),
          err,
        },
        'could not record event',
      );
    }
  }

  private build(
    obj: EventObjectRef,
    type: EventType,
    reason: string,
    message: string,
    nowMs: number,
  ): CoreV1Event {
    const t = new Date(nowMs);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        // Same shape as client-go: <object>.<unique suffix>.
        name: `${obj.name}.${nowMs.toString(16)}${randomBytes(3).toString('hex')}`,
        namespace: obj.namespace,
      },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.name,
        namespace: obj.namespace,
        uid: obj.uid,
        resourceVersion: obj.resourceVersion,
      },
      type,
      reason,
      message,
      count: 1,
      firstTimestamp: t,
      lastTimestamp: t,
      source: { component: this.opts.component, host: this.opts.instance },
      reportingComponent: this.opts.component,
      reportingInstance: this.opts.instance,
    };
  }

  private remember(key: string, s: Series): void {
    if (this.series.size >= this.maxSeries) {
      const oldest = this.series.keys().next().value;
      if (oldest !== undefined) this.series.delete(oldest);
    }
    this.series.set(key, s);
  }
}
