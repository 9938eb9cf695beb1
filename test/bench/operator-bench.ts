// Operator benchmark: what a cluster of many client binds costs and how fast it moves, with every
// part its own process as in a cluster: a private control plane (hack/control-plane.sh: etcd +
// kube-apiserver), the SMSC simulator, devcore as the SMS core, and each gateway "pod" an
// `smpp-operator run` process. The benchmark process only applies manifests (kubectl), watches
// the binds' status and reads counters from outside.
//
//   npm run -s build
//   node --experimental-transform-types --no-warnings --import ./test/bench/lib/register.mjs \
//     test/bench/operator-bench.ts [--rows apply,scale,idle] [--binds 1000] [--scale-binds 5000]
//     [--lease-s 15] [--interval-ms 1000] [--scale-interval-ms 10000] [--steady-s 60]
//     [--idle-intervals 1000,100]
//
// Rows:
// - apply: --binds client binds over 2 pods in one `kubectl apply`; creation → Ready per bind
//   (its creationTimestamp and Ready lastTransitionTime, and the same as this process saw them),
//   all Bound after the apply; baseline: as many bare SMPP sessions binding to the same simulator.
//   Then steady state (API writes per second per pod, from apiserver_request_total; CPU, RSS,
//   /metrics size), then failover: the pod holding more binds is SIGKILLed and its binds timed
//   until Bound on the other; the simulator's per-system_id maximum of concurrent sessions.
// - scale: --scale-binds over 3 pods, apply → all Bound, and steady-state writes.
// - idle: 1 pod, --binds binds, idle: RSS per bind, CPU, the core request rate, /metrics size,
//   at queueCheckInterval 1000 ms and at the 100 ms default.
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { Informer } from '../../src/kube/informer.js';
import { createLogger } from '../../src/log.js';
import { ClientSession } from '../../src/smpp/client-session.js';
import { startControlPlane, stopControlPlane, type ControlPlaneInfo } from '../kube/control-plane.js';
import { intFlag, ratio, table } from './lib/format.js';
import { statusPutLoop, type LoopResult } from './lib/status-loop.js';
import {
  apiWrites,
  cliPath,
  kubectl,
  startCore,
  startPod,
  startSim,
  sumSamples,
  writesBetween,
  type ApiWrites,
  type PodProcess,
  type SimProcess,
} from './lib/operator-procs.js';

const args = process.argv.slice(2);
const rowsArg = args[args.indexOf('--rows') + 1];
const ROWS = new Set(args.includes('--rows') && rowsArg ? rowsArg.split(',') : ['apply', 'scale', 'idle']);
const BINDS = intFlag(args, 'binds', 1000);
const SCALE_BINDS = intFlag(args, 'scale-binds', 5000);
const LEASE_S = intFlag(args, 'lease-s', 15);
const INTERVAL_MS = intFlag(args, 'interval-ms', 1000);
const SCALE_INTERVAL_MS = intFlag(args, 'scale-interval-ms', 10_000);
const STEADY_S = intFlag(args, 'steady-s', 60);
const DEADLINE_S = intFlag(args, 'deadline-s', 180);
const idleArg = args[args.indexOf('--idle-intervals') + 1];
const IDLE_INTERVALS = (args.includes('--idle-intervals') && idleArg ? idleArg : '1000,100')
  .split(',')
  .map(Number);
const log = createLogger({ level: process.env.LOG_LEVEL ?? 'silent' });
const GV = 'smpp.omnimessage.io/v1alpha1';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((s.length * p) / 100) - 1)] as number;
}
const ms = (v: number): string => (Number.isFinite(v) ? `${Math.round(v)} ms` : 'n/a');
const sec = (v: number): string => (Number.isFinite(v) ? `${(v / 1000).toFixed(1)} s` : 'n/a');
const kib = (b: number): string => `${Math.round(b / 1024)} KiB`;
const mib = (b: number): string => `${(b / 1024 / 1024).toFixed(0)} MiB`;

