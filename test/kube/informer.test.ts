// The informer against a real API server: store and callbacks, namespace scoping, relist on
// 410 Gone after etcd compaction, and catching up after the API server was stopped and started.
import {
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesObject,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { Informer } from '../../src/kube/informer.js';
import {
  startApiserver,
  startControlPlane,
  stopApiserver,
  stopControlPlane,
  type ControlPlaneInfo,
} from './control-plane.js';
import { adminKubeConfig, compactEtcd, eventually, uniqueName, useNamespace } from './helpers.js';
import { WIDGET, ensureWidgetCrd, widget, type Widget } from './test-crd.js';

const log = createLogger({ level: 'silent' });
const widgets = { apiVersion: `${WIDGET.group}/${WIDGET.version}`, plural: WIDGET.plural };

interface Recorded {
  adds: string[];
  updates: string[];
  deletes: string[];
  relists: number;
  errors: number;
}

function record<T extends KubernetesObject>(inf: Informer<T>): Recorded {
  const r: Recorded = { adds: [], updates: [], deletes: [], relists: 0, errors: 0 };
  const name = (o: T): string => `${o.metadata?.namespace}/${o.metadata?.name}`;
  inf.on('add', (o: T) => r.adds.push(name(o)));
  inf.on('update', (o: T) => r.updates.push(name(o)));
  inf.on('delete', (o: T) => r.deletes.push(name(o)));
  inf.on('relist', () => r.relists++);
  inf.on('watchError', () => r.errors++);
  return r;
}

describe('Informer on the shared control plane', () => {
  const ns = useNamespace('inf');
  const informers: Informer<Widget>[] = [];
  let other: string | undefined;

  beforeAll(async () => {
    await ensureWidgetCrd(adminKubeConfig());
  });
  afterEach(async () => {
    await Promise.all(informers.splice(0).map((i) => i.stop()));
    if (other) await adminKubeConfig().makeApiClient(CoreV1Api).deleteNamespace({ name: other });
    other = undefined;
  });

  it('keeps a store and reports add/update/delete; scoped to its namespaces or all of them', async () => {
    const kc = adminKubeConfig();
    const api = kc.makeApiClient(CustomObjectsApi);
    other = uniqueName('inf-other');
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: other } } });
    await api.createNamespacedCustomObject({ ...WIDGET, namespace: ns.name, body: widget('pre', 1) });

    const scoped = new Informer<Widget>(kc, { resource: widgets, namespaces: [ns.name] }, log);
    const all = new Informer<Widget>(kc, { resource: widgets }, log);
    informers.push(scoped, all);
    const rs = record(scoped);
    scoped.start();
    all.start();
    await Promise.all([scoped.waitForSync(), all.waitForSync()]);
    expect(scoped.get('pre', ns.name)?.spec.size).toBe(1);
    expect(scoped.get('pre', ns.name)?.kind).toBe('Widget');
    expect(rs.adds).toEqual([`${ns.name}/pre`]);
    // Stored without the server-side-apply bookkeeping the server sends (memory at 10,000 binds).
    const served = (await api.getNamespacedCustomObject({
      ...WIDGET,
      namespace: ns.name,
      name: 'pre',
    })) as Widget;
    expect((served.metadata as { managedFields?: unknown }).managedFields).toBeDefined();
    expect(
      (scoped.get('pre', ns.name)?.metadata as { managedFields?: unknown }).managedFields,
    ).toBeUndefined();

    await api.createNamespacedCustomObject({ ...WIDGET, namespace: ns.name, body: widget('a', 2) });
    await api.createNamespacedCustomObject({ ...WIDGET, namespace: other, body: widget('b', 3) });
    await eventually(() => all.get('b', other));
    await eventually(() => scoped.get('a', ns.name));
    expect((scoped.get('a', ns.name)?.metadata as { managedFields?: unknown }).managedFields).toBeUndefined();
    expect(scoped.get('b', other)).toBeUndefined();
    expect(
      scoped
        .list()
        .map((w) => w.metadata.name)
        .sort(),
    ).toEqual(['a', 'pre']);
    expect(all.list(other).map((w) => w.metadata.name)).toEqual(['b']);

    await api.replaceNamespacedCustomObject({
      ...WIDGET,
      namespace: ns.name,
      name: 'a',
      body: { ...(scoped.get('a', ns.name) as Widget), spec: { size: 7 } },
    });
    await eventually(() => (scoped.get('a', ns.name)?.spec.size === 7 ? true : undefined));
    expect(rs.updates).toContain(`${ns.name}/a`);

    await api.deleteNamespacedCustomObject({ ...WIDGET, namespace: ns.name, name: 'pre' });
    await eventually(() => (scoped.get('pre', ns.name) ? undefined : true));
    expect(rs.deletes).toEqual([`${ns.name}/pre`]);
    expect(rs.relists).toBe(0);
  });

  it('a throwing handler does not stop the informer', async () => {
    const kc = adminKubeConfig();
    const api = kc.makeApiClient(CustomObjectsApi);
    const inf = new Informer<Widget>(kc, { resource: widgets, namespaces: [ns.name] }, log);
    informers.push(inf);
    inf.on('add', () => {
      throw new Error('handler bug');
    });
    inf.start();
    await inf.waitForSync();
    await api.createNamespacedCustomObject({ ...WIDGET, namespace: ns.name, body: widget('x', 1) });
    await api.createNamespacedCustomObject({ ...WIDGET, namespace: ns.name, body: widget('y', 1) });
    await eventually(() => inf.get('y', ns.name));
    expect(inf.get('x', ns.name)).toBeDefined();
  });
});

