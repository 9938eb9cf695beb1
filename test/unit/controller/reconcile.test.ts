import { describe, expect, it } from 'vitest';
import type { V1Secret } from '@kubernetes/client-node';
import { createLogger } from '../../../src/log.js';
import {
  clientBindSpecSchema,
  serverBindSpecSchema,
  type ClientBindSpecInput,
  type SmppClientBind,
  type SmppServerBind,
} from '../../../src/api/index.js';
import type {
  BindKind,
  ClientBindStatusShape,
  ResolvedClientBind,
  ResolvedServerBind,
  RuntimeStatus,
  ServerBindStatusShape,
} from '../../../src/controller/contracts.js';
import { FINALIZER } from '../../../src/controller/contracts.js';
import { Reconciler, type ReconcileDeps } from '../../../src/controller/reconcile.js';

// In-memory ports: these tests pin the reconcile decisions; the same Reconciler runs against a
// real API server and Gateway in test/kube/operator.
function world(self = 'pod-a') {
  const secrets = new Map<string, V1Secret>();
  /** smscNames whose shard another pod holds */
  const elsewhere = new Set<string>();
  let prefers = true;
  const clients = new Map<string, ResolvedClientBind>();
  const servers = new Map<string, ResolvedServerBind>();
  const runtime = new Map<string, RuntimeStatus>();
  const events: string[] = [];
  const writes: { key: string; status: ClientBindStatusShape | ServerBindStatusShape }[] = [];
  const finalizerOps: string[] = [];
  let live = [self];
  let preferred: (key: string) => string | undefined = () => self;
  const deps: ReconcileDeps = {
    self,
    log: createLogger({ level: 'silent' }),
    secrets: (ns, name) => secrets.get(`${ns}/${name}`),
    livePods: () => live,
    preferredOwner: (key) => preferred(key),
    groups: {
      runs: (smsc) => !elsewhere.has(smsc),
      prefers: () => prefers,
    },
    runtime: {
      setClient: (key, b) => {
        const changed = JSON.stringify(clients.get(key)) !== JSON.stringify(b);
        if (b) clients.set(key, b);
        else clients.delete(key);
        return changed;
      },
      setServer: (key, b) => (b ? servers.set(key, b) : servers.delete(key)),
      status: (ns, name, kind: BindKind) => runtime.get(`${kind}/${ns}/${name}`),
      clientStopped: async () => undefined,
    },
    writer: {
      addFinalizer: async (_k, obj) => {
        finalizerOps.push(`add ${obj.metadata.name}`);
        obj.metadata.finalizers = [...(obj.metadata.finalizers ?? []), FINALIZER];
      },
      removeFinalizer: async (_k, obj) => {
        finalizerOps.push(`remove ${obj.metadata.name}`);
      },
      writeClientStatus: async (obj, status) => {
        writes.push({ key: obj.metadata.name, status });
        obj.status = JSON.parse(JSON.stringify(status));
      },
      writeServerStatus: async (obj, compute) => {
        const status = compute(obj.status);
        writes.push({ key: obj.metadata.name, status });
        obj.status = JSON.parse(JSON.stringify(status));
      },
    },
    events: { emit: (_o, _k, type, reason) => events.push(`${type} ${reason}`) },
    acquireRetryMs: 500,
    statusMinIntervalMs: 0,
    unbindTimeoutMs: 100,
  };
  return {
    deps,
    reconciler: new Reconciler(deps),
    secrets,
    elsewhere,
    setPrefers: (v: boolean) => (prefers = v),
    clients,
    servers,
    runtime,
    events,
    writes,
    finalizerOps,
    setLive: (l: string[]) => (live = l),
    setPreferred: (f: (key: string) => string | undefined) => (preferred = f),
    secret(ns: string, name: string, password: string) {
      secrets.set(`${ns}/${name}`, {
        metadata: { name, namespace: ns },
        data: { password: Buffer.from(password).toString('base64') },
      });
    },
  };
}

function bind(name = 'vf', spec: Partial<ClientBindSpecInput> = {}): SmppClientBind {
  return {
    apiVersion: 'smpp.omnimessage.io/v1alpha1',
    kind: 'SmppClientBind',
    metadata: { name, namespace: 'ns', generation: 1 },
    spec: clientBindSpecSchema.parse({
      host: '127.0.0.1',
      port: 2775,
      bindType: 'transceiver',
      systemId: 'sys',
      passwordSecretRef: { name: 'creds', key: 'password' },
      ...spec,
    }),
  };
}