// ---------------------------------------------------------------------------------------------
// Watching the binds from outside

interface BindSeen {
  /** when this process first saw the object, and its creationTimestamp (server, 1 s resolution) */
  addedAt: number;
  created: number;
  /** first time this process saw Ready=True, and that condition's lastTransitionTime */
  readyAt?: number;
  readyTs?: number;
  phase?: string;
  pod?: string;
  /** first time seen Bound on a pod other than the one noted in `movedFrom` */
  movedAt?: number;
  /** that status's boundSince (when the new session bound, 1 s resolution, the pod's clock) */
  movedBoundSince?: number;
}

interface BindView {
  metadata: {
    name: string;
    creationTimestamp?: string;
    managedFields?: { subresource?: string; time?: string }[];
  };
  status?: {
    phase?: string;
    gatewayPod?: string;
    boundSince?: string;
    conditions?: { type: string; status: string; lastTransitionTime?: string }[];
  };
}

class BindWatch {
  readonly seen = new Map<string, BindSeen>();
  movedFrom: string | undefined;
  private readonly inf: Informer<KubernetesObject>;
  private waiters: (() => void)[] = [];

  constructor(kc: KubeConfig, ns: string) {
    this.inf = new Informer<KubernetesObject>(
      kc,
      { resource: { apiVersion: GV, plural: 'smppclientbinds' }, namespaces: [ns] },
      log,
    );
    const on = (o: KubernetesObject): void => this.see(o as unknown as BindView);
    this.inf.on('add', on);
    this.inf.on('update', on);
  }

  async start(): Promise<void> {
    this.inf.start();
    await this.inf.waitForSync();
  }

  stop(): Promise<void> {
    return this.inf.stop();
  }

  private see(b: BindView): void {
    const t = now();
    let s = this.seen.get(b.metadata.name);
    if (!s) {
      s = { addedAt: t, created: Date.parse(b.metadata.creationTimestamp ?? '') };
      this.seen.set(b.metadata.name, s);
    }
    s.phase = b.status?.phase;
    s.pod = b.status?.gatewayPod;
    const ready = b.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status === 'True' && s.readyAt === undefined) {
      s.readyAt = t;
      s.readyTs = Date.parse(ready.lastTransitionTime ?? '');
    }
    if (
      this.movedFrom !== undefined &&
      s.movedAt === undefined &&
      s.phase === 'Bound' &&
      s.pod !== this.movedFrom
    ) {
      s.movedAt = t;
      s.movedBoundSince = Date.parse(b.status?.boundSince ?? '');
    }
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves when `done()` holds or at the deadline (performance.now() time); returns done(). */
  async until(done: () => boolean, deadline: number): Promise<boolean> {
    while (!done()) {
      const left = deadline - now();
      if (left <= 0) return false;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 1000));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return true;
  }

  countOn(pod: string): number {
    let n = 0;
    for (const s of this.seen.values()) if (s.pod === pod && s.phase === 'Bound') n++;
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// Setup pieces

interface Cluster {
  info: ControlPlaneInfo;
  kc: KubeConfig;
  dir: string;
}

async function namespaceWithSecret(c: Cluster, ns: string): Promise<void> {
  await kubectl(c.info, ['create', 'namespace', ns]);
  await kubectl(c.info, ['-n', ns, 'create', 'secret', 'generic', 'creds', '--from-literal=password=pw']);
}

async function bindManifests(
  c: Cluster,
  ns: string,
  n: number,
  sim: SimProcess,
  intervalMs: number,
  suspend = false,
): Promise<string> {
  const docs: string[] = [];
  for (let i = 0; i < n; i++) {
    docs.push(
      [
        `apiVersion: ${GV}`,
        'kind: SmppClientBind',
        `metadata: {name: b${i}, namespace: ${ns}}`,
        `spec: {host: 127.0.0.1, port: ${sim.smppPort}, systemId: sys${i}, queueCheckInterval: ${intervalMs},${suspend ? ' suspend: true,' : ''}`,
        '  passwordSecretRef: {name: creds, key: password}}',
      ].join('\n'),
    );
  }
  const file = join(c.dir, `${ns}.yaml`);
  await writeFile(file, docs.join('\n---\n') + '\n');
  return file;
}

async function startPods(
  c: Cluster,
  count: number,
  opsNs: string,
  ns: string,
  coreUrl: string,
): Promise<PodProcess[]> {
  await kubectl(c.info, ['create', 'namespace', opsNs]);
  const pods = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      startPod({
        name: `gw-${String.fromCharCode(97 + i)}`,
        info: c.info,
        operatorNamespace: opsNs,
        watchNamespace: ns,
        coreUrl,
        leaseSeconds: LEASE_S,
      }),
    ),
  );
  const deadline = Date.now() + 120_000;
  while (!(await Promise.all(pods.map((p) => p.ready()))).every(Boolean)) {
    if (Date.now() > deadline)
      throw new Error(`pods not ready:\n${pods.map((p) => p.proc.tail()).join('\n')}`);
    await sleep(200);
  }
  // Every pod has written its membership Lease; give each a moment to see the others.
  await sleep(2000);
  return pods;
}

