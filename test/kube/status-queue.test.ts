// StatusQueue against a real API server: a burst of status writes goes out in parallel but
// bounded, one object's writes coalesce and keep their interval, our own writes never make the
// next one conflict, a stale view is dropped rather than pushed, and an unreachable API server
// is retried until it answers.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { StatusQueue } from '../../src/kube/status-queue.js';
import {
  StatusWriter,
  type ConflictPolicy,
  type StatusObject,
  type StatusResource,
  type StatusTarget,
  type WriteResult,
} from '../../src/kube/status-writer.js';
import { adminKubeConfig, eventually, useNamespace } from './helpers.js';
import { WIDGET, ensureWidgetCrd, widget, type Widget } from './test-crd.js';

const log = createLogger({ level: 'silent' });

/** The real writer, recording when each write starts and how many run at once. */
class ObservedWriter extends StatusWriter {
  starts: { name: string; at: number }[] = [];
  running = 0;
  maxRunning = 0;

  override async write(
    target: StatusTarget,
    desired: (current: StatusObject | undefined, obj: StatusResource) => StatusObject,
    current: StatusResource | undefined,
    onConflict: ConflictPolicy,
  ): Promise<WriteResult> {
    this.starts.push({ name: target.name, at: Date.now() });
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await super.write(target, desired, current, onConflict);
    } finally {
      this.running--;
    }
  }
}

