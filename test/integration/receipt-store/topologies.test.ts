/**
 * The Redis receipt store through Sentinel and Cluster, as REDIS_URL asks: real redis-server
 * processes (a Sentinel is redis-server --sentinel; a Cluster is three masters joined by
 * redis-cli --cluster create), temporary directories, free loopback ports.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';
import { connectRedis, RedisReceiptStore } from '../../../src/receipt-store/index.js';
import { freePort, startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { poll } from '../../helpers/wait.js';

const run = promisify(execFile);
const log = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  // Redis nodes still starting or failing over make the probe throw: that is "not yet".
  await poll(cond, { timeoutMs: ms, intervalMs: 100, ignoreErrors: true });
}

function store(url: string): RedisReceiptStore {
  const s = new RedisReceiptStore({
    client: connectRedis({ url, commandTimeoutMs: 2000 }),
    metrics: createMetrics(),
    log,
    prefix: 'topo:',
    recentMax: 0, // answers come from Redis, not from this process
    retryMinMs: 50,
    retryMaxMs: 300,
  });
  cleanups.push(() => s.close(500));
  return s;
}

async function exercise(s: RedisReceiptStore): Promise<void> {
  // Several scopes: in a Cluster they hash to different slots and nodes.
  const scopes = ['a/voda', 'b/orange', 'c/tmobile', 'd/o2', 'e/three', 'f/ee'];
  await until(async () => {
    s.record('probe/x', '0', ['probe']);
    return (await s.flushed(2000)) && (await s.lookup('probe/x', 'probe')) !== undefined;
  });
  for (const [i, scope] of scopes.entries())
    for (let j = 0; j < 50; j++) s.record(scope, `${i}-${j}`, [`id${i}x${j}`]);
  s.record('a/voda', 'long', ['p1', 'p2']);
  expect(await s.flushed(10_000)).toBe(true);
  for (const [i, scope] of scopes.entries())
    for (const j of [0, 49]) expect((await s.lookup(scope, `id${i}x${j}`))?.coreId).toBe(`${i}-${j}`);
  expect(await s.partOutcome('a/voda', 'long', 'p1', 'delivered')).toEqual({ verdict: 'wait' });
  expect(await s.partOutcome('a/voda', 'long', 'p2', 'delivered')).toEqual({
    verdict: 'report',
    carrierIds: ['p1', 'p2'],
  });
  const q = s.partnerReceipts;
  const labels = {
    bind_name: 'p',
    mode: 'server',
    host: '',
    port: '',
    bind_type: '',
    system_id: 'p',
    namespace: 'a',
  };
  for (const bindKey of ['a/p', 'b/q', 'c/r']) {
    await q.add(
      {
        bindKey,
        labels,
        coreId: '1',
        registeredDelivery: 1,
        source: { addr: '1', ton: 1, npi: 1 },
        destination: { addr: '2', ton: 1, npi: 1 },
        text: 't',
        submittedAt: new Date(),
        due: 0,
        checks: 0,
      },
      10,
    );
    expect((await q.claim(bindKey, Date.now(), 5, 60_000)).map((e) => e.coreId)).toEqual(['1']);
    expect(await q.remove(bindKey, '1')).toBe(true);
  }
}

function spawnServer(args: string[]): ChildProcess {
  const p = spawn('redis-server', args, { stdio: 'ignore' });
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        if (p.exitCode !== null) return r();
        p.once('exit', () => r());
        p.kill('SIGKILL');
      }),
  );
  return p;
}

describe('Redis receipt store topologies', () => {
  it('through Sentinel: finds the master by the name the URL gives', async () => {
    const master: TestRedis = await startRedis();
    cleanups.push(() => master.cleanup());
    const dir = mkdtempSync(join(tmpdir(), 'smpp-sentinel-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
        'sentinel down-after-milliseconds mymaster 1000',
        'sentinel failover-timeout mymaster 5000',
        '',
      ].join('\n'),
    );
    spawnServer([conf, '--sentinel']);
    const s = store(`redis+sentinel://127.0.0.1:${port}/mymaster`);
    await exercise(s);
    // The data went to the master Sentinel named.
    const admin = master.admin();
    expect(await admin.exists('topo:c:{a/voda}:id0x0')).toBe(1);
  }, 90_000);

  it('through Cluster: every scope on its own slot, pipelines and scripts per slot', async () => {
    const ports: number[] = [];
    while (ports.length < 3) {
      const p = await freePort();
      if (p < 50_000 && !ports.includes(p)) ports.push(p); // the cluster bus listens on port + 10000
    }
    for (const p of ports) {
      const dir = mkdtempSync(join(tmpdir(), 'smpp-cluster-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      spawnServer([
        '--port',
        String(p),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--save',
        '',
        '--appendonly',
        'no',
      ]);
    }
    await until(async () => {
      for (const p of ports) await run('redis-cli', ['-p', String(p), 'ping']);
      return true;
    });
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await until(async () =>
      (await run('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'])).stdout.includes(
        'cluster_state:ok',
      ),
    );
    const s = store(`redis+cluster://127.0.0.1:${ports[0]}`);
    await exercise(s);
    // The scopes really are spread: more than one node holds carrier ids.
    let holding = 0;
    for (const p of ports) {
      const n = Number((await run('redis-cli', ['-p', String(p), 'dbsize'])).stdout.trim());
      if (n > 0) holding++;
    }
    expect(holding).toBeGreaterThan(1);
  }, 90_000);
});
