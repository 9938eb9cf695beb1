// Operator benchmark: time from `apply` to phase Bound, and failover time after a gateway pod is
// killed, at 1, 100 and 1,000 client binds, on a private control plane (hack/control-plane.sh)
// with two gateway "pods" (each a real controller + real SMPP sessions) and the SMSC simulator.
// Baseline in the same run: the same number of bare SMPP sessions binding to the same simulator
// with no Kubernetes in the loop, so the ratio is what the operator adds.
//
//   node --experimental-transform-types --no-warnings --import ./test/bench/lib/register.mjs \
//     test/bench/operator-bench.ts [--sizes 1,100,1000] [--lease-ms 10000] [--budget-s 240]
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { CoreV1Api, CustomObjectsApi, KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Informer } from '../../src/kube/informer.js';
import { createLogger } from '../../src/log.js';
import { startSmscSim } from '../../src/sim/index.js';
import { ClientSession } from '../../src/smpp/client-session.js';
import { startControlPlane, stopControlPlane, type ControlPlaneInfo } from '../kube/control-plane.js';
import { SessionGateway } from '../kube/operator/session-gateway.js';
import { startController, type RunningController } from '../../src/controller/controller.js';
import { intFlag, ratio, table } from './lib/format.js';

const run = promisify(execFile);
const args = process.argv.slice(2);
const sizesArg = args[args.indexOf('--sizes') + 1];
const SIZES = args.includes('--sizes') && sizesArg ? sizesArg.split(',').map(Number) : [1, 100, 1000];
const LEASE_MS = intFlag(args, 'lease-ms', 10_000);
const BUDGET_S = intFlag(args, 'budget-s', 240);
const log = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
const GV = { group: 'smpp.omnimessage.io', version: 'v1alpha1' };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? NaN;
}

interface Pod {
  name: string;
  gateway: SessionGateway;
  controller: RunningController;
}

async function startPod(kc: KubeConfig, name: string, ns: string): Promise<Pod> {
  const gateway = new SessionGateway(log);
  await gateway.start();
  const controller = await startController({
    kubeConfig: kc,
    gateway,
    podName: name,
    podNamespace: ns,
    namespaces: [ns],
    leaseDurationMs: LEASE_MS,
    workers: 8,
    log,
  });
  await controller.ready;
  return { name, gateway, controller };
}

interface BindStatusView {
  metadata: { name: string };
  status?: { phase?: string; gatewayPod?: string };
}

async function listBinds(custom: CustomObjectsApi, ns: string): Promise<BindStatusView[]> {
  const l = (await custom.listNamespacedCustomObject({
    ...GV,
    plural: 'smppclientbinds',
    namespace: ns,
  })) as {
    items: BindStatusView[];
  };
  return l.items;
}

/**
 * Watches the binds (an informer, not polling: listing 1,000 objects every 100 ms would load the
 * API server more than the operator does) until every name satisfied `ok` or the deadline.
 * Returns when (performance.now()) each bind first satisfied it.
 */
async function watchUntil(
  kc: KubeConfig,
  ns: string,
  names: string[],
  ok: (b: BindStatusView) => boolean,
  deadline: number,
): Promise<Map<string, number>> {
  const want = new Set(names);
  const firstOk = new Map<string, number>();
  const inf = new Informer<KubernetesObject>(
    kc,
    { resource: { apiVersion: `${GV.group}/${GV.version}`, plural: 'smppclientbinds' }, namespaces: [ns] },
    log,
  );
  let finish: () => void = () => undefined;
  const done = new Promise<void>((r) => (finish = r));
  const see = (o: KubernetesObject): void => {
    const b = o as unknown as BindStatusView;
    if (want.has(b.metadata.name) && !firstOk.has(b.metadata.name) && ok(b)) {
      firstOk.set(b.metadata.name, performance.now());
      if (firstOk.size === want.size) finish();
    }
  };
  inf.on('add', see);
  inf.on('update', see);
  inf.start();
  const timer = setTimeout(finish, Math.max(0, deadline - Date.now()));
  if (names.length === 0) finish();
  await done;
  clearTimeout(timer);
  await inf.stop();
  return firstOk;
}

async function baselineBinds(n: number, port: number): Promise<number> {
  const sessions: ClientSession[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const s = new ClientSession(
        { host: '127.0.0.1', port, bindType: 'transceiver', systemId: `base${i}`, password: 'pw' },
        log,
      );
      sessions.push(s);
      const bound = new Promise<void>((r) => s.once('bound', () => r()));
      s.start();
      return bound;
    }),
  );
  const ms = performance.now() - t0;
  await Promise.all(sessions.map((s) => s.stop()));
  return ms;
}

interface Row {
  n: number;
  baselineMs: number;
  applyP50: number;
  applyP99: number;
  allBoundMs: number;
  bound: number;
  moved: number;
  failoverMs: number;
  failedOver: number;
  doubleBinds: number;
}