describe('Reconciler client binds', () => {
  it('runs a bind whose shard it holds: finalizer, session, status', async () => {
    const w = world();
    w.secret('ns', 'creds', 'pw1');
    const obj = bind();
    expect(await w.reconciler.reconcileClient('ns/vf', obj)).toEqual({});
    expect(w.finalizerOps).toEqual(['add vf']);
    expect(w.clients.get('ns/vf')?.password).toBe('pw1');
    expect(obj.status?.phase).toBe('Pending');

    w.runtime.set('SmppClientBind/ns/vf', { phase: 'Bound', boundSince: new Date('2026-01-01T00:00:00Z') });
    await w.reconciler.reconcileClient('ns/vf', obj);
    expect(obj.status).toMatchObject({ phase: 'Bound', gatewayPod: 'pod-a', observedGeneration: 1 });
    expect(w.events).toContain('Normal Bound');

    const before = w.writes.length;
    await w.reconciler.reconcileClient('ns/vf', obj);
    expect(w.writes.length).toBe(before); // unchanged status is not rewritten
  });

  it('does not patch the finalizer again from a cached copy older than its own patch', async () => {
    const w = world();
    w.secret('ns', 'creds', 'pw');
    let rv = 10;
    w.deps.writer.addFinalizer = async (_k, obj) => {
      w.finalizerOps.push(`add ${obj.metadata.name}@${obj.metadata.resourceVersion}`);
      return String(++rv);
    };
    const r = new Reconciler(w.deps);
    const stale = (): SmppClientBind => ({
      ...bind(),
      metadata: { ...bind().metadata, uid: 'u1', resourceVersion: '10' },
    });
    await r.reconcileClient('ns/vf', stale());
    // The informer has not delivered our patch yet (a session event reconciles again at once).
    await r.reconcileClient('ns/vf', stale());
    expect(w.finalizerOps).toEqual(['add vf@10']);
    // A newer copy without the finalizer (someone removed it) is patched again.
    await r.reconcileClient('ns/vf', {
      ...bind(),
      metadata: { ...bind().metadata, uid: 'u1', resourceVersion: '12' },
    });
    expect(w.finalizerOps).toEqual(['add vf@10', 'add vf@12']);
  });

  it('does not write a transitional status for a session just handed over (settle window)', async () => {
    const w = world();
    w.deps.settleMs = 1000;
    const r = new (await import('../../../src/controller/reconcile.js')).Reconciler(w.deps);
    w.secret('ns', 'creds', 'pw');
    const obj = bind();
    const action = await r.reconcileClient('ns/vf', obj);
    expect(w.writes).toHaveLength(0);
    expect(action.requeueAfterMs).toBeGreaterThan(0);
    w.runtime.set('SmppClientBind/ns/vf', { phase: 'Bound', boundSince: new Date() });
    await r.reconcileClient('ns/vf', obj);
    expect(w.writes.map((x) => x.status.phase)).toEqual(['Bound']);
  });

  it('does not run a bind whose group another pod runs, nor write its status', async () => {
    const w = world();
    w.secret('ns', 'creds', 'pw');
    w.elsewhere.add('vf');
    const action = await w.reconciler.reconcileClient('ns/vf', bind());
    expect(action).toEqual({});
    expect(w.clients.size).toBe(0);
    expect(w.writes).toHaveLength(0);
    expect(w.finalizerOps).toHaveLength(0);
  });

  it('groups by smscName, not by bind name: binds of one smscName run or stop together', async () => {
    const w = world();
    w.secret('ns', 'creds', 'pw');
    const a = bind('tx', { smscName: 'carrier_x', bindType: 'transmitter' });
    const b = bind('rx', { smscName: 'carrier_x', bindType: 'receiver' });
    const c = bind('carrier_x'); // smscName defaults to the name: same group
    for (const [k, o] of [
      ['ns/tx', a],
      ['ns/rx', b],
      ['ns/carrier_x', c],
    ] as const)
      await w.reconciler.reconcileClient(k, o);
    expect([...w.clients.keys()].sort()).toEqual(['ns/carrier_x', 'ns/rx', 'ns/tx']);
    w.elsewhere.add('carrier_x');
    await w.reconciler.reconcileClient('ns/tx', a);
    await w.reconciler.reconcileClient('ns/rx', b);
    await w.reconciler.reconcileClient('ns/carrier_x', c);
    expect(w.clients.size).toBe(0);
  });

  it('stops a bind once its shard is no longer held here', async () => {
    const w = world();
    w.secret('ns', 'creds', 'pw');
    const obj = bind();
    await w.reconciler.reconcileClient('ns/vf', obj);
    expect(w.clients.size).toBe(1);
    w.elsewhere.add('vf');
    await w.reconciler.reconcileClient('ns/vf', obj);
    expect(w.clients.size).toBe(0);
  });

  it('reports a missing Secret once, then recovers when it appears', async () => {
    const w = world();
    const obj = bind();
    await w.reconciler.reconcileClient('ns/vf', obj);
    await w.reconciler.reconcileClient('ns/vf', obj);
    expect(obj.status?.phase).toBe('Error');
    expect(obj.status?.conditions?.[0]).toMatchObject({ status: 'False', reason: 'SecretNotFound' });
    expect(w.events.filter((e) => e === 'Warning SecretNotFound')).toHaveLength(1);
    w.secret('ns', 'creds', 'pw');
    await w.reconciler.reconcileClient('ns/vf', obj);
    expect(w.clients.has('ns/vf')).toBe(true);
    expect(obj.status?.lastError).toBeUndefined();
  });

  it('flows a rotated password to the runtime with a SecretRotated event', async () => {
    const w = world();
    w.secret('ns', 'creds', 'old');
    const obj = bind();
    await w.reconciler.reconcileClient('ns/vf', obj);
    w.secret('ns', 'creds', 'new');
    await w.reconciler.reconcileClient('ns/vf', obj);
    expect(w.clients.get('ns/vf')?.password).toBe('new');
    expect(w.events).toContain('Normal SecretRotated');
  });

  it('suspends: session removed, phase Suspended', async () => {
    const w = world();
    w.secret('ns', 'creds', 'pw');
    const obj = bind('vf', { suspend: true });
    await w.reconciler.reconcileClient('ns/vf', obj);
    expect(w.clients.size).toBe(0);
    expect(obj.status).toMatchObject({ phase: 'Suspended' });
  });

  it('on delete: unbinds, removes the finalizer once', async () => {
    const w = world();
    w.secret('ns', 'creds', 'pw');
    const obj = bind();
    await w.reconciler.reconcileClient('ns/vf', obj);
    obj.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    await w.reconciler.reconcileClient('ns/vf', obj);
    expect(w.clients.size).toBe(0);
    expect(w.finalizerOps).toEqual(['add vf', 'remove vf']);
    // A stale cached copy (finalizer still listed) must not remove it again or run anything.
    await w.reconciler.reconcileClient('ns/vf', obj);
    expect(w.clients.size).toBe(0);
    expect(w.finalizerOps).toEqual(['add vf', 'remove vf']);
  });

  it('on delete with the shard held elsewhere: leaves cleanup to the holder', async () => {
    const w = world();
    const obj = bind();
    obj.metadata.finalizers = [FINALIZER];
    obj.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    w.elsewhere.add('vf');
    // Preferred but not holding yet: look again soon.
    expect((await w.reconciler.reconcileClient('ns/vf', obj)).requeueAfterMs).toBe(500);
    w.setPrefers(false);
    expect(await w.reconciler.reconcileClient('ns/vf', obj)).toEqual({});
    expect(w.finalizerOps).toEqual([]);
  });
});

