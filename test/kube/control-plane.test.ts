// Proves the test control plane is a real Kubernetes API server: CRDs with validation, watches,
// the status subresource, optimistic concurrency (409), Leases with MicroTime, and 410 Gone.
import {
  ApiException,
  CoordinationV1Api,
  CustomObjectsApi,
  PatchStrategy,
  V1MicroTime,
  VersionApi,
  Watch,
  setHeaderOptions,
  type V1Lease,
} from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adminKubeConfig,
  compactEtcd,
  controlPlane,
  eventually,
  kubectl,
  restrictedKubeConfig,
  useNamespace,
} from './helpers.js';
import { WIDGET, ensureWidgetCrd, widget, type Widget } from './test-crd.js';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

interface WatchEvent {
  type: string;
  object: Widget & { code?: number; reason?: string };
}

/** A raw watch that records events until aborted. */
async function recordWatch(
  path: string,
  params: Record<string, string | number | boolean>,
): Promise<{ events: WatchEvent[]; done: Promise<unknown>; abort: () => void }> {
  const events: WatchEvent[] = [];
  let finish: (err: unknown) => void = () => undefined;
  const done = new Promise<unknown>((r) => (finish = r));
  const ctl = await new Watch(adminKubeConfig()).watch(
    path,
    params,
    (type, object) => events.push({ type, object }),
    (err) => finish(err ?? null),
  );
  return { events, done, abort: () => ctl.abort() };
}

function statusCode(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  const c = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof c === 'number' ? c : undefined;
}

