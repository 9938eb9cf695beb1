// Who runs which session: two gateway "pods" (each a real controller + real SMPP sessions)
// share binds through member Leases, HRW and shard claims, the binds of one smscName always
// together; the SMSC simulator is the witness that no bind is ever held twice at once.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { preferredOwner } from '../../../src/kube/hrw.js';
import { shardKey, shardLeaseName, shardOf } from '../../../src/controller/ownership.js';
import { startSmscSim, type RunningSmscSim } from '../../../src/sim/index.js';
import { startApiserver, startControlPlane, stopApiserver, stopControlPlane } from '../control-plane.js';
import { adminKubeConfig, eventually, useNamespace } from '../helpers.js';
import {
  apis,
  clientBind,
  ensureCrds,
  GV,
  putSecret,
  startPod,
  type BindView,
  type Pod,
  listBindViews,
} from './harness.js';

const N = 20;
const LEASE_MS = 4000;
/** two binds per smscName: they must always run on the same pod */
const group = (i: number): string => `grp${i % 10}`;
const placed = (i: number, pods: string[]): string | undefined =>
  preferredOwner(shardKey(shardOf(group(i))), pods);

describe('client binds across gateway pods', () => {
  const ns = useNamespace('ha');
  let sim: RunningSmscSim;
  let pods: Pod[] = [];
  const { core, custom } = apis();

  beforeAll(async () => {
    await ensureCrds();
  });
  beforeEach(async () => {
    const users = Array.from({ length: N }, (_, i) => ({ systemId: `sys${i}`, password: 'pw' }));
    sim = await startSmscSim({ httpPort: null, users });
  });
  afterEach(async () => {
    await Promise.all(pods.map((p) => p.stop()));
    pods = [];
    await sim.close();
  });

  async function pod(name: string): Promise<Pod> {
    const p = await startPod({
      name,
      operatorNamespace: ns.name,
      namespaces: [ns.name],
      leaseDurationMs: LEASE_MS,
    });
    pods.push(p);
    return p;
  }

  async function createBinds(): Promise<void> {
    await putSecret(core, ns.name, 'creds', 'pw');
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        custom.createNamespacedCustomObject({
          ...GV,
          plural: 'smppclientbinds',
          namespace: ns.name,
          body: clientBind(ns.name, `b${i}`, {
            smscName: group(i),
            host: '127.0.0.1',
            port: sim.smppPort,
            systemId: `sys${i}`,
            passwordSecretRef: { name: 'creds', key: 'password' },
            reconnect: { minDelay: '200ms', maxDelay: '1s' },
          }),
        }),
      ),
    );
  }

  const listBinds = (): Promise<BindView[]> => listBindViews(custom, ns.name);

  /** Resolves with the per-pod counts once all N binds are Bound on pods among `on`. */
  async function allBoundOn(on: string[], timeoutMs: number): Promise<Record<string, number>> {
    return eventually(
      async () => {
        const items = await listBinds();
        if (items.length !== N) return undefined;
        const counts: Record<string, number> = {};
        const podOfGroup = new Map<string, string>();
        for (const b of items) {
          const g = group(Number(b.metadata.name.slice(1)));
          const at = b.status?.gatewayPod ?? '';
          if (podOfGroup.has(g)) expect(at, `${b.metadata.name} runs with its group`).toBe(podOfGroup.get(g));
          podOfGroup.set(g, at);
          if (b.status?.phase !== 'Bound' || !on.includes(b.status.gatewayPod ?? '')) return undefined;
          counts[b.status.gatewayPod ?? ''] = (counts[b.status.gatewayPod ?? ''] ?? 0) + 1;
        }
        const live = sim.state.binds().systems;
        if (live.filter((s) => s.active === 1).length !== N) return undefined;
        return counts;
      },
      timeoutMs,
      `all ${N} binds Bound on ${on.join(',')}`,
    );
  }

  function neverTwice(): void {
    for (const s of sim.state.binds().systems) expect(s.maxConcurrent, s.systemId).toBeLessThanOrEqual(1);
  }

  it('two pods share 20 binds by group, each bound once; a killed pod’s groups move to the other', async () => {
    const a = await pod('gw-a');
    const b = await pod('gw-b');
    await eventually(
      () => (a.controller.livePods().length === 2 && b.controller.livePods().length === 2 ? true : undefined),
      15_000,
      'both pods see each other',
    );
    await createBinds();
    const counts = await allBoundOn(['gw-a', 'gw-b'], 30_000);
    // Exactly the rendezvous placement of the groups' shards (6 binds on one pod, 14 on the other).
    const onA = Array.from({ length: N }, (_, i) => i).filter(
      (i) => placed(i, ['gw-a', 'gw-b']) === 'gw-a',
    ).length;
    expect(counts['gw-a'] ?? 0).toBe(onA);
    expect(counts['gw-b'] ?? 0).toBe(N - onA);
    expect(counts['gw-a']).toBeGreaterThanOrEqual(4);
    expect(counts['gw-b']).toBeGreaterThanOrEqual(4);
    expect(a.gateway.boundClients().length + b.gateway.boundClients().length).toBe(N);
    neverTwice();

    const killedAt = Date.now();
    await a.kill();
    await allBoundOn(['gw-b'], LEASE_MS * 6);
    const failoverMs = Date.now() - killedAt;
    console.log(`failover of ${counts['gw-a']} binds: ${failoverMs} ms (lease ${LEASE_MS} ms)`);
    expect(b.gateway.boundClients().length).toBe(N);
    neverTwice();
  });

  it('a pod stopping gracefully writes its binds released before it returns, and the next pod’s Bound replaces that', async () => {
    const a = await pod('gw-a');
    await createBinds();
    await allBoundOn(['gw-a'], 30_000);
    pods = pods.filter((p) => p !== a);
    await a.stop();
    // No eventually: the statuses were written before stop() resolved.
    const items = await listBinds();
    const released = items.filter((b) => {
      const ready = b.status?.conditions?.find((c) => c.type === 'Ready');
      return b.status?.phase === 'Pending' && ready?.status === 'False' && ready.reason === 'Released';
    });
    const notReleased = items
      .filter((b) => !released.includes(b))
      .map((b) => `${b.metadata.name} rv ${b.metadata.resourceVersion}: ${JSON.stringify(b.status)}`);
    expect(released.map((b) => b.metadata.name).sort(), `not released:\n${notReleased.join('\n')}`).toEqual(
      items.map((b) => b.metadata.name).sort(),
    );
    expect(items.every((b) => b.status?.gatewayPod === 'gw-a' && b.status.boundSince === undefined)).toBe(
      true,
    );
    expect(sim.state.binds().systems.every((s) => s.active === 0)).toBe(true);
    await pod('gw-b');
    await allBoundOn(['gw-b'], 30_000);
    neverTwice();
  });

  it('scale-out hands binds over gracefully: never two sessions, and only some binds move', async () => {
    const a = await pod('gw-a');
    await createBinds();
    await allBoundOn(['gw-a'], 30_000);
    const before = new Map((await listBinds()).map((x) => [x.metadata.name, x.status?.gatewayPod]));
    await pod('gw-b');
    // Settled when every bind is Bound on its rendezvous-preferred pod.
    const expected = (name: string): string | undefined => placed(Number(name.slice(1)), ['gw-a', 'gw-b']);
    const after = await eventually(
      async () => {
        const items = await listBinds();
        const settled =
          items.length === N &&
          items.every(
            (x) => x.status?.phase === 'Bound' && x.status.gatewayPod === expected(x.metadata.name),
          ) &&
          sim.state.binds().systems.filter((s) => s.active === 1).length === N;
        return settled ? items : undefined;
      },
      30_000,
      'every bind Bound on its preferred pod',
    );
    const moved = after.filter((x) => before.get(x.metadata.name) !== x.status?.gatewayPod).length;
    const toB = after.filter((x) => expected(x.metadata.name) === 'gw-b').length;
    expect(moved).toBe(toB);
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(N);
    expect(a.gateway.boundClients().length).toBe(N - toB);
    neverTwice();
  });
});

