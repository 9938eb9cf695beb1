// Gateway pods as real `smpp-operator run` processes (the real Gateway behind the in-cluster
// controller, POD_NAME / POD_NAMESPACE / WATCH_NAMESPACES from the environment as the downward
// API gives them), against the real API server, with devcore as the core.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { AccountingSnapshot } from '../../../src/gateway/accounting.js';
import { controlPlane, eventually } from '../helpers.js';

const ROOT = resolve(import.meta.dirname, '../../..');

export interface GatewayProc {
  name: string;
  child: ChildProcess;
  output: string[];
  /** resolves once the process logged 'gateway running' */
  running: Promise<{ metricsUrl: string; smppPort: number }>;
  /** the accounting it logged on a clean stop ('gateway stopped') */
  stopped?: AccountingSnapshot;
  exited: Promise<void>;
  /** SIGTERM and wait for the exit (SIGKILL after 30 s) */
  terminate(): Promise<void>;
  /** SIGKILL and wait for the exit */
  kill(): Promise<void>;
  /** the last lines of its log, for failure messages */
  tail(chars?: number): string;
  /** lines of its JSON log whose msg matches */
  logged(msg: RegExp): Record<string, unknown>[];
}

export interface ProcEnv {
  namespace: string;
  coreUrl: string;
  leaseSeconds?: number;
  extra?: Record<string, string>;
}

export function startGatewayProc(name: string, o: ProcEnv): GatewayProc {
  const child = spawn(
    process.execPath,
    [
      '--experimental-transform-types',
      '--no-warnings',
      '--import',
      './test/bench/lib/register.mjs',
      'src/cli.ts',
      'run',
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        KUBECONFIG: controlPlane().adminKubeconfig,
        POD_NAME: name,
        POD_NAMESPACE: o.namespace,
        WATCH_NAMESPACES: o.namespace,
        LEASE_DURATION_SECONDS: String(o.leaseSeconds ?? 4),
        API_BASE_URL: o.coreUrl,
        SMPP_POLL_INTERVAL: '200',
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: '0',
        SMPP_LISTEN_HOST: '127.0.0.1',
        SMPP_LISTEN_PORT: '0',
        SHUTDOWN_GRACE_SECONDS: '10',
        LOG_LEVEL: 'info',
        ...o.extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  let onRunning!: (v: { metricsUrl: string; smppPort: number }) => void;
  const running = new Promise<{ metricsUrl: string; smppPort: number }>((r) => (onRunning = r));
  const p: GatewayProc = {
    name,
    child,
    output,
    running,
    exited: new Promise((r) => child.once('exit', () => r())),
    async terminate() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await p.exited;
      clearTimeout(t);
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await p.exited;
    },
    tail: (chars = 4000) => output.join('').slice(-chars),
    logged: (msg) => lines.filter((l) => typeof l.msg === 'string' && msg.test(l.msg)),
  };
  const keep = (d: Buffer): void => {
    const s = d.toString();
    output.push(s);
    if (output.length > 2000) output.shift();
    partial += s;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        // Only the lines tests look for are kept parsed (a busy gateway logs a lot).
        if (
          typeof j.msg !== 'string' ||
          /^lease|^claim|^partner|^gateway|polling|handing|poll/.test(j.msg) === false
        )
          continue;
        lines.push(j);
        if (j.msg === 'gateway running') {
          onRunning({ metricsUrl: String(j.metrics), smppPort: Number(j.smppPort) });
        }
        if (j.msg === 'gateway stopped') p.stopped = j as unknown as AccountingSnapshot;
      } catch {
        /* not a JSON log line */
      }
    }
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return p;
}

/** One sample of a Prometheus text exposition: the sum of the series matching name and labels. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    if (!Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

export async function scrape(p: GatewayProc): Promise<string> {
  const { metricsUrl } = await p.running;
  const res = await fetch(metricsUrl);
  return res.text();
}

/** Waits for every process to log 'gateway running'. */
export async function allRunning(procs: GatewayProc[], timeoutMs = 60_000): Promise<void> {
  await eventually(
    async () => {
      const done = await Promise.race([
        Promise.all(procs.map((p) => p.running)).then(() => true),
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 200)),
      ]);
      return done;
    },
    timeoutMs,
    'gateway processes running',
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${procs.map((p) => p.tail(2000)).join('\n---\n')}`);
  });
}
