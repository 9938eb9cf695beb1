// The processes of the operator benchmark, each its own OS process as in a cluster: the SMSC
// simulator, devcore as the SMS core, and gateway "pods" (`smpp-operator run` with the
// environment the downward API would give a pod). Plus what the benchmark reads from outside:
// each pod's /metrics and /proc figures, the simulator's bind registry and the API server's
// request counters.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { ControlPlaneInfo } from '../../kube/control-plane.js';
import { cpuSeconds, freePort, rssBytes, spawnManaged, waitForPort, type ManagedProcess } from './proc.js';

const run = promisify(execFile);
export const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = resolve(ROOT, 'dist/cli.js');

/** The compiled CLI (what the image runs), so no pod spends its CPU on type stripping. */
export function cliPath(): string {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run -s build\` first`);
  return CLI;
}

/**
 * The Node flags the image runs the operator with (the Dockerfile's ENTRYPOINT between `node` and
 * the script), so a benchmark pod's heap is sized as a real pod's. BENCH_POD_NODE_FLAGS replaces
 * them (space-separated; empty for none).
 */
export function imageNodeFlags(): string[] {
  const override = process.env.BENCH_POD_NODE_FLAGS;
  if (override !== undefined) return override.split(' ').filter((f) => f.length > 0);
  const m = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
  const argv = m ? (JSON.parse(m[1] as string) as string[]) : [];
  return argv.slice(1, -1).filter((a) => a.startsWith('--'));
}

export interface SimProcess {
  proc: ManagedProcess;
  smppPort: number;
  httpPort: number;
  /** per system_id: live sessions and the most ever open at once */
  systems(): Promise<{ systemId: string; active: number; maxConcurrent: number }[]>;
  stop(): Promise<void>;
}

export async function startSim(): Promise<SimProcess> {
  const smppPort = await freePort();
  const httpPort = await freePort();
  const proc = spawnManaged('smsc-sim', process.execPath, [
    cliPath(),
    'smsc-sim',
    '--port',
    String(smppPort),
    '--http-port',
    String(httpPort),
  ]);
  await waitForPort(httpPort, 30_000, proc);
  await waitForPort(smppPort, 30_000, proc);
  return {
    proc,
    smppPort,
    httpPort,
    systems: async () => {
      const r = await fetch(`http://127.0.0.1:${httpPort}/binds`);
      const body = (await r.json()) as {
        systems: { systemId: string; active: number; maxConcurrent: number }[];
      };
      return body.systems;
    },
    stop: () => proc.stop(),
  };
}

export interface CoreProcess {
  proc: ManagedProcess;
  url: string;
  stop(): Promise<void>;
}

export async function startCore(): Promise<CoreProcess> {
  const port = await freePort();
  const proc = spawnManaged('devcore', process.execPath, [cliPath(), 'devcore', '--port', String(port)]);
  await waitForPort(port, 30_000, proc);
  return { proc, url: `http://127.0.0.1:${port}`, stop: () => proc.stop() };
}

