// The Lease primitive against a real API server: member Leases (renewed, fencing) and claim
// Leases (shards, pollers) that are valid while their holder's member Lease is. Exclusivity,
// hand-over on release, takeover only after a holder's whole-duration silence, and fencing
// (the holder gives up before anyone else can take over).
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ClaimTable } from '../../src/controller/claims.js';
import { Membership } from '../../src/controller/membership.js';
import { memberLeaseName } from '../../src/controller/ownership.js';
import { Informer } from '../../src/kube/informer.js';
import { LeaseApi, RenewedLease } from '../../src/kube/lease.js';
import { createLogger } from '../../src/log.js';
import {
  adminKubeConfig,
  controlPlane,
  eventually,
  kubectl,
  restrictedKubeConfig,
  useNamespace,
} from './helpers.js';

const log = createLogger({ level: 'silent' });
const DURATION = 3000;
const CLAIM = 'smpp-shard-01';
const META = { labels: { 'smpp.omnimessage.io/claim': 'shard' } };

interface TestPod {
  name: string;
  membership: Membership;
  claims: ClaimTable;
  events: string[];
  api: LeaseApi;
}

describe('member and claim Leases', () => {
  const ns = useNamespace('lease');
  const pods: TestPod[] = [];
  afterEach(async () => {
    await Promise.all(pods.splice(0).map((p) => p.membership.halt()));
  });

  async function pod(name: string, kc: KubeConfig = adminKubeConfig(), order?: string[]): Promise<TestPod> {
    const api = new LeaseApi(kc, ns.name);
    const events = order ?? [];
    const membership = new Membership({
      api,
      podName: name,
      durationMs: DURATION,
      log,
      onChange: () => undefined,
      onFenced: (reason) => events.push(`${name} fenced: ${reason}`),
    });
    const claims = new ClaimTable({ api, self: name, durationMs: DURATION, authority: membership, log });
    membership.lease.on('fenced', () => claims.dropAll());
    const p = { name, membership, claims, events, api };
    pods.push(p);
    await membership.start();
    return p;
  }

  const leases = () => new LeaseApi(adminKubeConfig(), ns.name);

  it('is exclusive while the holder renews, and hands over at once on release', async () => {
    const a = await pod('pod-a');
    const b = await pod('pod-b');
    expect(await a.claims.acquire(CLAIM, META)).toEqual({ held: true });
    expect(a.claims.held(CLAIM)).toBe(true);
    // B keeps asking for longer than a lease duration: A renews its member Lease, so never.
    const until = Date.now() + DURATION * 1.7;
    while (Date.now() < until) {
      expect(await b.claims.acquire(CLAIM, META)).toEqual({ held: false, holder: 'pod-a' });
      await new Promise((r) => setTimeout(r, 300));
    }
    await a.claims.release(CLAIM);
    expect(a.claims.held(CLAIM)).toBe(false);
    expect(await b.claims.acquire(CLAIM, META)).toEqual({ held: true });
    const lease = await leases().read(CLAIM);
    expect(lease?.spec?.holderIdentity).toBe('pod-b');
    // The claim is not renewed: only member Leases are.
    const before = lease?.metadata?.resourceVersion;
    await new Promise((r) => setTimeout(r, DURATION));
    expect((await leases().read(CLAIM))?.metadata?.resourceVersion).toBe(before);
  });

  it('is taken over only after its holder’s member Lease has been silent a whole duration', async () => {
    const order: string[] = [];
    const a = await pod('pod-a', adminKubeConfig(), order);
    const b = await pod('pod-b', adminKubeConfig(), order);
    expect((await a.claims.acquire(CLAIM, META)).held).toBe(true);
    await a.membership.halt(); // as if killed: nothing renews its member Lease any more
    const haltedAt = performance.now();
    let takenAt = 0;
    await eventually(
      async () => {
        const r = await b.claims.acquire(CLAIM, META);
        if (r.held) takenAt = performance.now();
        return r.held ? true : undefined;
      },
      DURATION * 5,
      'b takes the silent claim',
    );
    order.push('pod-b acquired');
    expect(takenAt - haltedAt).toBeGreaterThanOrEqual(DURATION - 1000);
    // A fenced itself (its renew deadline passed) before B could take the claim over.
    expect(order[0]).toMatch(/^pod-a fenced: not renewed within renewDeadline/);
    expect(order[1]).toBe('pod-b acquired');
    expect(a.claims.held(CLAIM)).toBe(false);
  });

  it('takes over a silent holder’s claims with one read of its member Lease, after the holder fenced', async () => {
    const order: string[] = [];
    const a = await pod('pod-a', adminKubeConfig(), order);
    const b = await pod('pod-b', adminKubeConfig(), order);
    // B watches member Leases as the controller does, and counts its reads of A's.
    const memberReads: string[] = [];
    const read = b.api.read.bind(b.api);
    b.api.read = (name: string) => {
      if (name === memberLeaseName('pod-a')) memberReads.push(name);
      return read(name);
    };
    const members = new Informer<V1Lease>(
      adminKubeConfig(),
      {
        resource: { apiVersion: 'coordination.k8s.io/v1', plural: 'leases' },
        namespaces: [ns.name],
        labelSelector: 'smpp.omnimessage.io/member=true',
      },
      log,
    );
    members.on('add', (l: V1Lease) => b.membership.observeLease(l));
    members.on('update', (l: V1Lease) => b.membership.observeLease(l));
    members.start();
    await members.waitForSync();
    try {
      const claimsOfA = Array.from({ length: 8 }, (_, i) => `smpp-shard-${String(10 + i)}`);
      for (const c of claimsOfA) expect((await a.claims.acquire(c, META)).held).toBe(true);
      await a.membership.halt();
      await eventually(
        async () => ((await b.claims.acquire(claimsOfA[0] as string, META)).held ? true : undefined),
        DURATION * 5,
        'b takes the first claim',
      );
      order.push('pod-b acquired');
      for (const c of claimsOfA.slice(1)) expect(await b.claims.acquire(c, META)).toEqual({ held: true });
      expect(order[0]).toMatch(/^pod-a fenced: not renewed within renewDeadline/);
      expect(order[1]).toBe('pod-b acquired');
      // One fresh read confirmed A's silence; the other seven claims cost one write each.
      expect(memberReads.length).toBe(1);
      for (const c of claimsOfA) expect((await leases().read(c))?.spec?.holderIdentity).toBe('pod-b');
    } finally {
      await members.stop();
    }
  });

  it('fences a holder that cannot renew before another pod acquires', async () => {
    // A authenticates as the restricted service account, allowed to use Leases here until we
    // revoke it: its renewals then fail (403) like a partitioned pod's.
    const sa = controlPlane().restrictedUser;
    for (const args of [
      ['create', 'role', 'leases', '--verb=get,list,create,update', '--resource=leases.coordination.k8s.io'],
      ['create', 'rolebinding', 'leases', '--role=leases', `--user=${sa}`],
    ]) {
      const r = await kubectl(['-n', ns.name, ...args]);
      expect(r.code, r.stderr).toBe(0);
    }
    const order: string[] = [];
    const a = await eventually(
      async () => {
        const p = await pod('pod-a', restrictedKubeConfig(), order);
        if (p.membership.valid) return p;
        await p.membership.halt();
        return undefined;
      },
      20_000,
      'a renews its member Lease (RBAC may take a moment)',
    );
    expect((await a.claims.acquire(CLAIM, META)).held).toBe(true);
    const b = await pod('pod-b', adminKubeConfig(), order);
    const revoke = await kubectl(['-n', ns.name, 'delete', 'rolebinding', 'leases']);
    expect(revoke.code, revoke.stderr).toBe(0);
    await eventually(
      async () => ((await b.claims.acquire(CLAIM, META)).held ? true : undefined),
      30_000,
      'b acquires',
    );
    order.push('pod-b acquired');
    expect(order[0]).toBe('pod-a fenced: not renewed within renewDeadline');
    expect(order[1]).toBe('pod-b acquired');
    expect(a.claims.held(CLAIM)).toBe(false);
    expect(a.membership.valid).toBe(false);
  });

  it('fences at once when its member Lease was overwritten, and claims come back only by a write', async () => {
    const a = await pod('pod-a');
    expect((await a.claims.acquire(CLAIM, META)).held).toBe(true);
    const api = adminKubeConfig().makeApiClient(CoordinationV1Api);
    const name = memberLeaseName('pod-a');
    const cur = await api.readNamespacedLease({ name, namespace: ns.name });
    await api.replaceNamespacedLease({
      name,
      namespace: ns.name,
      body: { ...cur, spec: { ...cur.spec, holderIdentity: 'intruder' } },
    });
    await eventually(() => (a.events.length > 0 ? true : undefined), 5_000, 'a fenced');
    expect(a.events[0]).toBe('pod-a fenced: member lease overwritten');
    expect(a.claims.held(CLAIM)).toBe(false);
    // Renewed again from a fresh copy; the claim, still naming A, is taken back by a write.
    await eventually(() => (a.membership.valid ? true : undefined), 5_000, 'a renews again');
    const rv = (await leases().read(CLAIM))?.metadata?.resourceVersion;
    expect((await a.claims.acquire(CLAIM, META)).held).toBe(true);
    expect((await leases().read(CLAIM))?.metadata?.resourceVersion).not.toBe(rv);
  });

  it('refuses a renew deadline that is not shorter than the lease duration', () => {
    const api = new LeaseApi(adminKubeConfig(), ns.name);
    expect(
      () =>
        new RenewedLease(api, {
          name: 'x',
          holder: 'a',
          durationMs: 2000,
          renewDeadlineMs: 2000,
          labels: {},
          log,
        }),
    ).toThrow(/renewDeadlineMs/);
  });
});