describe('test control plane', () => {
  const ns = useNamespace('cp');

  beforeAll(async () => {
    await ensureWidgetCrd(adminKubeConfig());
  });

  it('serves /version with the release it was built from', async () => {
    const v = await adminKubeConfig().makeApiClient(VersionApi).getCode();
    expect(v.gitVersion).toBe(controlPlane().kubeVersion);
    expect(v.gitVersion).toMatch(/^v1\.(3[2-9]|[4-9]\d)\.\d+$/);
    expect(v.gitTreeState).toBe('clean');
  });

  it('enforces RBAC: the restricted service account is forbidden until granted', async () => {
    const api = restrictedKubeConfig().makeApiClient(CustomObjectsApi);
    const err = await api.listNamespacedCustomObject({ ...WIDGET, namespace: ns.name }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusCode(err)).toBe(403);
    const sa = controlPlane().restrictedUser;
    const grant = await kubectl([
      '-n',
      ns.name,
      'create',
      'rolebinding',
      'r',
      '--clusterrole=admin',
      `--user=${sa}`,
    ]);
    expect(grant.code, grant.stderr).toBe(0);
    // admin aggregates nothing for our CRD, so grant widgets explicitly.
    const role = await kubectl([
      '-n',
      ns.name,
      'create',
      'role',
      'widgets',
      '--verb=get,list,watch',
      `--resource=${WIDGET.plural}.${WIDGET.group}`,
    ]);
    expect(role.code, role.stderr).toBe(0);
    const bind = await kubectl([
      '-n',
      ns.name,
      'create',
      'rolebinding',
      'w',
      '--role=widgets',
      `--user=${sa}`,
    ]);
    expect(bind.code, bind.stderr).toBe(0);
    const list = await eventually(() => api.listNamespacedCustomObject({ ...WIDGET, namespace: ns.name }));
    expect(list.items).toEqual([]);
  });

  it('validates custom resources against the CRD schema (kubectl shows why)', async () => {
    const bad = JSON.stringify({
      ...widget('too-big', 1000),
      metadata: { name: 'too-big', namespace: ns.name },
    });
    const res = await kubectl(['apply', '-f', '-'], { input: bad });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('spec.size');
    expect(res.stderr).toMatch(/less than or equal to 100/);
  });

  it('creates and watches a custom resource, and updates status only through /status', async () => {
    const api = adminKubeConfig().makeApiClient(CustomObjectsApi);
    const path = `/apis/${WIDGET.group}/${WIDGET.version}/namespaces/${ns.name}/${WIDGET.plural}`;
    const list = (await api.listNamespacedCustomObject({ ...WIDGET, namespace: ns.name })) as {
      metadata: { resourceVersion: string };
    };
    const w = await recordWatch(path, {
      resourceVersion: list.metadata.resourceVersion,
      allowWatchBookmarks: true,
    });
    try {
      const created = (await api.createNamespacedCustomObject({
        ...WIDGET,
        namespace: ns.name,
        body: widget('w1', 3),
      })) as Widget;
      expect(created.metadata.generation).toBe(1);

      const added = await eventually(() => w.events.find((e) => e.type === 'ADDED'));
      expect(added.object.metadata.name).toBe('w1');
      expect(added.object.spec.size).toBe(3);

      // A status patch through /status changes status but never spec...
      const patched = (await api.patchNamespacedCustomObjectStatus(
        {
          ...WIDGET,
          namespace: ns.name,
          name: 'w1',
          body: { spec: { size: 50 }, status: { phase: 'Ready', observedGeneration: 1 } },
        },
        mergePatch,
      )) as Widget;
      expect(patched.status?.phase).toBe('Ready');
      expect(patched.spec.size).toBe(3);
      expect(patched.metadata.generation).toBe(1);

      // ...and a patch of the main resource ignores status.
      const main = (await api.patchNamespacedCustomObject(
        {
          ...WIDGET,
          namespace: ns.name,
          name: 'w1',
          body: { spec: { size: 4 }, status: { phase: 'Error' } },
        },
        mergePatch,
      )) as Widget;
      expect(main.spec.size).toBe(4);
      expect(main.status?.phase).toBe('Ready');
      expect(main.metadata.generation).toBe(2);

      const modified = await eventually(() =>
        w.events.find((e) => e.type === 'MODIFIED' && e.object.status?.phase === 'Ready'),
      );
      expect(modified.object.metadata.name).toBe('w1');

      // Printer columns from the CRD.
      const get = await kubectl(['-n', ns.name, 'get', `${WIDGET.plural}.${WIDGET.group}`]);
      expect(get.code, get.stderr).toBe(0);
      expect(get.stdout).toMatch(/NAME\s+SIZE\s+PHASE/);
      expect(get.stdout).toMatch(/w1\s+4\s+Ready/);
    } finally {
      w.abort();
    }
  });

  it('rejects an update with a stale resourceVersion with 409 Conflict', async () => {
    const api = adminKubeConfig().makeApiClient(CustomObjectsApi);
    const first = (await api.createNamespacedCustomObject({
      ...WIDGET,
      namespace: ns.name,
      body: widget('w2', 1),
    })) as Widget;
    const second = (await api.replaceNamespacedCustomObject({
      ...WIDGET,
      namespace: ns.name,
      name: 'w2',
      body: { ...first, spec: { size: 2 } },
    })) as Widget;
    expect(second.metadata.resourceVersion).not.toBe(first.metadata.resourceVersion);
    const err = await api
      .replaceNamespacedCustomObject({
        ...WIDGET,
        namespace: ns.name,
        name: 'w2',
        body: { ...first, spec: { size: 3 } }, // carries the old resourceVersion
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(statusCode(err)).toBe(409);
    expect(String((err as ApiException<unknown>).body)).toContain('the object has been modified');
  });

  it('takes and renews a Lease with MicroTime timestamps', async () => {
    const api = adminKubeConfig().makeApiClient(CoordinationV1Api);
    const t0 = new V1MicroTime();
    const lease: V1Lease = {
      metadata: { name: 'bind-a', namespace: ns.name },
      spec: {
        holderIdentity: 'pod-1',
        leaseDurationSeconds: 15,
        acquireTime: t0,
        renewTime: t0,
        leaseTransitions: 0,
      },
    };
    const created = await api.createNamespacedLease({ namespace: ns.name, body: lease });
    expect(created.spec?.holderIdentity).toBe('pod-1');

    // A second holder cannot create the same Lease.
    const dup = await api
      .createNamespacedLease({
        namespace: ns.name,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: 'pod-2' } },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(statusCode(dup)).toBe(409);

    await new Promise((r) => setTimeout(r, 20));
    const t1 = new V1MicroTime();
    const renewed = await api.replaceNamespacedLease({
      name: 'bind-a',
      namespace: ns.name,
      body: { ...created, spec: { ...created.spec, renewTime: t1 } },
    });
    expect(new Date(renewed.spec?.renewTime ?? 0).getTime()).toBe(t1.getTime());

    // Renewing from the stale copy (what a partitioned old holder would do) conflicts.
    const stale = await api
      .replaceNamespacedLease({ name: 'bind-a', namespace: ns.name, body: created })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(statusCode(stale)).toBe(409);

    // The server stores MicroTime with exactly 6 fractional digits.
    const raw = await kubectl(['-n', ns.name, 'get', 'lease', 'bind-a', '-o', 'jsonpath={.spec.renewTime}']);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(Date.parse(raw.stdout)).toBe(t1.getTime());
  });

  it('answers a watch from a compacted resourceVersion with 410 Gone, and a relist recovers', async () => {
    const api = adminKubeConfig().makeApiClient(CustomObjectsApi);
    const path = `/apis/${WIDGET.group}/${WIDGET.version}/namespaces/${ns.name}/${WIDGET.plural}`;
    const w0 = (await api.createNamespacedCustomObject({
      ...WIDGET,
      namespace: ns.name,
      body: widget('old', 1),
    })) as Widget;
    const oldRv = w0.metadata.resourceVersion ?? '';
    for (let i = 0; i < 3; i++) {
      await api.patchNamespacedCustomObject(
        { ...WIDGET, namespace: ns.name, name: 'old', body: { spec: { size: i + 2 } } },
        mergePatch,
      );
    }
    await compactEtcd(controlPlane().etcd);

    // Either the watch request fails with HTTP 410, or the stream opens with an ERROR event
    // carrying a 410 Status (which one depends on the watch cache); both mean "relist".
    const gone = await recordWatch(path, { resourceVersion: '1' });
    const guard = setTimeout(gone.abort, 20_000);
    const err = await gone.done;
    clearTimeout(guard);
    const errorEvent = gone.events.find((e) => e.type === 'ERROR');
    const code = errorEvent ? errorEvent.object.code : statusCode(err);
    expect(code).toBe(410);
    expect(Number(oldRv)).toBeGreaterThan(0);

    // Handling it: list again, watch from the list's resourceVersion, see new changes.
    const relist = (await api.listNamespacedCustomObject({ ...WIDGET, namespace: ns.name })) as {
      metadata: { resourceVersion: string };
      items: Widget[];
    };
    expect(relist.items.map((i) => i.spec.size)).toEqual([4]);
    const w = await recordWatch(path, { resourceVersion: relist.metadata.resourceVersion });
    try {
      await api.patchNamespacedCustomObject(
        { ...WIDGET, namespace: ns.name, name: 'old', body: { spec: { size: 9 } } },
        mergePatch,
      );
      const ev = await eventually(() => w.events.find((e) => e.type === 'MODIFIED'));
      expect(ev.object.spec.size).toBe(9);
      expect(w.events.some((e) => e.type === 'ERROR')).toBe(false);
    } finally {
      w.abort();
    }
  });
});