describe('StatusQueue', () => {
  const ns = useNamespace('statusq');
  beforeAll(async () => {
    await ensureWidgetCrd(adminKubeConfig());
  });

  const api = (kc: KubeConfig = adminKubeConfig()): CustomObjectsApi => kc.makeApiClient(CustomObjectsApi);
  const target = (name: string): StatusTarget => ({ ...WIDGET, namespace: ns.name, name });
  const get = async (name: string): Promise<Widget> =>
    (await api().getNamespacedCustomObject({ ...WIDGET, namespace: ns.name, name })) as Widget;
  const create = async (name: string): Promise<Widget> =>
    (await api().createNamespacedCustomObject({
      ...WIDGET,
      namespace: ns.name,
      body: widget(name),
    })) as Widget;

  it('writes a burst of 300 statuses in parallel, never more than its concurrency at once', async () => {
    const names = Array.from({ length: 300 }, (_, i) => `w${i}`);
    const objs: Widget[] = [];
    for (let i = 0; i < names.length; i += 50) {
      objs.push(...(await Promise.all(names.slice(i, i + 50).map(create))));
    }
    const writer = new ObservedWriter(adminKubeConfig(), log);
    const queue = new StatusQueue(writer, log, { concurrency: 8 });
    for (const o of objs) {
      queue.submit({
        target: target(o.metadata.name),
        desired: () => ({ phase: 'Ready', message: `bound ${o.metadata.name}` }),
        current: o,
        onConflict: 'drop',
      });
    }
    expect(queue.depth).toBeGreaterThan(0);
    await queue.idle();
    expect(queue.stats.written).toBe(300);
    expect(queue.stats.conflicts + queue.stats.failures).toBe(0);
    // Parallel (not one round trip after another), and bounded.
    expect(writer.maxRunning).toBeGreaterThan(1);
    expect(writer.maxRunning).toBeLessThanOrEqual(8);
    expect(queue.stats.maxInFlight).toBe(writer.maxRunning);
    const list = (await api().listNamespacedCustomObject({ ...WIDGET, namespace: ns.name })) as {
      items: Widget[];
    };
    expect(list.items.filter((w) => w.status?.message === `bound ${w.metadata.name}`)).toHaveLength(300);
  });

  it('coalesces one object’s submissions into the latest, one write per interval, without conflicting with itself', async () => {
    const o = await create('busy');
    const writer = new ObservedWriter(adminKubeConfig(), log);
    const queue = new StatusQueue(writer, log, { minIntervalMs: 600 });
    // Ten changes in a row, each computed from the same (informer) copy: the first is written at
    // once, the other nine collapse into the last, written one interval later on top of ours.
    for (let i = 1; i <= 10; i++) {
      queue.submit({
        target: target('busy'),
        desired: () => ({ phase: 'Pending', message: `change ${i}` }),
        current: o,
        onConflict: 'drop',
      });
    }
    await queue.idle();
    expect(writer.starts.map((s) => s.name)).toEqual(['busy', 'busy']);
    expect(queue.stats).toMatchObject({ submitted: 10, coalesced: 8, written: 2, conflicts: 0 });
    const [first, second] = writer.starts;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(600);
    expect((await get('busy')).status?.message).toBe('change 10');
  });

  it('drops a status computed from a stale copy instead of writing it over a newer object', async () => {
    const stale = await create('stale');
    await new StatusWriter(adminKubeConfig(), log).update(target('stale'), () => ({
      phase: 'Ready',
      message: 'new owner',
    }));
    const queue = new StatusQueue(new StatusWriter(adminKubeConfig(), log), log);
    queue.submit({
      target: target('stale'),
      desired: () => ({ phase: 'Pending', message: 'old owner' }),
      current: stale,
      onConflict: 'drop',
    });
    await queue.idle();
    expect(queue.stats).toMatchObject({ written: 0, conflicts: 1 });
    expect((await get('stale')).status?.message).toBe('new owner');
    // 'recompute' (several writers merging into one status) re-reads and writes.
    queue.submit({
      target: target('stale'),
      desired: (cur) => ({ ...cur, phase: 'Error' }),
      current: stale,
      onConflict: 'recompute',
    });
    await queue.idle();
    expect((await get('stale')).status).toEqual({ phase: 'Error', message: 'new owner' });
  });

  it('retries while the API server is unreachable, then writes the latest status', async () => {
    const o = await create('outage');
    // A TCP relay in front of the API server, closed at first: connections are refused.
    const admin = adminKubeConfig();
    const upstream = new URL(admin.getCurrentCluster()?.server ?? '');
    const sockets = new Set<Socket>();
    let relay: Server | undefined;
    const openRelay = (port: number): Promise<void> =>
      new Promise((resolve) => {
        relay = createServer((client) => {
          const up = connect(Number(upstream.port), upstream.hostname);
          sockets.add(client).add(up);
          client.pipe(up).pipe(client);
          const close = (): void => {
            client.destroy();
            up.destroy();
          };
          client.on('error', close).on('close', close);
          up.on('error', close).on('close', close);
        });
        relay.listen(port, '127.0.0.1', () => resolve());
      });
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const addr = probe.address();
        probe.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
      });
    });
    const kc = new KubeConfig();
    kc.loadFromString(admin.exportConfig());
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('no cluster');
    kc.clusters = kc.clusters.map((c) =>
      c.name === cluster.name ? { ...c, server: `https://127.0.0.1:${port}` } : c,
    );

    const queue = new StatusQueue(new StatusWriter(kc, log), log, { retryBaseMs: 100, retryMaxMs: 400 });
    queue.submit({
      target: target('outage'),
      desired: () => ({ phase: 'Pending' }),
      current: o,
      onConflict: 'drop',
    });
    await eventually(() => (queue.stats.failures >= 2 ? true : undefined), 30_000, 'two failed attempts');
    // A newer status while failing replaces the one being retried.
    queue.submit({
      target: target('outage'),
      desired: () => ({ phase: 'Ready', message: 'back' }),
      current: o,
      onConflict: 'drop',
    });
    try {
      await openRelay(port);
      await queue.idle();
      expect(queue.stats.written).toBe(1);
      expect(queue.stats.abandoned).toBe(0);
      expect((await get('outage')).status).toEqual({ phase: 'Ready', message: 'back' });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => relay?.close(r));
    }
  });

  it('gives up on a status the API server refuses as invalid, and keeps writing others', async () => {
    const o = await create('invalid');
    const queue = new StatusQueue(new StatusWriter(adminKubeConfig(), log), log, { retryBaseMs: 50 });
    queue.submit({
      target: target('invalid'),
      desired: () => ({ phase: 'Exploded' }),
      current: o,
      onConflict: 'drop',
    });
    await queue.idle();
    expect(queue.stats).toMatchObject({ abandoned: 1, written: 0 });
    queue.submit({
      target: target('invalid'),
      desired: () => ({ phase: 'Ready' }),
      current: o,
      onConflict: 'drop',
    });
    await queue.idle();
    expect((await get('invalid')).status).toEqual({ phase: 'Ready' });
  });
});
