/**
 * A real redis-server (Debian's package, installed by hack/deps.sh) for a test: its own
 * temporary directory, a free loopback port, AOF on so a stop/start keeps what was written.
 * No system service is used or needed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './net.js';

export { freePort } from './net.js';

export interface TestRedis {
  port: number;
  url: string;
  dir: string;
  /** The running server's process id (benchmarks read its CPU time). */
  pid(): number | undefined;
  /** A plain client for assertions (not the store's). */
  admin(): Redis;
  /** SIGTERM and wait for exit (Redis writes its AOF out first). */
  stop(): Promise<void>;
  /** SIGKILL: nothing more is written. */
  kill(): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  cleanup(): Promise<void>;
}

function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => p.once('exit', () => r()));
}

export async function startRedis(opts: { password?: string; extraArgs?: string[] } = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-redis-'));
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const admins: Redis[] = [];
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'yes',
    '--appendfsync',
    'everysec',
    '--daemonize',
    'no',
    '--logfile',
    join(dir, 'redis.log'),
    ...(opts.password !== undefined ? ['--requirepass', opts.password] : []),
    ...(opts.extraArgs ?? []),
  ];
  const start = async (): Promise<void> => {
    const p = spawn('redis-server', args, { stdio: 'ignore' });
    proc = p;
    let failed: Error | undefined;
    p.once('error', (err) => (failed = err));
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (failed) throw new Error(`redis-server did not start: ${failed.message} (is hack/deps.sh run?)`);
      if (p.exitCode !== null)
        throw new Error(`redis-server exited with ${p.exitCode}; see ${dir}/redis.log`);
      const c = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
        ...(opts.password !== undefined ? { password: opts.password } : {}),
      });
      c.on('error', () => undefined);
      try {
        await c.connect();
        if ((await c.ping()) === 'PONG') {
          c.disconnect();
          return;
        }
      } catch {
        // not up yet (or still loading its AOF)
      }
      c.disconnect();
      if (Date.now() > deadline) throw new Error(`redis-server not answering on ${port}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const signal = async (sig: NodeJS.Signals): Promise<void> => {
    const p = proc;
    if (!p) return;
    proc = undefined;
    p.kill(sig);
    await exited(p);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pid: () => proc?.pid,
    admin() {
      const c = new Redis({
        port,
        host: '127.0.0.1',
        ...(opts.password !== undefined ? { password: opts.password } : {}),
      });
      c.on('error', () => undefined);
      admins.push(c);
      return c;
    },
    stop: () => signal('SIGTERM'),
    kill: () => signal('SIGKILL'),
    start,
    async cleanup() {
      for (const c of admins) c.disconnect();
      await signal('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
