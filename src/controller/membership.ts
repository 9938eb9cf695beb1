/**
 * Gateway pod membership through one Lease per pod (`smpp-operator-member-<pod>` in the
 * operator's namespace, label smpp.omnimessage.io/member=true). Each pod renews its own Lease
 * and lists the others on the same tick; the live set feeds rendezvous hashing.
 *
 * Leases rather than Pods: they work against a bare API server (tests run no nodes), they say
 * "this process is running its controller" rather than "a container exists", and a pod that
 * shuts down deletes its Lease so the others take its binds at once.
 */
import { V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { MembershipView, memberLeaseName } from './ownership.js';

export const MEMBER_LABEL = 'smpp.omnimessage.io/member';

export interface MembershipOptions {
  api: CoordinationV1Api;
  namespace: string;
  podName: string;
  durationMs: number;
  /** default durationMs / 3, at most 2 s */
  renewMs?: number;
  log: Logger;
  /** called with the sorted live pods whenever that set changes */
  onChange: (live: string[]) => void;
  onError?: (op: string) => void;
}

export function httpStatus(err: unknown): number | undefined {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; statusCode?: unknown; response?: { statusCode?: unknown } };
    if (typeof e.code === 'number') return e.code;
    if (typeof e.statusCode === 'number') return e.statusCode;
    if (typeof e.response?.statusCode === 'number') return e.response.statusCode;
  }
  return undefined;
}

function toMs(t: Date | string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

export class Membership {
  private readonly view = new MembershipView();
  private readonly leaseName: string;
  private readonly renewMs: number;
  private timer: NodeJS.Timeout | undefined;
  private current: V1Lease | undefined;
  private lastLive: string[] = [];
  private stopped = false;
  private ticking: Promise<void> | undefined;

  constructor(private readonly o: MembershipOptions) {
    this.leaseName = memberLeaseName(o.podName);
    // Renewed (and the others listed) at least every 2 s: one small write per pod, and it bounds
    // how late a dead pod is noticed to about one lease duration plus this period.
    this.renewMs = o.renewMs ?? Math.max(200, Math.min(2_000, Math.floor(o.durationMs / 3)));
  }

  live(): string[] {
    return this.lastLive;
  }

  /** Writes our Lease and reads the others once, then keeps doing so on a timer. */
  async start(): Promise<void> {
    await this.tick();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.ticking = this.tick().finally(() => this.schedule());
    }, this.renewMs);
    this.timer.unref?.();
  }

  /** Recompute liveness without talking to the API server (expiry happens without events). */
  reevaluate(): void {
    const live = this.view.live(Date.now());
    if (live.join('\n') !== this.lastLive.join('\n')) {
      this.lastLive = live;
      this.o.onChange(live);
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.renew();
    } catch (err) {
      this.o.onError?.('renew');
      this.o.log.warn({ err: errText(err), lease: this.leaseName }, 'membership lease renewal failed');
    }
    try {
      await this.refresh();
    } catch (err) {
      this.o.onError?.('list');
      this.o.log.warn({ err: errText(err) }, 'listing membership leases failed');
    }
    this.reevaluate();
  }

  private leaseBody(): V1Lease {
    const now = new V1MicroTime();
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: this.leaseName,
        namespace: this.o.namespace,
        labels: { [MEMBER_LABEL]: 'true', 'app.kubernetes.io/managed-by': 'smpp-operator' },
        ...(this.current?.metadata?.resourceVersion
          ? { resourceVersion: this.current.metadata.resourceVersion }
          : {}),
      },
      spec: {
        holderIdentity: this.o.podName,
        leaseDurationSeconds: Math.max(1, Math.ceil(this.o.durationMs / 1000)),
        acquireTime: this.current?.spec?.acquireTime ?? now,
        renewTime: now,
      },
    };
  }

  private async renew(): Promise<void> {
    const { api, namespace } = this.o;
    if (!this.current) {
      try {
        this.current = await api.createNamespacedLease({ namespace, body: this.leaseBody() });
        return;
      } catch (err) {
        if (httpStatus(err) !== 409) throw err;
        this.current = await api.readNamespacedLease({ name: this.leaseName, namespace });
      }
    }
    try {
      this.current = await api.replaceNamespacedLease({
        name: this.leaseName,
        namespace,
        body: this.leaseBody(),
      });
    } catch (err) {
      const code = httpStatus(err);
      // Someone (a previous run of this pod name, an admin) changed or deleted it: start over.
      if (code === 409 || code === 404) this.current = undefined;
      throw err;
    }
  }

  private async refresh(): Promise<void> {
    const list = await this.o.api.listNamespacedLease({
      namespace: this.o.namespace,
      labelSelector: `${MEMBER_LABEL}=true`,
    });
    const now = Date.now();
    const present = new Set<string>();
    for (const l of list.items) {
      const holder = l.spec?.holderIdentity;
      if (!holder) continue;
      present.add(holder);
      this.view.observe(
        {
          holder,
          renewedAt: toMs(l.spec?.renewTime ?? l.spec?.acquireTime),
          durationMs: (l.spec?.leaseDurationSeconds ?? 15) * 1000,
        },
        now,
      );
    }
    for (const holder of this.view.holders()) if (!present.has(holder)) this.view.forget(holder);
  }

  /** Stops renewing but leaves the Lease to expire, as a killed process would. */
  async halt(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking?.catch(() => undefined);
  }

  /** Stops renewing and deletes our Lease so the other pods take over our binds immediately. */
  async stop(): Promise<void> {
    await this.halt();
    try {
      await this.o.api.deleteNamespacedLease({ name: this.leaseName, namespace: this.o.namespace });
    } catch (err) {
      if (httpStatus(err) !== 404) this.o.log.warn({ err: errText(err) }, 'deleting membership lease failed');
    }
  }
}

export function errText(err: unknown): string {
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