async function baselineBinds(n: number, port: number): Promise<number> {
  const sessions: ClientSession[] = [];
  const t0 = now();
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
  const took = now() - t0;
  await Promise.all(sessions.map((s) => s.stop()));
  return took;
}

interface Applied {
  applyMs: number;
  /** Ready lastTransitionTime − creationTimestamp, ms (1 s resolution on both ends) */
  serverLat: number[];
  /** Ready seen − added seen, by this process's watch */
  seenLat: number[];
  allBoundAfterApplyMs: number;
  allBoundAfterStartMs: number;
  bound: number;
}

async function applyAndWait(c: Cluster, watch: BindWatch, file: string, n: number): Promise<Applied> {
  const t0 = now();
  await kubectl(c.info, ['apply', '-f', file]);
  const t1 = now();
  const all = (): boolean => {
    if (watch.seen.size < n) return false;
    for (const s of watch.seen.values()) if (s.readyAt === undefined) return false;
    return true;
  };
  await watch.until(all, t1 + DEADLINE_S * 1000);
  const serverLat: number[] = [];
  const seenLat: number[] = [];
  let last = 0;
  let bound = 0;
  for (const s of watch.seen.values()) {
    if (s.readyAt === undefined) continue;
    bound++;
    last = Math.max(last, s.readyAt);
    seenLat.push(s.readyAt - s.addedAt);
    if (s.readyTs !== undefined && Number.isFinite(s.readyTs) && Number.isFinite(s.created))
      serverLat.push(s.readyTs - s.created);
  }
  return {
    applyMs: t1 - t0,
    serverLat,
    seenLat,
    allBoundAfterApplyMs: bound === n ? last - t1 : NaN,
    allBoundAfterStartMs: bound === n ? last - t0 : NaN,
    bound,
  };
}

interface Steady {
  seconds: number;
  writes: ApiWrites;
  cpuCores: number[];
  rss: number[];
  metricsBytes: number[];
  coreRequestsPerS: number[];
}

async function steady(c: Cluster, pods: PodProcess[], seconds: number): Promise<Steady> {
  const m0 = await Promise.all(pods.map((p) => p.metrics()));
  const cpu0 = pods.map((p) => p.cpu());
  const w0 = await apiWrites(c.info);
  const t0 = now();
  await sleep(seconds * 1000);
  const w1 = await apiWrites(c.info);
  const el = (now() - t0) / 1000;
  const cpu1 = pods.map((p) => p.cpu());
  const m1 = await Promise.all(pods.map((p) => p.metrics()));
  return {
    seconds: el,
    writes: writesBetween(w0, w1),
    cpuCores: pods.map((_, i) => ((cpu1[i] as number) - (cpu0[i] as number)) / el),
    rss: pods.map((p) => p.rss()),
    metricsBytes: m1.map((t) => Buffer.byteLength(t)),
    coreRequestsPerS: pods.map(
      (_, i) =>
        (sumSamples(m1[i] as string, 'smpp_core_api_requests_total') -
          sumSamples(m0[i] as string, 'smpp_core_api_requests_total')) /
        el,
    ),
  };
}

