// StatusWriter and EventRecorder against a real API server.
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { EventRecorder } from '../../src/kube/events.js';
import { StatusWriter, type StatusObject } from '../../src/kube/status-writer.js';
import { adminKubeConfig, kubectl, uniqueName, useNamespace } from './helpers.js';
import { WIDGET, ensureWidgetCrd, widget, type Widget } from './test-crd.js';

const log = createLogger({ level: 'silent' });

describe('StatusWriter', () => {
  const ns = useNamespace('status');
  beforeAll(async () => {
    await ensureWidgetCrd(adminKubeConfig());
  });

  const api = (): CustomObjectsApi => adminKubeConfig().makeApiClient(CustomObjectsApi);
  const target = (name: string) => ({ ...WIDGET, namespace: ns.name, name });
  const get = async (name: string): Promise<Widget> =>
    (await api().getNamespacedCustomObject({ ...WIDGET, namespace: ns.name, name })) as Widget;

  it('writes through the status subresource and skips unchanged status (no write storm)', async () => {
    await api().createNamespacedCustomObject({ ...WIDGET, namespace: ns.name, body: widget('w', 2) });
    const writer = new StatusWriter(adminKubeConfig(), log);
    const want = (): StatusObject => ({ phase: 'Ready', observedGeneration: 1, message: 'bound' });
    expect(await writer.update(target('w'), want)).toBe('written');
    const after = await get('w');
    expect(after.status).toEqual({ phase: 'Ready', observedGeneration: 1, message: 'bound' });
    expect(after.spec.size).toBe(2);
    expect(after.metadata.generation).toBe(1);

    for (let i = 0; i < 10; i++) expect(await writer.update(target('w'), want, after)).toBe('unchanged');
    expect(await writer.update(target('w'), want)).toBe('unchanged');
    expect((await get('w')).metadata.resourceVersion).toBe(after.metadata.resourceVersion);
    expect(writer.stats).toEqual({ writes: 1, skipped: 11, conflicts: 0 });

    // The status is replaced: fields the new one leaves out are gone.
    expect(await writer.update(target('w'), () => ({ phase: 'Error', observedGeneration: 1 }))).toBe(
      'written',
    );
    expect((await get('w')).status).toEqual({ phase: 'Error', observedGeneration: 1 });
  });

  it('re-reads and recomputes after 409 when its copy was stale', async () => {
    await api().createNamespacedCustomObject({ ...WIDGET, namespace: ns.name, body: widget('c', 1) });
    const stale = await get('c');
    // Someone else writes status meanwhile.
    const other = new StatusWriter(adminKubeConfig(), log);
    await other.update(target('c'), () => ({ phase: 'Pending', message: 'from other pod' }));

    const writer = new StatusWriter(adminKubeConfig(), log);
    const seen: (string | undefined)[] = [];
    const outcome = await writer.update(
      target('c'),
      (cur) => {
        seen.push(typeof cur?.message === 'string' ? cur.message : undefined);
        return { ...cur, phase: 'Ready' };
      },
      stale,
    );
    expect(outcome).toBe('written');
    expect(writer.stats.conflicts).toBe(1);
    expect(seen).toEqual([undefined, 'from other pod']);
    // The other pod's field survived because the status was recomputed from the fresh copy.
    expect((await get('c')).status).toEqual({ phase: 'Ready', message: 'from other pod' });
  });

  it('reports a deleted object as gone, and rejects invalid status with the server error', async () => {
    const writer = new StatusWriter(adminKubeConfig(), log);
    expect(await writer.update(target('missing'), () => ({ phase: 'Ready' }))).toBe('gone');
    await api().createNamespacedCustomObject({ ...WIDGET, namespace: ns.name, body: widget('v', 1) });
    await expect(writer.update(target('v'), () => ({ phase: 'Exploded' }))).rejects.toThrow(
      /Unsupported value/,
    );
  });
});

describe('EventRecorder', () => {
  const ns = useNamespace('events');

  const ref = (name: string) => ({
    apiVersion: `${WIDGET.group}/${WIDGET.version}`,
    kind: WIDGET.kind,
    namespace: ns.name,
    name,
    uid: 'uid-1',
  });

  async function events(name: string) {
    const list = await adminKubeConfig()
      .makeApiClient(CoreV1Api)
      .listNamespacedEvent({ namespace: ns.name, fieldSelector: `involvedObject.name=${name}` });
    return list.items;
  }

  it('creates core/v1 Events and aggregates repeats into one with a count', async () => {
    const rec = new EventRecorder(adminKubeConfig(), { component: 'smpp-operator', instance: 'pod-1' }, log);
    await rec.emit(ref('b1'), 'Warning', 'BindFailed', 'bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)');
    await rec.emit(ref('b1'), 'Warning', 'BindFailed', 'bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)');
    await rec.emit(ref('b1'), 'Warning', 'BindFailed', 'bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)');
    await rec.emit(ref('b1'), 'Normal', 'Bound', 'bound to smsc.example:2775');
    const items = await events('b1');
    expect(items).toHaveLength(2);
    const failed = items.find((e) => e.reason === 'BindFailed');
    expect(failed?.type).toBe('Warning');
    expect(failed?.count).toBe(3);
    expect(failed?.involvedObject.kind).toBe('Widget');
    expect(failed?.involvedObject.uid).toBe('uid-1');
    expect(failed?.source?.component).toBe('smpp-operator');
    expect(failed?.reportingInstance).toBe('pod-1');
    expect(rec.stats).toMatchObject({ created: 2, updated: 2, failed: 0, dropped: 0 });

    const shown = await kubectl([
      '-n',
      ns.name,
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=b1',
    ]);
    expect(shown.stdout).toMatch(/Warning\s+BindFailed\s+widget\/b1/);
  });

  it('writes a burst a few at a time, after the more urgent writes it yields to', async () => {
    let urgentDone = false;
    let release: () => void = () => undefined;
    const urgent = new Promise<void>((r) => (release = r));
    const rec = new EventRecorder(
      adminKubeConfig(),
      {
        component: 'c',
        instance: 'i',
        concurrency: 3,
        yieldTo: () => urgent,
        maxHoldMs: 60_000,
      },
      log,
    );
    const names = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    const all = Promise.all(names.map((n) => rec.emit(ref(n), 'Normal', 'Bound', 'bound')));
    await new Promise((r) => setTimeout(r, 300));
    // Nothing written while the urgent writes are pending; 3 waiting in flight, the rest queued.
    expect(rec.stats.created).toBe(0);
    expect(rec.depth).toBe(17);
    urgentDone = true;
    release();
    await all;
    expect(urgentDone).toBe(true);
    expect(rec.stats).toMatchObject({ created: 20, failed: 0, dropped: 0, maxInFlight: 3 });
    expect(await events('burst-7')).toHaveLength(1);
  });

  it('holds an event at most maxHoldMs for writes that never finish', async () => {
    const rec = new EventRecorder(
      adminKubeConfig(),
      { component: 'c', instance: 'i', yieldTo: () => new Promise<void>(() => undefined), maxHoldMs: 200 },
      log,
    );
    await rec.emit(ref('held'), 'Normal', 'Bound', 'bound');
    expect(rec.stats.created).toBe(1);
  });

  it('never throws: a failed write is counted and logged', async () => {
    const rec = new EventRecorder(adminKubeConfig(), { component: 'c', instance: 'i' }, log);
    await rec.emit({ ...ref('x'), namespace: uniqueName('no-such-ns') }, 'Normal', 'R', 'm');
    expect(rec.stats.failed).toBe(1);
  });
});
