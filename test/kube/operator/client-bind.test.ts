import { shardLeaseName, shardOf } from '../../../src/controller/ownership.js';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../../src/metrics.js';
import { startSmscSim, type RunningSmscSim } from '../../../src/sim/index.js';
import { eventually, kubectl, useNamespace } from '../helpers.js';
import {
  apis,
  clientBind,
  ensureCrds,
  getBind,
  GV,
  putSecret,
  ready,
  startPod,
  type Pod,
} from './harness.js';

describe('SmppClientBind reconcile against a real API server and SMSC simulator', () => {
  const ns = useNamespace('op');
  let sim: RunningSmscSim;
  let pods: Pod[] = [];
  const { core, custom } = apis();

  beforeAll(async () => {
    await ensureCrds();
  });
  beforeEach(async () => {
    sim = await startSmscSim({ httpPort: null, users: [{ systemId: 'carrier1', password: 'good-pw' }] });
  });
  afterEach(async () => {
    await Promise.all(pods.map((p) => p.stop()));
    pods = [];
    await sim.close();
  });

  async function pod(name: string, metrics?: Metrics): Promise<Pod> {
    const p = await startPod({
      name,
      operatorNamespace: ns.name,
      namespaces: [ns.name],
      leaseDurationMs: 4000,
      ...(metrics ? { metrics } : {}),
    });
    pods.push(p);
    return p;
  }

  function spec(extra: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      host: '127.0.0.1',
      port: sim.smppPort,
      systemId: 'carrier1',
      passwordSecretRef: { name: 'carrier1', key: 'password' },
      reconnect: { minDelay: '200ms', maxDelay: '1s' },
      ...extra,
    };
  }

  it('binds, reports Bound/Ready with a finalizer, and shows it in kubectl get', async () => {
    const p = await pod('gw-a');
    await putSecret(core, ns.name, 'carrier1', 'good-pw');
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppclientbinds',
      namespace: ns.name,
      body: clientBind(ns.name, 'vf', spec()),
    });

    const b = await eventually(
      async () => {
        const x = await getBind(custom, ns.name, 'vf');
        return x?.status?.phase === 'Bound' && ready(x)?.status === 'True' ? x : undefined;
      },
      20_000,
      'Bound',
    );
    expect(b.status?.gatewayPod).toBe('gw-a');
    expect(b.status?.observedGeneration).toBe(b.metadata.generation);
    expect(ready(b)?.reason).toBe('Bound');
    expect(b.metadata.finalizers).toContain('smpp.omnimessage.io/finalizer');
    expect(p.gateway.boundClients()).toEqual([`${ns.name}/vf`]);
    expect(sim.state.binds().systems.find((s) => s.systemId === 'carrier1')).toMatchObject({ active: 1 });

    const out = await kubectl(['get', 'smppclientbinds', '-n', ns.name]);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/vf\s+.*Bound/);
    expect(out.stdout).toContain('gw-a');
  });

  it('wrong password: Ready=False with the SMPP error; fixed Secret: Bound', async () => {
    await pod('gw-a');
    await putSecret(core, ns.name, 'carrier1', 'bad-pw');
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppclientbinds',
      namespace: ns.name,
      body: clientBind(ns.name, 'vf', spec()),
    });
    const failed = await eventually(
      async () => {
        const x = await getBind(custom, ns.name, 'vf');
        return ready(x)?.reason === 'BindFailed' ? x : undefined;
      },
      20_000,
      'BindFailed',
    );
    expect(ready(failed)?.status).toBe('False');
    expect(failed.status?.lastError).toMatch(/ESME_RINVPASWD/);

    await putSecret(core, ns.name, 'carrier1', 'good-pw');
    await eventually(
      async () => ((await getBind(custom, ns.name, 'vf'))?.status?.phase === 'Bound' ? true : undefined),
      20_000,
      'Bound after fix',
    );
    // Events tell the story: the failure, the rotation, the bind.
    const reasons = await eventually(
      async () => {
        const ev = await core.listNamespacedEvent({ namespace: ns.name });
        const r = ev.items.filter((e) => e.involvedObject.name === 'vf').map((e) => e.reason ?? '');
        return ['BindFailed', 'SecretRotated', 'Bound'].every((x) => r.includes(x)) ? r : undefined;
      },
      10_000,
      'BindFailed, SecretRotated and Bound events',
    );
    expect(reasons).toContain('SecretRotated');
    const failedEvent = (await core.listNamespacedEvent({ namespace: ns.name })).items.find(
      (e) => e.reason === 'BindFailed',
    );
    expect(failedEvent?.type).toBe('Warning');
    expect(failedEvent?.message).toMatch(/ESME_RINVPASWD/);
    expect(failedEvent?.message).not.toContain('bad-pw');
  });

  it('missing Secret: Ready=False SecretNotFound, recovers when the Secret appears', async () => {
    await pod('gw-a');
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppclientbinds',
      namespace: ns.name,
      body: clientBind(ns.name, 'vf', spec()),
    });
    const b = await eventually(
      async () => {
        const x = await getBind(custom, ns.name, 'vf');
        return ready(x)?.reason === 'SecretNotFound' ? x : undefined;
      },
      20_000,
      'SecretNotFound',
    );
    expect(b.status?.phase).toBe('Error');
    expect(ready(b)?.message).toContain(`${ns.name}/carrier1`);
    await putSecret(core, ns.name, 'carrier1', 'good-pw');
    await eventually(
      async () => ((await getBind(custom, ns.name, 'vf'))?.status?.phase === 'Bound' ? true : undefined),
      20_000,
      'Bound',
    );
  });

  it('suspend unbinds and holds; resume and the reconnect annotation rebind', async () => {
    const metrics = createMetrics();
    const p = await pod('gw-a', metrics);
    await putSecret(core, ns.name, 'carrier1', 'good-pw');
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppclientbinds',
      namespace: ns.name,
      body: clientBind(ns.name, 'vf', spec()),
    });
    await eventually(
      async () => ((await getBind(custom, ns.name, 'vf'))?.status?.phase === 'Bound' ? true : undefined),
      20_000,
      'Bound',
    );
    const stats = () => sim.state.binds().systems.find((s) => s.systemId === 'carrier1');

    const patch = async (body: unknown): Promise<void> => {
      await custom.patchNamespacedCustomObject(
        { ...GV, plural: 'smppclientbinds', namespace: ns.name, name: 'vf', body },
        (await import('@kubernetes/client-node')).setHeaderOptions(
          'Content-Type',
          'application/merge-patch+json',
        ),
      );
    };
    await patch({ spec: { suspend: true } });
    const s = await eventually(
      async () => {
        const x = await getBind(custom, ns.name, 'vf');
        return x?.status?.phase === 'Suspended' ? x : undefined;
      },
      20_000,
      'Suspended',
    );
    expect(ready(s)).toMatchObject({ status: 'False', reason: 'Suspended' });
    await eventually(() => (stats()?.active === 0 ? true : undefined), 10_000, 'session gone at the SMSC');
    expect(p.gateway.boundClients()).toEqual([]);

    await patch({ spec: { suspend: false } });
    await eventually(
      async () => ((await getBind(custom, ns.name, 'vf'))?.status?.phase === 'Bound' ? true : undefined),
      20_000,
      'Bound again',
    );
    const okBefore = stats()?.bindsOk ?? 0;
    await patch({ metadata: { annotations: { 'smpp.omnimessage.io/reconnect': new Date().toISOString() } } });
    await eventually(
      () => ((stats()?.bindsOk ?? 0) > okBefore && stats()?.active === 1 ? true : undefined),
      20_000,
      'rebind',
    );
    expect(stats()?.maxConcurrent).toBe(1);
    // Each change above was reconciled although the pod's own status writes coming back were
    // not (src/kube/status-echo.ts): Bound, Suspended, Bound again came back as echoes.
    const echoes = (await metrics.reconcile.get()).values.find(
      (v) => v.labels.kind === 'SmppClientBind' && v.labels.result === 'own_status_echo',
    );
    expect(echoes?.value ?? 0).toBeGreaterThanOrEqual(1);
  });

  it('delete: session unbound, finalizer removed, object gone (the shard claim stays)', async () => {
    await pod('gw-a');
    await putSecret(core, ns.name, 'carrier1', 'good-pw');
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppclientbinds',
      namespace: ns.name,
      body: clientBind(ns.name, 'vf', spec()),
    });
    await eventually(
      async () => ((await getBind(custom, ns.name, 'vf'))?.status?.phase === 'Bound' ? true : undefined),
      20_000,
      'Bound',
    );
    const coord = (await import('@kubernetes/client-node')).CoordinationV1Api;
    const leases = (await import('../helpers.js')).adminKubeConfig().makeApiClient(coord);
    // The bind runs on its group's shard, whose claim the running pod holds.
    const shardLease = shardLeaseName(shardOf('vf'));
    const lease = await leases.readNamespacedLease({ name: shardLease, namespace: ns.name });
    expect(lease.spec?.holderIdentity).toBe('gw-a');

    await custom.deleteNamespacedCustomObject({
      ...GV,
      plural: 'smppclientbinds',
      namespace: ns.name,
      name: 'vf',
    });
    await eventually(
      async () => ((await getBind(custom, ns.name, 'vf')) === undefined ? true : undefined),
      20_000,
      'object gone',
    );
    expect(sim.state.binds().systems.find((s) => s.systemId === 'carrier1')?.active).toBe(0);
    // The claim is the shard's, not the bind's: still held, and not rewritten for the delete.
    const after = await leases.readNamespacedLease({ name: shardLease, namespace: ns.name });
    expect(after.spec?.holderIdentity).toBe('gw-a');
    expect(after.metadata?.resourceVersion).toBe(lease.metadata?.resourceVersion);
  });

  it('rejects an invalid bind with messages a person understands', async () => {
    const bad = clientBind(ns.name, 'bad', { ...spec(), port: 70000, bindType: 'sideways', tpsLimit: 0 });
    const out = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(bad) });
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/spec\.port/);
    expect(out.stderr).toMatch(/spec\.bindType.*"sideways".*transmitter.*receiver.*transceiver/);
    expect(out.stderr).toMatch(/spec\.tpsLimit/);
  });
});