function writesLine(s: Steady, pods: number): string {
  const per = [...s.writes.byResource.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${(v / s.seconds).toFixed(2)}/s`)
    .join(', ');
  return `${(s.writes.total / s.seconds / pods).toFixed(2)}/s per pod (${(s.writes.total / s.seconds).toFixed(2)}/s in all: ${per || 'none'})`;
}

// ---------------------------------------------------------------------------------------------
// Rows

async function applyRow(c: Cluster): Promise<void> {
  const ns = 'bench-apply';
  const n = BINDS;
  await namespaceWithSecret(c, ns);
  const sim = await startSim();
  const core = await startCore();
  const baselineMs = await baselineBinds(n, sim.smppPort);
  const pods = await startPods(c, 2, 'ops-apply', ns, core.url);
  const watch = new BindWatch(c.kc, ns);
  await watch.start();
  const file = await bindManifests(c, ns, n, sim, INTERVAL_MS);
  const a = await applyAndWait(c, watch, file, n);
  console.log(
    `apply: ${a.bound}/${n} Ready; kubectl apply took ${sec(a.applyMs)}; all Bound ${sec(a.allBoundAfterApplyMs)} after it`,
  );
  // The baseline of the failover's status writes: as many binds in a namespace no pod watches,
  // their status patched by a bare loop after the failover (same API server, same watchers).
  const baseNs = 'bench-apply-baseline';
  await kubectl(c.info, ['create', 'namespace', baseNs]);
  const baseNames = Array.from({ length: Math.ceil(n / 2) + 50 }, (_, i) => `b${i}`);
  await kubectl(c.info, [
    'apply',
    '-f',
    await bindManifests(c, baseNs, baseNames.length, sim, INTERVAL_MS, true),
  ]);
  await sleep(15_000);
  const st = await steady(c, pods, STEADY_S);

  // Failover: SIGKILL the pod with more binds.
  const [victim, survivor] =
    watch.countOn(pods[0]?.name ?? '') >= watch.countOn(pods[1]?.name ?? '')
      ? [pods[0] as PodProcess, pods[1] as PodProcess]
      : [pods[1] as PodProcess, pods[0] as PodProcess];
  const moving = [...watch.seen.entries()].filter(([, s]) => s.pod === victim.name).map(([k]) => k);
  watch.movedFrom = victim.name;
  const w0 = await apiWrites(c.info);
  const killedAt = now();
  const killedWall = Date.now();
  await victim.kill();
  // The carrier's side: when each moved system_id has a session again (the simulator's registry,
  // read every 100 ms), apart from when its status says so (the API server's write rate).
  const movedSystems = new Set(moving.map((k) => `sys${k.slice(1)}`));
  const carrierAt = new Map<string, number>();
  const carrierGone = new Set<string>();
  let down = true;
  const carrierWatch = (async () => {
    while (down && carrierAt.size < movedSystems.size && now() - killedAt < (LEASE_S + 120) * 1000) {
      const t = now();
      for (const s of await sim.systems().catch(() => [])) {
        if (!movedSystems.has(s.systemId) || carrierAt.has(s.systemId)) continue;
        // First its old session closes (the kernel closes a killed process's sockets), then
        // the survivor opens a new one.
        if (s.active === 0) carrierGone.add(s.systemId);
        else if (carrierGone.has(s.systemId)) carrierAt.set(s.systemId, t - killedAt);
      }
      await sleep(100);
    }
  })();
  const movedAll = (): boolean => moving.every((k) => watch.seen.get(k)?.movedAt !== undefined);
  await watch.until(movedAll, killedAt + (LEASE_S + 120) * 1000);
  const failoverWrites = writesBetween(w0, await apiWrites(c.info));
  down = false;
  await carrierWatch;
  // The bare loop, as many status PUTs as binds moved, 32 in flight as the pods write, the
  // survivor still running: what the API server does here and now without the operator.
  const loops: LoopResult[] = [];
  for (let r = 0; r < 3; r++)
    loops.push(await statusPutLoop(c.kc, baseNs, baseNames.slice(0, moving.length), 32, new Map(), r));
  const loopMs = loops.map((l) => l.ms).sort((x, y) => x - y);
  const loopMedianMs = loopMs[1] as number;
  const carrierLat = [...carrierAt.values()];
  const moveLat = moving
    .map((k) => watch.seen.get(k)?.movedAt)
    .filter((t): t is number => t !== undefined)
    .map((t) => t - killedAt);
  const boundLat = moving
    .map((k) => watch.seen.get(k)?.movedBoundSince)
    .filter((t): t is number => t !== undefined && Number.isFinite(t))
    .map((t) => t - killedWall);
  // When the API server stored each moved bind's status: its managedFields time for the status
  // subresource (the informer drops managedFields, so read them once here; nothing else writes
  // these statuses after the failover).
  const listed = JSON.parse(
    await kubectl(c.info, ['-n', ns, 'get', 'smppclientbinds', '-o', 'json', '--show-managed-fields']),
  ) as {
    items: BindView[];
  };
  const storedAt = new Map(
    listed.items.map((b) => [
      b.metadata.name,
      Date.parse(b.metadata.managedFields?.find((f) => f.subresource === 'status')?.time ?? ''),
    ]),
  );
  const storedLat = moving
    .map((k) => storedAt.get(k))
    .filter((t): t is number => t !== undefined && Number.isFinite(t))
    .map((t) => t - killedWall);
  const systems = await sim.systems();
  const maxConcurrent = Math.max(
    0,
    ...systems.filter((s) => s.systemId.startsWith('sys')).map((s) => s.maxConcurrent),
  );
  const onSurvivor = watch.countOn(survivor.name);
  const victimLease = await kubectl(c.info, [
    '-n',
    'ops-apply',
    'get',
    'lease',
    `smpp-operator-member-${victim.name}`,
    '-o',
    'jsonpath={.spec.renewTime}',
  ]).catch(() => '');
  console.log(
    `failover: killed ${victim.name} at ${new Date(killedWall).toISOString()}; its member Lease last renewed ${victimLease || '?'}`,
  );
  if (survivor.logFile) console.log(await timeline(survivor.logFile, killedWall));
  const leaseEndAfterKill = Date.parse(victimLease) + LEASE_S * 1000 - killedWall;

  await watch.stop();
  await survivor.stop();
  await sim.stop();
  await core.stop();

  console.log(
    `\n## apply: ${n} client binds, 2 pods, lease ${LEASE_S} s, queueCheckInterval ${INTERVAL_MS} ms\n`,
  );
  console.log(
    table([
      ['figure', 'value'],
      ['bare SMPP binds to the same simulator (baseline)', ms(baselineMs)],
      ['kubectl apply of all binds', ms(a.applyMs)],
      [
        'creation → Ready p50 / p99 (server timestamps, 1 s resolution)',
        `${sec(pct(a.serverLat, 50))} / ${sec(pct(a.serverLat, 99))}`,
      ],
      ['creation → Ready p50 / p99 (as watched)', `${ms(pct(a.seenLat, 50))} / ${ms(pct(a.seenLat, 99))}`],
      ['all Bound after the apply finished', `${ms(a.allBoundAfterApplyMs)} (${a.bound}/${n})`],
      [
        'all Bound after the apply began / baseline',
        `${ms(a.allBoundAfterStartMs)} (${ratio(a.allBoundAfterStartMs, baselineMs)})`,
      ],
      [`steady API writes (${Math.round(st.seconds)} s)`, writesLine(st, 2)],
      ['steady CPU per pod', st.cpuCores.map((x) => `${x.toFixed(3)} core`).join(', ')],
      ['RSS per pod', st.rss.map(mib).join(', ')],
      ['/metrics per pod', st.metricsBytes.map(kib).join(', ')],
      ['core requests per pod', st.coreRequestsPerS.map((x) => `${x.toFixed(0)}/s`).join(', ')],
      ['failover: binds of the killed pod', String(moving.length)],
      [
        'failover: Bound again on the other, p50 / max',
        `${ms(pct(moveLat, 50))} / ${moveLat.length === moving.length ? ms(Math.max(...moveLat)) : `n/a (${moveLat.length}/${moving.length})`} (lease ${LEASE_S} s)`,
      ],
      [
        // The target's own terms: a kill lands anywhere in a renew period, the lease runs from the
        // last renewal, so what the survivor adds is measured from that lease's end.
        "failover: all Bound after the killed pod's lease ended (last renewal + lease)",
        Number.isFinite(leaseEndAfterKill) && moveLat.length === moving.length
          ? ms(Math.max(...moveLat) - leaseEndAfterKill)
          : 'n/a',
      ],
      [
        'failover: session open again at the simulator (read every 100 ms), p50 / max',
        `${ms(pct(carrierLat, 50))} / ${carrierLat.length === moving.length ? ms(Math.max(...carrierLat)) : `n/a (${carrierLat.length}/${moving.length})`}`,
      ],
      [
        'failover: new session bound (status boundSince, 1 s resolution), p50 / max',
        `${sec(pct(boundLat, 50))} / ${sec(Math.max(...boundLat))}`,
      ],
      [
        'failover: status stored by the API server (managedFields time, 1 s resolution), p50 / max',
        `${sec(pct(storedLat, 50))} / ${sec(Math.max(...storedLat))}`,
      ],
      ['failover: binds Bound on the survivor afterwards', `${onSurvivor}/${n}`],
      [
        'failover: API writes from the kill to all Bound',
        [...failoverWrites.byResource.entries()].map(([k, v]) => `${k} ${v}`).join(', '),
      ],
      [
        `baseline: bare loop of ${moving.length} status PUTs, 32 in flight, median (range) of 3`,
        `${ms(loopMedianMs)} (${ms(loopMs[0] as number)}–${ms(loopMs[2] as number)}); ${((moving.length / loopMedianMs) * 1000).toFixed(0)}/s`,
      ],
      [
        'failover: status Bound max − session at the simulator max / baseline loop',
        moveLat.length === moving.length && carrierLat.length === moving.length
          ? `${ms(Math.max(...moveLat) - Math.max(...carrierLat))} (${ratio(Math.max(...moveLat) - Math.max(...carrierLat), loopMedianMs)})`
          : 'n/a',
      ],
      ['simulator: most sessions ever open at once for one system_id', String(maxConcurrent)],
    ]),
  );
}

