// `smpp-operator run` as a real process (src/cli.ts through Node's type stripping, no build):
// the one place tests spawn gateway processes. It keeps the process's output for failure
// messages, parses the log lines tests wait for ('gateway running' with the metrics URL and
// SMPP port, 'gateway stopped' with the accounting), and stops it with SIGTERM, then SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import type { AccountingSnapshot } from '../../src/gateway/accounting.js';

const ROOT = resolve(import.meta.dirname, '../..');

export interface RunningInfo {
  metricsUrl: string;
  smppPort: number;
}

export interface GatewayProc {
  name: string;
  child: ChildProcess;
  /** what it wrote to stdout and stderr, in chunks (the oldest dropped past `keepChunks`) */
  output: string[];
  /** resolves once the process logged 'gateway running' */
  running: Promise<RunningInfo>;
  /** the accounting it logged on a clean stop ('gateway stopped') */
  stopped?: AccountingSnapshot;
  /** resolves with the exit code (null when a signal ended it) */
  exited: Promise<number | null>;
  /** SIGTERM and wait for the exit (SIGKILL after killAfterMs, default 30 s) */
  terminate(killAfterMs?: number): Promise<void>;
  /** SIGKILL and wait for the exit */
  kill(): Promise<void>;
  /** the last characters of its output, for failure messages */
  tail(chars?: number): string;
  /** lines of its JSON log whose msg matches (only lease, claim, partner, gateway and poll lines are kept) */
  logged(msg: RegExp): Record<string, unknown>[];
}

export interface SpawnGatewayOptions {
  /** after `run` (e.g. `--manifests DIR`) */
  args?: string[];
  /** on top of this process's environment and the loopback defaults below */
  env: Record<string, string>;
  /** how many output chunks to keep; default 2000 */
  keepChunks?: number;
}

/** Loopback listeners on ports the kernel picks, info logs, and a 10 s drain. */
const DEFAULTS: Record<string, string> = {
  METRICS_HOST: '127.0.0.1',
  METRICS_PORT: '0',
  SMPP_LISTEN_HOST: '127.0.0.1',
  SMPP_LISTEN_PORT: '0',
  SHUTDOWN_GRACE_SECONDS: '10',
  LOG_LEVEL: 'info',
};

// Only the lines tests look for are kept parsed (a busy gateway logs a lot).
const KEPT = /^lease|^member|^claim|^partner|^gateway|polling|handing|poll/;

export function spawnGateway(name: string, o: SpawnGatewayOptions): GatewayProc {
  const child = spawn(
    process.execPath,
    [
      '--experimental-transform-types',
      '--no-warnings',
      '--import',
      './test/bench/lib/register.mjs',
      'src/cli.ts',
      'run',
      ...(o.args ?? []),
    ],
    { cwd: ROOT, env: { ...process.env, ...DEFAULTS, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keepChunks = o.keepChunks ?? 2000;
  const output: string[] = [];
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  let onRunning!: (v: RunningInfo) => void;
  const running = new Promise<RunningInfo>((r) => (onRunning = r));
  const done = (): boolean => child.exitCode !== null || child.signalCode !== null;
  const p: GatewayProc = {
    name,
    child,
    output,
    running,
    exited: new Promise((r) => child.once('exit', (code) => r(code))),
    async terminate(killAfterMs = 30_000) {
      if (done()) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      await p.exited;
      clearTimeout(t);
    },
    async kill() {
      if (done()) return;
      child.kill('SIGKILL');
      await p.exited;
    },
    tail: (chars = 4000) => output.join('').slice(-chars),
    logged: (msg) => lines.filter((l) => typeof l.msg === 'string' && msg.test(l.msg)),
  };
  const keep = (d: Buffer): void => {
    const s = d.toString();
    output.push(s);
    if (output.length > keepChunks) output.shift();
    partial += s;
    let nl: number;
    while ((nl = partial.indexOf('\n')) >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        if (typeof j.msg !== 'string' || !KEPT.test(j.msg)) continue;
        lines.push(j);
        if (j.msg === 'gateway running')
          onRunning({ metricsUrl: String(j.metrics), smppPort: Number(j.smppPort) });
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
