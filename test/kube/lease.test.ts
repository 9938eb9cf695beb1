// LeaseLock against a real API server: exclusivity, renewal, hand-over on release, takeover
// after expiry, and fencing (the holder gives up before anyone else can take over).
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { LeaseLock, type LeaseLockOptions } from '../../src/kube/lease.js';
import {
  adminKubeConfig,
  controlPlane,
  eventually,
  kubectl,
  restrictedKubeConfig,
  useNamespace,
} from './helpers.js';

const log = createLogger({ level: 'silent' });

describe('LeaseLock', () => {
  const ns = useNamespace('lease');
  const locks: LeaseLock[] = [];
  afterEach(async () => {
    await Promise.all(locks.splice(0).map((l) => l.stop()));
  });

  function lock(holder: string, extra: Partial<LeaseLockOptions> = {}, api?: CoordinationV1Api): LeaseLock {
    const l = new LeaseLock(
      api ?? adminKubeConfig().makeApiClient(CoordinationV1Api),
      {
        namespace: ns.name,
        name: 'bind-x',
        holderIdentity: holder,
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 250,
        ...extra,
      },
      log,
    );
    locks.push(l);
    return l;
  }

  const read = () =>
    adminKubeConfig()
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'bind-x', namespace: ns.name });

  it('is exclusive, renews, and hands over at once on release', async () => {
    const a = lock('pod-a');
    const b = lock('pod-b');
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(a.held).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    expect(b.held).toBe(false);
    const first = await read();
    expect(first.spec?.holderIdentity).toBe('pod-a');
    expect(first.spec?.leaseDurationSeconds).toBe(3);
    const raw = await kubectl(['-n', ns.name, 'get', 'lease', 'bind-x', '-o', 'jsonpath={.spec.renewTime}']);
    expect(raw.stdout).toMatch(/\.\d{6}Z$/);

    a.start();
    await eventually(async () => {
      const now = await read();
      return String(now.spec?.renewTime) !== String(first.spec?.renewTime) ? true : undefined;
    });
    expect((await read()).spec?.holderIdentity).toBe('pod-a');
    expect(await b.tryAcquireOrRenew()).toBe(false);

    const released: string[] = [];
    a.on('released', () => released.push('a'));
    await a.release();
    expect(released).toEqual(['a']);
    expect(a.held).toBe(false);
    expect((await read()).spec?.holderIdentity).toBeUndefined();
    // No waiting for expiry after a release.
    expect(await b.tryAcquireOrRenew()).toBe(true);
    const after = await read();
    expect(after.spec?.holderIdentity).toBe('pod-b');
    expect(after.spec?.leaseTransitions).toBe(1);
  });

  it('is taken over only after a full lease duration without renewal', async () => {
    const a = lock('pod-a');
    const b = lock('pod-b');
    expect(await a.tryAcquireOrRenew()).toBe(true);
    await a.stop(); // crashed holder: never renews, never releases
    const attempts: boolean[] = [];
    const acquired = new Promise<void>((r) => b.once('acquired', r));
    const poll = setInterval(() => void b.tryAcquireOrRenew().then((ok) => attempts.push(ok)), 200);
    try {
      await acquired;
    } finally {
      clearInterval(poll);
    }
    // B saw the lease held (and unchanged) before it could take it.
    expect(attempts[0]).toBe(false);
    const lease = await read();
    expect(lease.spec?.holderIdentity).toBe('pod-b');
    expect(lease.spec?.leaseTransitions).toBe(1);
  });

  it('fences: a holder that cannot renew reports lost before another pod acquires', async () => {
    // A authenticates as the restricted service account, allowed to use Leases here until we
    // revoke it: its renewals then fail (403) like a partitioned pod's.
    const sa = controlPlane().restrictedUser;
    for (const args of [
      ['create', 'role', 'leases', '--verb=get,create,update', '--resource=leases.coordination.k8s.io'],
      ['create', 'rolebinding', 'leases', '--role=leases', `--user=${sa}`],
    ]) {
      const r = await kubectl(['-n', ns.name, ...args]);
      expect(r.code, r.stderr).toBe(0);
    }
    const order: string[] = [];
    const a = lock(
      'pod-a',
      { onLost: (reason) => order.push(`a lost: ${reason}`) },
      restrictedKubeConfig().makeApiClient(CoordinationV1Api),
    );
    const b = lock('pod-b', { onAcquired: () => order.push('b acquired') });
    a.start();
    await eventually(() => (a.held ? true : undefined), 20_000, 'a holds the lease (RBAC may take a moment)');
    b.start();

    const revoke = await kubectl(['-n', ns.name, 'delete', 'rolebinding', 'leases']);
    expect(revoke.code, revoke.stderr).toBe(0);

    await eventually(() => (order.includes('b acquired') ? true : undefined), 30_000, 'b acquires');
    expect(order[0]).toBe('a lost: not renewed within renewDeadline');
    expect(order[1]).toBe('b acquired');
    expect(a.held).toBe(false);
    expect(b.held).toBe(true);
  });

  it('reports lost at once when another holder overwrote the lease', async () => {
    const lost: string[] = [];
    const a = lock('pod-a', { onLost: (r) => lost.push(r), renewDeadlineMs: 2500, leaseDurationMs: 10_000 });
    expect(await a.tryAcquireOrRenew()).toBe(true);
    const api = adminKubeConfig().makeApiClient(CoordinationV1Api);
    const cur = await read();
    await api.replaceNamespacedLease({
      name: 'bind-x',
      namespace: ns.name,
      body: { ...cur, spec: { ...cur.spec, holderIdentity: 'intruder' } },
    });
    expect(await a.tryAcquireOrRenew()).toBe(false);
    expect(lost).toEqual(['lease taken by intruder']);
    expect(a.held).toBe(false);
  });

  it('refuses a renew deadline that is not shorter than the lease duration', () => {
    expect(() => lock('pod-a', { leaseDurationMs: 2000, renewDeadlineMs: 2000 })).toThrow(/renewDeadlineMs/);
  });
});