async function scaleRow(c: Cluster): Promise<void> {
  const ns = 'bench-scale';
  const n = SCALE_BINDS;
  await namespaceWithSecret(c, ns);
  const sim = await startSim();
  const core = await startCore();
  const baselineMs = await baselineBinds(n, sim.smppPort);
  const pods = await startPods(c, 3, 'ops-scale', ns, core.url);
  const watch = new BindWatch(c.kc, ns);
  await watch.start();
  const file = await bindManifests(c, ns, n, sim, SCALE_INTERVAL_MS);
  const a = await applyAndWait(c, watch, file, n);
  console.log(`scale: ${a.bound}/${n} Ready; kubectl apply took ${sec(a.applyMs)}`);
  await sleep(15_000);
  const st = await steady(c, pods, STEADY_S);
  const counts = pods.map((p) => watch.countOn(p.name));
  const systems = await sim.systems();
  const maxConcurrent = Math.max(
    0,
    ...systems.filter((s) => s.systemId.startsWith('sys')).map((s) => s.maxConcurrent),
  );
  await watch.stop();
  await Promise.all(pods.map((p) => p.stop()));
  await sim.stop();
  await core.stop();

  console.log(
    `\n## scale: ${n} client binds, 3 pods, lease ${LEASE_S} s, queueCheckInterval ${SCALE_INTERVAL_MS} ms\n`,
  );
  console.log(
    table([
      ['figure', 'value'],
      ['bare SMPP binds to the same simulator (baseline)', ms(baselineMs)],
      ['kubectl apply of all binds', ms(a.applyMs)],
      [
        'all Bound after the apply began',
        `${ms(a.allBoundAfterStartMs)} (${a.bound}/${n}; ${ratio(a.allBoundAfterStartMs, baselineMs)} the baseline)`,
      ],
      ['all Bound after the apply finished', ms(a.allBoundAfterApplyMs)],
      ['creation → Ready p50 / p99 (as watched)', `${ms(pct(a.seenLat, 50))} / ${ms(pct(a.seenLat, 99))}`],
      ['binds per pod', counts.join(' / ')],
      [`steady API writes (${Math.round(st.seconds)} s)`, writesLine(st, 3)],
      ['steady CPU per pod', st.cpuCores.map((x) => `${x.toFixed(3)} core`).join(', ')],
      ['RSS per pod', st.rss.map(mib).join(', ')],
      ['simulator: most sessions at once for one system_id', String(maxConcurrent)],
    ]),
  );
}