describe('API server outage', () => {
  it('keeps sessions through a brief API server stop and resumes reconciling after it', async () => {
    const info = await startControlPlane();
    const sim = await startSmscSim({
      httpPort: null,
      users: [
        { systemId: 'keep', password: 'pw' },
        { systemId: 'late', password: 'pw' },
      ],
    });
    let p: Pod | undefined;
    try {
      await ensureCrds(info);
      const kc = adminKubeConfig(info);
      const { core, custom } = apis(kc);
      const ns = 'outage';
      await core.createNamespace({ body: { metadata: { name: ns } } });
      // Lease duration well above the outage: sessions must survive it.
      p = await startPod({
        name: 'gw-a',
        operatorNamespace: ns,
        namespaces: [ns],
        leaseDurationMs: 30_000,
        kc,
      });
      await putSecret(core, ns, 'creds', 'pw');
      const spec = (systemId: string) => ({
        host: '127.0.0.1',
        port: sim.smppPort,
        systemId,
        passwordSecretRef: { name: 'creds', key: 'password' },
      });
      await custom.createNamespacedCustomObject({
        ...GV,
        plural: 'smppclientbinds',
        namespace: ns,
        body: clientBind(ns, 'keep', spec('keep')),
      });
      const phase = async (name: string) =>
        (
          (await custom.getNamespacedCustomObject({
            ...GV,
            plural: 'smppclientbinds',
            namespace: ns,
            name,
          })) as BindView
        ).status?.phase;
      await eventually(
        async () => ((await phase('keep')) === 'Bound' ? true : undefined),
        20_000,
        'keep Bound',
      );

      await stopApiserver(info);
      await new Promise((r) => setTimeout(r, 3000));
      const during = sim.state.binds().systems.find((s) => s.systemId === 'keep');
      expect(during).toMatchObject({ active: 1, bindsOk: 1 });
      await startApiserver(info);

      await eventually(
        async () => {
          await custom.createNamespacedCustomObject({
            ...GV,
            plural: 'smppclientbinds',
            namespace: ns,
            body: clientBind(ns, 'late', spec('late')),
          });
          return true;
        },
        30_000,
        'API server back',
      ).catch(() => undefined);
      await eventually(
        async () => ((await phase('late').catch(() => undefined)) === 'Bound' ? true : undefined),
        30_000,
        'late Bound after the outage',
      );
      const keep = sim.state.binds().systems.find((s) => s.systemId === 'keep');
      expect(keep).toMatchObject({ active: 1, bindsOk: 1 }); // never dropped, never rebound
      expect(await phase('keep')).toBe('Bound');
      const lease = await kc
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: shardLeaseName(shardOf('keep')), namespace: ns });
      expect(lease.spec?.holderIdentity).toBe('gw-a');
    } finally {
      await p?.stop();
      await sim.close();
      await stopControlPlane(info);
    }
  });
});