// A private plane this file may break. Config maps bypass the watch cache there, so watches are
// served by etcd itself and etcd compaction produces a deterministic 410 Gone.
describe('Informer on a private control plane', () => {
  let plane: ControlPlaneInfo | undefined;
  let inf: Informer<V1ConfigMap> | undefined;
  const namespace = 'inf-private';

  beforeAll(async () => {
    plane = await startControlPlane({ apiserverArgs: ['--watch-cache-sizes=configmaps#0'] });
    await adminKubeConfig(plane)
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: namespace } } });
  }, 180_000);
  afterEach(async () => {
    await inf?.stop();
    inf = undefined;
  });
  afterAll(async () => {
    if (plane) await stopControlPlane(plane);
  }, 60_000);

  const cm = (name: string, v = '1'): V1ConfigMap => ({ metadata: { name }, data: { v } });

  it('relists after 410 Gone and delivers what changed meanwhile', async () => {
    if (!plane) throw new Error('no plane');
    const kc = adminKubeConfig(plane);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace, body: cm('keep') });
    await core.createNamespacedConfigMap({ namespace, body: cm('doomed') });
    inf = new Informer<V1ConfigMap>(
      kc,
      {
        resource: { apiVersion: 'v1', plural: 'configmaps' },
        namespaces: [namespace],
        watchTimeoutSeconds: 2,
      },
      log,
    );
    const r = record(inf);
    const rvs: string[] = [];
    inf.start();
    await inf.waitForSync();
    rvs.push(inf.resourceVersions()[namespace] ?? '');

    // Stop watching (the store and resourceVersion stay), change things, then compact etcd past
    // the informer's resourceVersion: resuming the watch must get 410 and relist, and the
    // relist must report the delete it never saw as an event.
    await inf.stop();
    await core.deleteNamespacedConfigMap({ namespace, name: 'doomed' });
    await core.createNamespacedConfigMap({ namespace, body: cm('born') });
    await core.createNamespacedConfigMap({ namespace: 'default', body: cm(uniqueName('noise')) });
    await compactEtcd(plane.etcd);
    inf.start();

    await eventually(() => (r.relists > 0 ? true : undefined), 30_000, 'a relist');
    await eventually(() => inf?.get('born', namespace), 30_000, 'born');
    expect(inf.get('doomed', namespace)).toBeUndefined();
    expect(inf.get('keep', namespace)).toBeDefined();
    expect(r.deletes).toContain(`${namespace}/doomed`);
    expect(r.adds).toContain(`${namespace}/born`);
    expect(inf.stats.relists).toBeGreaterThanOrEqual(1);
    expect(inf.stats.lists).toBeGreaterThanOrEqual(2);
    expect(Number(inf.resourceVersions()[namespace])).toBeGreaterThan(Number(rvs[0]));
  });

  it('survives the API server going away and catches up when it is back', async () => {
    if (!plane) throw new Error('no plane');
    const kc = adminKubeConfig(plane);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedConfigMap({ namespace, body: cm('r1') });
    inf = new Informer<V1ConfigMap>(
      kc,
      {
        resource: { apiVersion: 'v1', plural: 'configmaps' },
        namespaces: [namespace],
        backoff: { initialMs: 200, maxMs: 2000 },
      },
      log,
    );
    const r = record(inf);
    inf.start();
    await inf.waitForSync();
    expect(inf.get('r1', namespace)).toBeDefined();

    await stopApiserver(plane);
    await eventually(() => (r.errors >= 2 ? true : undefined), 30_000, 'watch errors while down');
    await startApiserver(plane);

    await core.createNamespacedConfigMap({ namespace, body: cm('r2') });
    await core.deleteNamespacedConfigMap({ namespace, name: 'r1' });
    await eventually(() => inf?.get('r2', namespace), 60_000, 'r2 after restart');
    await eventually(() => (inf?.get('r1', namespace) ? undefined : true), 60_000, 'r1 gone after restart');
    expect(r.deletes).toContain(`${namespace}/r1`);

    // And it keeps following live changes afterwards.
    await core.patchNamespacedConfigMap({
      namespace,
      name: 'r2',
      body: [{ op: 'replace', path: '/data/v', value: '2' }],
    });
    await eventually(
      () => (inf?.get('r2', namespace)?.data?.v === '2' ? true : undefined),
      30_000,
      'r2 updated',
    );
  });
});
