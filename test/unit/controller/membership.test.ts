import type { V1Lease, V1LeaseSpec } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Membership } from '../../../src/controller/membership.js';
import { memberLeaseName } from '../../../src/controller/ownership.js';
import type { LeaseApi } from '../../../src/kube/lease.js';
import { createLogger } from '../../../src/log.js';

/** Leases in memory, with increasing resourceVersions, as the API server keeps them. */
class MemoryLeases {
  private rv = 1;
  readonly items = new Map<string, V1Lease>();

  put(name: string, spec: V1LeaseSpec, labels: Record<string, string> = {}): V1Lease {
    // V1MicroTime is a Date subclass made before the clock was faked: it keeps real time, so two
    // renewals within one real millisecond would look identical. Stamp them with the test's clock.
    const renewTime = new Date().toISOString() as unknown as Date;
    const l: V1Lease = {
      metadata: { name, labels, resourceVersion: String(++this.rv) },
      spec: { ...spec, renewTime },
    };
    this.items.set(name, l);
    return l;
  }

  api(): LeaseApi {
    const fake = {
      namespace: 'ops',
      read: (name: string) => Promise.resolve(this.items.get(name)),
      list: () => Promise.resolve([...this.items.values()]),
      create: (name: string, spec: V1LeaseSpec, labels: Record<string, string>) =>
        Promise.resolve(this.put(name, spec, labels)),
      replace: (lease: V1Lease, spec: V1LeaseSpec) =>
        Promise.resolve(this.put(lease.metadata?.name ?? '', spec, lease.metadata?.labels ?? {})),
      delete: (name: string) => Promise.resolve(void this.items.delete(name)),
    };
    return fake as unknown as LeaseApi;
  }
}

/** pod-a's Membership on `store`, renewing far apart so only the expiry timer can be on time. */
function podA(store: MemoryLeases, onChange: (live: string[]) => void = () => undefined): Membership {
  return new Membership({
    api: store.api(),
    podName: 'pod-a',
    durationMs: 15_000,
    renewMs: 9_000,
    log: createLogger({ level: 'silent' }),
    onChange,
    onFenced: () => undefined,
  });
}

/** pod-b renews its member Lease, and pod-a's watch sees it at once. */
function renewB(store: MemoryLeases, m: Membership): void {
  m.observeLease(
    store.put(
      memberLeaseName('pod-b'),
      {
        holderIdentity: 'pod-b',
        leaseDurationSeconds: 15,
        renewTime: new Date().toISOString() as unknown as Date,
      },
      { 'smpp.omnimessage.io/member': 'true' },
    ),
  );
}

describe('Membership', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('drops a silent pod at the moment its duration ends, not at a later check', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    });
    const store = new MemoryLeases();
    const changes: { at: number; live: string[] }[] = [];
    const m = podA(store, (live) => changes.push({ at: performance.now(), live }));
    await m.start();
    // pod-b renewed once, seen by watch at t0, then went silent (killed).
    const t0 = performance.now();
    renewB(store, m);
    expect(m.live()).toEqual(['pod-a', 'pod-b']);
    await vi.advanceTimersByTimeAsync(14_990);
    expect(m.live()).toEqual(['pod-a', 'pod-b']);
    await vi.advanceTimersByTimeAsync(20);
    expect(m.live()).toEqual(['pod-a']);
    const dropped = changes.find((c) => c.at > t0 && !c.live.includes('pod-b'));
    expect(dropped).toBeDefined();
    expect((dropped?.at ?? 0) - t0).toBeGreaterThanOrEqual(15_000);
    expect((dropped?.at ?? 0) - t0).toBeLessThanOrEqual(15_010);
    await m.halt();
  });

  it('moves the expiry when the pod renews again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const store = new MemoryLeases();
    const m = podA(store);
    await m.start();
    renewB(store, m);
    await vi.advanceTimersByTimeAsync(10_000);
    renewB(store, m);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(m.live()).toEqual(['pod-a', 'pod-b']);
    await vi.advanceTimersByTimeAsync(5_010);
    expect(m.live()).toEqual(['pod-a']);
    await m.halt();
  });
});