export interface PodProcess {
  name: string;
  proc: ManagedProcess;
  metricsPort: number;
  /** where its log goes (BENCH_POD_LOG_DIR) */
  logFile?: string;
  ready(): Promise<boolean>;
  /** the /metrics page as served */
  metrics(): Promise<string>;
  rss(): number;
  cpu(): number;
  /** SIGKILL: what a node failure or an OOM kill does */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface PodOptions {
  name: string;
  info: ControlPlaneInfo;
  operatorNamespace: string;
  watchNamespace: string;
  coreUrl: string;
  leaseSeconds: number;
  logLevel?: string;
}

export async function startPod(o: PodOptions): Promise<PodProcess> {
  const metricsPort = await freePort();
  const listenPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KUBECONFIG: o.info.adminKubeconfig,
    POD_NAME: o.name,
    POD_NAMESPACE: o.operatorNamespace,
    WATCH_NAMESPACES: o.watchNamespace,
    LEASE_DURATION_SECONDS: String(o.leaseSeconds),
    API_BASE_URL: o.coreUrl,
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: String(metricsPort),
    SMPP_LISTEN_HOST: '127.0.0.1',
    SMPP_LISTEN_PORT: String(listenPort),
    SHUTDOWN_GRACE_SECONDS: '5',
    LOG_LEVEL: o.logLevel ?? process.env.BENCH_POD_LOG_LEVEL ?? 'warn',
    // e.g. BENCH_POD_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=DIR": a profile of each pod that exits
    ...(process.env.BENCH_POD_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_POD_NODE_OPTIONS } : {}),
    ...(process.env.MALLOC_ARENA_MAX ? { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX } : {}),
  };
  // BENCH_POD_LOG_DIR=DIR keeps each pod's log in DIR/<pod>.log (with BENCH_POD_LOG_LEVEL=info:
  // when each shard was taken, each session bound), to see where a row's time goes.
  const dir = process.env.BENCH_POD_LOG_DIR;
  const logFile = dir ? join(dir, `${o.name}-${process.pid}.log`) : undefined;
  const proc = spawnManaged(
    o.name,
    process.execPath,
    [...imageNodeFlags(), cliPath(), 'run'],
    ROOT,
    env,
    logFile,
  );
  await waitForPort(metricsPort, 60_000, proc);
  const base = `http://127.0.0.1:${metricsPort}`;
  return {
    name: o.name,
    proc,
    metricsPort,
    ...(logFile ? { logFile } : {}),
    ready: async () => {
      try {
        return (await fetch(`${base}/readyz`)).status === 200;
      } catch {
        return false;
      }
    },
    metrics: async () => (await fetch(`${base}/metrics`)).text(),
    rss: () => rssBytes(proc.pid),
    cpu: () => cpuSeconds(proc.pid),
    kill: async () => {
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    stop: () => proc.stop(15_000),
  };
}

/** Sum of a Prometheus counter's samples whose labels match `where` (all given labels equal). */
export function sumSamples(text: string, metric: string, where: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(metric)) continue;
    const rest = line.slice(metric.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const labels = parseLabels(rest);
    if (Object.entries(where).every(([k, v]) => labels[k] === v))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function parseLabels(rest: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (rest[0] !== '{') return out;
  const body = rest.slice(1, rest.indexOf('}'));
  for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
    out[m[1] as string] = m[2] as string;
  return out;
}

export interface ApiWrites {
  total: number;
  /** by resource[/subresource] */
  byResource: Map<string, number>;
}

const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY']);

/** Mutating requests the API server has served so far (apiserver_request_total), by resource. */
export async function apiWrites(info: ControlPlaneInfo): Promise<ApiWrites> {
  const { stdout } = await run(
    info.kubectl,
    ['--kubeconfig', info.adminKubeconfig, 'get', '--raw', '/metrics'],
    {
      maxBuffer: 256 * 1024 * 1024,
    },
  );
  const byResource = new Map<string, number>();
  let total = 0;
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = parseLabels(line.slice('apiserver_request_total'.length));
    if (!WRITE_VERBS.has(labels.verb ?? '')) continue;
    const n = Number(line.slice(line.lastIndexOf(' ') + 1));
    const key = labels.subresource ? `${labels.resource}/${labels.subresource}` : (labels.resource ?? '?');
    byResource.set(key, (byResource.get(key) ?? 0) + n);
    total += n;
  }
  return { total, byResource };
}

/** b − a, per resource, dropping resources that did not move. */
export function writesBetween(a: ApiWrites, b: ApiWrites): ApiWrites {
  const byResource = new Map<string, number>();
  for (const [k, v] of b.byResource) {
    const d = v - (a.byResource.get(k) ?? 0);
    if (d > 0) byResource.set(k, d);
  }
  return { total: b.total - a.total, byResource };
}

export async function kubectl(info: ControlPlaneInfo, args: string[]): Promise<string> {
  const { stdout } = await run(info.kubectl, ['--kubeconfig', info.adminKubeconfig, ...args], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}
