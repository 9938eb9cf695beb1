/**
 * Gateway pod membership: one member Lease per pod (`smpp-operator-member-<pod>` in the
 * operator's namespace, label smpp.omnimessage.io/member=true), renewed by its pod (RenewedLease)
 * and listed by every pod on the same tick. The live set feeds rendezvous hashing; the member
 * Lease is also what keeps every claim of its pod (shards, pollers) valid, so it is the only
 * Lease written at steady state.
 *
 * Leases rather than Pods: they work against a bare API server (tests run no nodes), they say
 * "this process is running its controller" rather than "a container exists", and a pod that
 * shuts down deletes its Lease so the others stop preferring it at once.
 */
import type { V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { errMessage, leaseTimeString, RenewedLease, type LeaseApi } from '../kube/lease.js';
import { MembershipView, memberLeaseName } from './ownership.js';

export const MEMBER_LABEL = 'smpp.omnimessage.io/member';
const ABSENT = '\u0000absent';

export interface MembershipOptions {
  api: LeaseApi;
  podName: string;
  durationMs: number;
  /** default min(2 s, duration / 3) */
  renewMs?: number;
  log: Logger;
  /** called with the sorted live pods whenever that set changes */
  onChange: (live: string[]) => void;
  /** our own member Lease could not be renewed in time (or was overwritten): stop everything */
  onFenced: (reason: string) => void;
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

/** The resourceVersion a list was answered at; items carry their own, the newest bounds it. */
function listRv(list: V1Lease[]): number {
  let max = 0;
  for (const l of list) max = Math.max(max, Number(l.metadata?.resourceVersion) || 0);
  return max;
}

function toMs(t: Date | string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

export class Membership {
  private readonly view = new MembershipView();
  readonly lease: RenewedLease;
  private readonly leaseName: string;
  private timer: NodeJS.Timeout | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryAt: number | undefined;
  private lastLive: string[] = [];
  private stopped = false;
  private ticking: Promise<void> | undefined;
  /** holder → the renewTime (or ABSENT) a fresh read confirmed silent for a whole duration */
  private readonly confirmed = new Map<string, string>();
  /** resourceVersion of the newest copy seen of each member Lease */
  private readonly rvs = new Map<string, number>();

  constructor(private readonly o: MembershipOptions) {
    this.leaseName = memberLeaseName(o.podName);
    this.lease = new RenewedLease(o.api, {
      name: this.leaseName,
      holder: o.podName,
      durationMs: o.durationMs,
      ...(o.renewMs !== undefined ? { renewMs: o.renewMs } : {}),
      labels: { [MEMBER_LABEL]: 'true' },
      log: o.log,
    });
    this.lease.on('fenced', (reason: string) => o.onFenced(reason));
  }

  get durationMs(): number {
    return this.o.durationMs;
  }

  /** True while our own member Lease is known to be renewed in time: claims may be used. */
  get valid(): boolean {
    return this.lease.valid;
  }

  get epoch(): number {
    return this.lease.epoch;
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
    }, this.lease.renewMs);
    this.timer.unref?.();
  }

  /** Recompute liveness without talking to the API server (expiry happens without events). */
  reevaluate(): void {
    const now = performance.now();
    const live = this.view.live(now);
    if (live.join('\n') !== this.lastLive.join('\n')) {
      this.lastLive = live;
      this.o.onChange(live);
    }
    this.armExpiry(now);
  }

  /**
   * A timer at the moment the next live pod's silence reaches a whole duration: a dead pod's
   * claims are taken at its expiry, not up to a periodic check later (the controller's interval
   * stays as a backstop). Re-armed on every evaluation; a renewal seen meanwhile just moves it.
   */
  private armExpiry(now: number): void {
    if (this.stopped) return;
    const at = this.view.nextExpiry(now);
    if (at === this.expiryAt) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    this.expiryAt = at;
    if (at === undefined) return;
    this.expiryTimer = setTimeout(
      () => {
        this.expiryTimer = undefined;
        this.expiryAt = undefined;
        this.reevaluate();
      },
      Math.max(0, at - now) + 1,
    );
    this.expiryTimer.unref?.();
  }

  private async tick(): Promise<void> {
    if (!(await this.lease.renewOnce())) this.o.onError?.('renew');
    try {
      await this.refresh();
    } catch (err) {
      this.o.onError?.('list');
      this.o.log.warn({ err: errMessage(err) }, 'listing membership leases failed');
    }
    this.reevaluate();
  }

  private async refresh(): Promise<void> {
    const list = await this.o.api.list(`${MEMBER_LABEL}=true`);
    const now = performance.now();
    const present = new Set<string>();
    for (const l of list) {
      const holder = l.spec?.holderIdentity;
      if (!holder) continue;
      present.add(holder);
      this.sighted(l, now);
    }
    for (const holder of this.view.holders()) {
      if (present.has(holder)) continue;
      // Gone from a list newer than anything watched of it: its Lease was deleted.
      const rv = this.rvs.get(holder);
      if (rv === undefined || rv <= listRv(list)) this.forgetHolder(holder, now);
    }
  }

  /**
   * A member Lease as watched (add/update): its renewal is seen within milliseconds instead of
   * at our next list, so a dead pod's silence is timed from its last renewal, not up to one
   * renew period later. Copies older than one already seen (a list answered before a watch
   * event) are ignored, so a renewTime never seems to change back.
   */
  observeLease(l: V1Lease): void {
    if (l.spec?.holderIdentity) this.sighted(l, performance.now());
    this.reevaluate();
  }

  /** A member Lease deleted (a clean leave): the pod is gone now. */
  observeLeaseDeleted(l: V1Lease): void {
    const holder = l.spec?.holderIdentity;
    if (holder && holder !== this.o.podName) this.forgetHolder(holder, performance.now());
    this.reevaluate();
  }

  private sighted(l: V1Lease, now: number): void {
    const holder = l.spec?.holderIdentity;
    if (!holder) return;
    const rv = Number(l.metadata?.resourceVersion);
    const have = this.rvs.get(holder);
    if (Number.isFinite(rv) && have !== undefined && rv < have) return;
    if (Number.isFinite(rv)) this.rvs.set(holder, rv);
    this.view.observe(
      {
        holder,
        renewTime: leaseTimeString(l.spec?.renewTime ?? l.spec?.acquireTime),
        renewedAtWall: toMs(l.spec?.renewTime ?? l.spec?.acquireTime),
        durationMs: (l.spec?.leaseDurationSeconds ?? 15) * 1000,
      },
      now,
      Date.now(),
    );
  }

  private forgetHolder(holder: string, now: number): void {
    this.rvs.delete(holder);
    this.view.forget(holder, now);
  }

  /**
   * True when `holder` can no longer be running anything: its member Lease has kept one
   * renewTime (or stayed absent) for a whole lease duration on our clock, and a fresh read
   * still shows exactly that. Its claims may then be taken over.
   */
  async confirmGone(holder: string): Promise<boolean> {
    if (holder === this.o.podName) return false;
    const now = performance.now();
    const silence = this.view.silence(holder, now);
    if (now - silence.since <= this.o.durationMs) return false;
    // One fresh read per silence, not one per claim: a dead pod's 32 shards are then taken with
    // one write each. Safe because the holder, silent a whole duration, has fenced itself and
    // gets a claim back only through a conditional write, whatever it does after our read.
    const memo = silence.renewTime ?? ABSENT;
    if (this.confirmed.get(holder) === memo) return true;
    const fresh = await this.o.api.read(memberLeaseName(holder));
    const renewTime = fresh ? leaseTimeString(fresh.spec?.renewTime ?? fresh.spec?.acquireTime) : undefined;
    if (renewTime === silence.renewTime) {
      this.confirmed.set(holder, memo);
      return true;
    }
    this.confirmed.delete(holder);
    // It moved after all: record the sighting, so the clock starts again from now.
    if (fresh) this.sighted(fresh, performance.now());
    else this.forgetHolder(holder, performance.now());
    return false;
  }

  /** Stops renewing but leaves the Lease to expire, as a killed process would. */
  async halt(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    await this.ticking?.catch(() => undefined);
    await this.lease.halt();
  }

  /** Stops renewing and deletes our Lease so the other pods stop preferring us at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    await this.ticking?.catch(() => undefined);
    await this.lease.leave();
  }
}

export function errText(err: unknown): string {
  return errMessage(err);
}