/** RSS of a process sampled every `everyMs` for `count` samples: median, low, high. */
async function rssSamples(
  pod: PodProcess,
  count: number,
  everyMs: number,
): Promise<{ med: number; lo: number; hi: number }> {
  const xs: number[] = [];
  for (let i = 0; i < count; i++) {
    if (i > 0) await sleep(everyMs);
    xs.push(pod.rss());
  }
  xs.sort((a, b) => a - b);
  return {
    med: xs[Math.floor(xs.length / 2)] as number,
    lo: xs[0] as number,
    hi: xs[xs.length - 1] as number,
  };
}

async function idleRow(c: Cluster, intervalMs: number): Promise<string[]> {
  const ns = `bench-idle-${intervalMs}`;
  const n = BINDS;
  await namespaceWithSecret(c, ns);
  const sim = await startSim();
  const core = await startCore();
  const [pod] = await startPods(c, 1, `ops-idle-${intervalMs}`, ns, core.url);
  if (!pod) throw new Error('no pod');
  await sleep(5000);
  // RSS moves with the garbage collector's timing (the young generation grows and shrinks with
  // the allocation rate): the median of samples a second apart, before and after, not one each.
  const rss0 = await rssSamples(pod, 10, 1000);
  const heap0 = sumSamples(await pod.metrics(), 'nodejs_heap_size_used_bytes');
  const watch = new BindWatch(c.kc, ns);
  await watch.start();
  const file = await bindManifests(c, ns, n, sim, intervalMs);
  const a = await applyAndWait(c, watch, file, n);
  await watch.stop();
  await sleep(20_000);
  const st = await steady(c, [pod], STEADY_S);
  const rss1 = await rssSamples(pod, 10, 1000);
  const m1 = await pod.metrics();
  const heap1 = sumSamples(m1, 'nodejs_heap_size_used_bytes');
  const newSpace = sumSamples(m1, 'nodejs_heap_space_size_total_bytes', { space: 'new' });
  const oldUsed = sumSamples(m1, 'nodejs_heap_space_size_used_bytes', { space: 'old' });
  const oldTotal = sumSamples(m1, 'nodejs_heap_space_size_total_bytes', { space: 'old' });
  const dir = process.env.BENCH_POD_LOG_DIR;
  if (dir) {
    // What the bytes are: the /metrics page, and (with BENCH_POD_NODE_OPTIONS=
    // "--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=DIR") a heap snapshot of the idle pod.
    await writeFile(join(dir, `idle-${intervalMs}-metrics.txt`), m1);
    if (process.env.BENCH_POD_NODE_OPTIONS?.includes('heapsnapshot-signal')) {
      process.kill(pod.proc.pid, 'SIGUSR2');
      await sleep(30_000);
    }
  }
  await pod.stop();
  await sim.stop();
  await core.stop();
  return [
    `${intervalMs} ms`,
    `${a.bound}/${n}`,
    `${mib(rss0.med)} (${mib(rss0.lo)}–${mib(rss0.hi)})`,
    `${mib(rss1.med)} (${mib(rss1.lo)}–${mib(rss1.hi)})`,
    kib((rss1.med - rss0.med) / n),
    kib((heap1 - heap0) / n),
    mib(newSpace),
    `${mib(oldUsed)} / ${mib(oldTotal)}`,
    `${(st.cpuCores[0] ?? NaN).toFixed(3)} core`,
    `${(st.coreRequestsPerS[0] ?? NaN).toFixed(0)}/s`,
    kib(st.metricsBytes[0] ?? NaN),
    `${(st.writes.total / st.seconds).toFixed(2)}/s`,
  ];
}

