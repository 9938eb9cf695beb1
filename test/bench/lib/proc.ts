// Child processes for benchmarks: spawn, wait for their ports, read their CPU time from /proc, and
// always stop them, also when the benchmark itself fails or is interrupted.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { connect } from 'node:net';

export { freePort } from '../../helpers/net.js';

let clockTicks: number | undefined;

/** Kernel clock ticks per second, the unit of utime/stime in /proc/<pid>/stat. */
export function clkTck(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds a live process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: fields restart after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]); // field 14 overall
  const stime = Number(fields[12]); // field 15 overall
  return (utime + stime) / clkTck();
}

/** Resident set size of a live process, in bytes (VmRSS of /proc/<pid>/status). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** CPU seconds of this Node process (all its threads). */
export function selfCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface ManagedProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  exited: Promise<number | null>;
  /** The last few KB of its stdout/stderr, for error messages. */
  tail(): string;
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: never leave a benchmark's children running after we are gone.
  process.on('exit', () => {
    for (const p of live) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void Promise.all([...live].map((p) => p.stop(1000))).finally(() => process.exit(130));
    });
  }
}

export function spawnManaged(
  name: string,
  command: string,
  args: string[],
  cwd?: string,
  env?: NodeJS.ProcessEnv,
  /** also append everything it prints to this file (instrumented runs) */
  logFile?: string,
): ManagedProcess {
  installExitHook();
  const child = spawn(command, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  let output = '';
  const file = logFile ? createWriteStream(logFile, { flags: 'a' }) : undefined;
  const keep = (chunk: Buffer): void => {
    file?.write(chunk);
    output = (output + chunk.toString('utf8')).slice(-4096);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc: ManagedProcess = {
    name,
    pid: child.pid,
    child,
    exited,
    tail: () => output,
    stop: async (graceMs = 5000) => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      live.delete(proc);
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** An ephemeral loopback port that was free a moment ago (for programs that need a number up front). */
export async function waitForPort(
  port: number,
  timeoutMs: number,
  proc?: ManagedProcess,
  host = '127.0.0.1',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (proc && proc.child.exitCode !== null)
      throw new Error(
        `${proc.name} exited (${proc.child.exitCode}) before listening on ${port}:\n${proc.tail()}`,
      );
    if (Date.now() > deadline)
      throw new Error(
        `nothing listening on ${host}:${port} after ${timeoutMs} ms${proc ? `\n${proc.tail()}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, 50));
  }
}