describe('Reconciler server binds', () => {
  it('runs every server bind and merges this pod’s sessions into status', async () => {
    const w = world('pod-a');
    w.secret('ns', 'acme', 'pw');
    w.setLive(['pod-a', 'pod-b']);
    const obj: SmppServerBind = {
      apiVersion: 'smpp.omnimessage.io/v1alpha1',
      kind: 'SmppServerBind',
      metadata: { name: 'acme', namespace: 'ns', generation: 2 },
      spec: serverBindSpecSchema.parse({
        systemId: 'acme',
        passwordSecretRef: { name: 'acme', key: 'password' },
      }),
      status: {
        sessions: [
          {
            pod: 'pod-b',
            peerAddress: '127.0.0.1:4001',
            bindType: 'receiver',
            since: '2026-01-01T00:00:00Z',
          },
        ],
      },
    };
    w.runtime.set('SmppServerBind/ns/acme', {
      phase: 'Bound',
      sessions: [
        {
          id: 's1',
          peerAddress: '127.0.0.1',
          peerPort: 5000,
          bindType: 'transceiver',
          since: new Date('2026-01-01T00:01:00Z'),
        },
      ],
    });
    await w.reconciler.reconcileServer('ns/acme', obj);
    expect(w.servers.get('ns/acme')?.password).toBe('pw');
    expect(obj.status?.sessions?.map((s) => `${s.pod}/${s.peerAddress}`)).toEqual([
      'pod-a/127.0.0.1:5000',
      'pod-b/127.0.0.1:4001',
    ]);
    expect(obj.status?.sessionCount).toBe(2);
    expect(obj.status?.phase).toBe('Bound');
  });
});