async function measure(info: ControlPlaneInfo, n: number, budgetEnd: number): Promise<Row> {
  const kc = new KubeConfig();
  kc.loadFromFile(info.adminKubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const ns = `bench-${n}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'creds' }, stringData: { password: 'pw' } },
  });
  const sim = await startSmscSim({ httpPort: null, log });
  const baselineMs = await baselineBinds(n, sim.smppPort);
  const a = await startPod(kc, 'gw-a', ns);
  const b = await startPod(kc, 'gw-b', ns);
  while (a.controller.livePods().length < 2 || b.controller.livePods().length < 2) await sleep(100);

  const names = Array.from({ length: n }, (_, i) => `b${i}`);
  const created = new Map<string, number>();
  const phaseEnd = Math.min(budgetEnd, Date.now() + 180_000);
  const creating = (async () => {
    for (let i = 0; i < names.length; i += 20) {
      await Promise.all(
        names.slice(i, i + 20).map(async (name, j) => {
          const body = {
            apiVersion: `${GV.group}/${GV.version}`,
            kind: 'SmppClientBind',
            metadata: { name, namespace: ns },
            spec: {
              host: '127.0.0.1',
              port: sim.smppPort,
              systemId: `sys${i + j}`,
              passwordSecretRef: { name: 'creds', key: 'password' },
            },
          };
          await custom.createNamespacedCustomObject({
            ...GV,
            plural: 'smppclientbinds',
            namespace: ns,
            body,
          });
          created.set(name, performance.now());
        }),
      );
    }
  })();
  const t0 = performance.now();
  const boundAt = await watchUntil(kc, ns, names, (x) => x.status?.phase === 'Bound', phaseEnd);
  await creating;
  const lat = [...boundAt.entries()].map(([name, t]) => t - (created.get(name) ?? t0));
  const allBoundMs = boundAt.size === n ? Math.max(...boundAt.values()) - t0 : NaN;

  // Failover: kill the pod holding more binds (sessions dropped, Leases left to expire) and time
  // until its binds are Bound on the other again.
  const items = await listBinds(custom, ns);
  const countOn = (p: Pod): number => items.filter((x) => x.status?.gatewayPod === p.name).length;
  const [victim, survivor] = countOn(a) >= countOn(b) ? [a, b] : [b, a];
  const moving = items.filter((x) => x.status?.gatewayPod === victim.name).map((x) => x.metadata.name);
  const killedAt = performance.now();
  await victim.gateway.crash();
  await victim.controller.abandon();
  const movedAt = await watchUntil(
    kc,
    ns,
    moving,
    (x) =>
      moving.includes(x.metadata.name) &&
      x.status?.phase === 'Bound' &&
      x.status.gatewayPod === survivor.name,
    Math.min(budgetEnd, Date.now() + 120_000),
  );
  const failoverMs =
    movedAt.size === moving.length && moving.length > 0 ? Math.max(...movedAt.values()) - killedAt : NaN;
  const doubleBinds = sim.state
    .binds()
    .systems.filter((s) => s.systemId.startsWith('sys') && s.maxConcurrent > 1).length;

  await survivor.controller.stop();
  await survivor.gateway.stop();
  await sim.close();
  return {
    n,
    baselineMs,
    applyP50: pct(lat, 50),
    applyP99: pct(lat, 99),
    allBoundMs,
    bound: boundAt.size,
    moved: moving.length,
    failoverMs,
    failedOver: movedAt.size,
    doubleBinds,
  };
}

async function main(): Promise<void> {
  const budgetEnd = Date.now() + BUDGET_S * 1000;
  const info = await startControlPlane();
  try {
    const crds = resolve(import.meta.dirname, '../../crds');
    await run(info.kubectl, ['--kubeconfig', info.adminKubeconfig, 'apply', '--server-side', '-f', crds]);
    await run(info.kubectl, [
      '--kubeconfig',
      info.adminKubeconfig,
      'wait',
      '--for=condition=Established',
      '-f',
      crds,
    ]);
    const rows: Row[] = [];
    for (const n of SIZES) {
      if (Date.now() > budgetEnd) {
        console.log(`budget of ${BUDGET_S} s spent; skipping ${n} binds`);
        continue;
      }
      const r = await measure(info, n, budgetEnd);
      rows.push(r);
      console.log(`${n} binds done: ${r.bound}/${n} bound, ${r.failedOver}/${r.moved} failed over`);
    }
    const f = (ms: number): string => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : 'n/a');
    console.log(
      `\nlease duration ${LEASE_MS} ms, two gateway pods, one kube-apiserver + etcd on this machine\n`,
    );
    console.log(
      table([
        [
          'binds',
          'bare binds (baseline)',
          'apply→Bound p50',
          'p99',
          'all Bound',
          'vs baseline',
          'moved',
          'failover',
          'failover / lease',
          'double binds',
        ],
        ...rows.map((r) => [
          r.n,
          f(r.baselineMs),
          f(r.applyP50),
          f(r.applyP99),
          f(r.allBoundMs) + (r.bound < r.n ? ` (${r.bound}/${r.n})` : ''),
          ratio(r.allBoundMs, r.baselineMs),
          r.moved,
          f(r.failoverMs) + (r.failedOver < r.moved ? ` (${r.failedOver}/${r.moved})` : ''),
          Number.isFinite(r.failoverMs) ? (r.failoverMs / LEASE_MS).toFixed(2) : 'n/a',
          r.doubleBinds,
        ]),
      ]),
    );
  } finally {
    await stopControlPlane(info);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