/** From an instrumented pod log (BENCH_POD_LOG_DIR): when the survivor saw what, after the kill. */
async function timeline(file: string, fromWall: number): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const by = new Map<string, { n: number; first: number; last: number }>();
  for (const line of (await readFile(file, 'utf8')).split('\n')) {
    let j: { time?: string; msg?: string };
    try {
      j = JSON.parse(line) as { time?: string; msg?: string };
    } catch {
      continue;
    }
    const t = Date.parse(j.time ?? '');
    if (!(t >= fromWall) || !j.msg) continue;
    const e = by.get(j.msg) ?? { n: 0, first: t, last: t };
    e.n++;
    e.last = t;
    by.set(j.msg, e);
  }
  return [...by.entries()]
    .sort((a, b) => a[1].first - b[1].first)
    .map(
      ([m, e]) =>
        `  +${((e.first - fromWall) / 1000).toFixed(2)} s … +${((e.last - fromWall) / 1000).toFixed(2)} s  ${e.n}× ${m}`,
    )
    .join('\n');
}

async function main(): Promise<void> {
  cliPath();
  const info = await startControlPlane();
  const kc = new KubeConfig();
  kc.loadFromFile(info.adminKubeconfig);
  const c: Cluster = { info, kc, dir: await mkdtemp(join(tmpdir(), 'smpp-opbench-')) };
  try {
    const crds = resolve(import.meta.dirname, '../../crds');
    await kubectl(info, ['apply', '--server-side', '-f', crds]);
    await kubectl(info, ['wait', '--for=condition=Established', '-f', crds]);
    console.log(`operator bench: ${new Date().toISOString()}, load average ${(await loadAvg()).join(' ')}`);
    if (ROWS.has('apply')) await applyRow(c);
    if (ROWS.has('scale')) await scaleRow(c);
    if (ROWS.has('idle')) {
      const rows: string[][] = [];
      for (const iv of IDLE_INTERVALS) rows.push(await idleRow(c, iv));
      console.log(
        `\n## idle: ${BINDS} client binds on 1 pod (RSS median (range) of 10 samples 1 s apart, before the binds → after; per bind = the difference of the medians / ${BINDS}; JS heap used per bind from the pod's nodejs_heap_size_used_bytes)\n`,
      );
      console.log(
        table([
          [
            'queueCheckInterval',
            'Ready',
            'RSS before',
            'RSS after',
            'RSS per bind',
            'heap per bind',
            'new space',
            'old space used / total',
            'CPU idle',
            'core requests',
            '/metrics',
            'API writes',
          ],
          ...rows,
        ]),
      );
    }
    console.log(`\nload average at the end: ${(await loadAvg()).join(' ')}`);
  } finally {
    await stopControlPlane(info);
  }
}

async function loadAvg(): Promise<string[]> {
  const { readFile } = await import('node:fs/promises');
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
