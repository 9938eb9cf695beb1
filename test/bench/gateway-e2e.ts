// End-to-end MT benchmark: messages queued in devcore (its own process) go through the gateway
// (its own process, one client bind, no TPS limit) into an SMPP sink that only acks (this
// process), each marked sent in the core (PATCH). Prints messages/s, CPU per message, the core
// API's share, and Kannel's figure measured in the same run (bearerbox + smsbox fed through
// sendsms into the same kind of sink), with the ratio. Loopback only; bounded in count and time.
// Multi-pod mode (2 and 3 gateway processes in cluster mode, several binds and a partner,
// duplicates counted): test/bench/gateway-pods.ts.
//
//   export PATH=$PWD/node_modules/.bin:$PATH   # Node 24
//   node --experimental-transform-types --no-warnings --import ./test/bench/lib/register.mjs \
//     test/bench/gateway-e2e.ts [--messages 20000] [--warmup 10000] [--window 100] [--poll-limit 1000]
//     [--rounds 1] [--no-kannel]
import { existsSync } from 'node:fs';
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import { startSmscSim } from '../../src/sim/index.js';
import type { KannelBaselineResult } from './kannel-baseline.js';
import { intFlag, msPerMsg, rate, ratio, table } from './lib/format.js';
import { cpuSeconds, freePort, spawnManaged, waitForPort, type ManagedProcess } from './lib/proc.js';

const NODE_FLAGS = [
  '--experimental-transform-types',
  '--no-warnings',
  '--import',
  './test/bench/lib/register.mjs',
];

export interface GatewayE2eResult {
  messages: number;
  elapsedMs: number;
  msgsPerSec: number;
  /** Until every message was also marked sent in the core. */
  elapsedToCoreMs: number;
  gatewayCpuPerMsgMs: number;
  devcoreCpuPerMsgMs: number;
  /** devcore's CPU / (gateway + devcore + sink) CPU while measuring. */
  coreCpuShare: number;
  /** CPU of gateway, devcore and sink per wall second: how many of the cores the pipeline kept busy. */
  coresBusy: number;
  sinkCpuPerMsgMs: number;
  /** Summed duration of core requests / wall time (concurrent requests overlap, so it can exceed 1). */
  coreBusyPerWallSecond: number;
  coreRequestsPerMsg: number;
  meanCoreRequestMs: number;
  duplicates: number;
  /** Messages the core's polls returned per message sent (1 = no message returned twice). */
  polledPerMsg: number;
  /** Share of the measured time the gateway's main thread was busy (event-loop utilisation). */
  gatewayLoopBusy: number;
  /** Receipt store write round trips (pipelines) per message while measuring (0 for memory). */
  storeRoundTripsPerMsg: number;
  /** Receipt store entries counted lost over the whole run. */
  storeLost: number;
}

interface ChildReport {
  event: string;
  cpuSeconds: number;
  coreSeconds: number;
  coreRequests: number;
  accounting: { taken: number; sent: number; returned: number; failed: number; released: number };
  elu: EventLoopUtilization;
  storeRoundTrips: number;
  storeLost: number;
}

function lines(proc: ManagedProcess): { next(event: string, timeoutMs: number): Promise<ChildReport> } {
  const queue: ChildReport[] = [];
  const waiters: ((r: ChildReport) => void)[] = [];
  let buf = '';
  proc.child.stdout?.on('data', (chunk: Buffer) => {
    buf += chunk.toString('utf8');
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{"event"')) continue;
      const r = JSON.parse(line) as ChildReport;
      const w = waiters.shift();
      if (w) w(r);
      else queue.push(r);
    }
  });
  return {
    next(event, timeoutMs) {
      const q = queue.shift();
      if (q) return Promise.resolve(q);
      return new Promise((resolve, reject) => {
        const t = setTimeout(
          () => reject(new Error(`gateway child: no "${event}" within ${timeoutMs} ms\n${proc.tail()}`)),
          timeoutMs,
        );
        waiters.push((r) => {
          clearTimeout(t);
          resolve(r);
        });
      });
    },
  };
}

interface DevcoreStats {
  sent: number;
  duplicateSends: number;
  queued: number;
  /** Messages a poll returned again while already handed out (the core has no lock). */
  refetches: number;
}

async function devcoreStats(url: string): Promise<DevcoreStats> {
  const res = await request(`${url}/devcore/stats`);
  return (await res.body.json()) as DevcoreStats;
}

async function enqueue(url: string, count: number, offset: number): Promise<void> {
  const res = await request(`${url}/devcore/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      count,
      dest_smsc: 'bench',
      source_smsc: 'bench',
      source_msisdn: '12345',
      destination_msisdn: `4477{n}`,
      message_body: `Benchmark message ${offset}-{n}`,
    }),
  });
  if (res.statusCode !== 201)
    throw new Error(`enqueue failed: http ${res.statusCode} ${await res.body.text()}`);
  await res.body.text();
}

export async function runGatewayE2e(opts: {
  messages: number;
  window: number;
  pollLimit: number;
  warmup?: number;
  timeoutMs?: number;
  /** The gateway's receipt store on this Redis (default: memory). */
  redisUrl?: string;
  redisPrefix?: string;
}): Promise<GatewayE2eResult> {
  const warmup = opts.warmup ?? 1000;
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  const remaining = (): number => Math.max(1, deadline - Date.now());
  const sink = await startSmscSim({ sink: true, httpPort: null });
  const procs: ManagedProcess[] = [];
  try {
    const corePort = await freePort();
    const coreUrl = `http://127.0.0.1:${corePort}`;
    // BENCH_PROFILE_DIR=DIR writes CPU profiles of devcore and the gateway over the measured window.
    const profile = process.env.BENCH_PROFILE_DIR ? ['--import', './test/bench/lib/window-profile.ts'] : [];
    const devcore = spawnManaged('devcore', process.execPath, [
      ...NODE_FLAGS,
      ...profile,
      'src/cli.ts',
      'devcore',
      '--port',
      String(corePort),
      '--poll-limit',
      String(opts.pollLimit),
    ]);
    procs.push(devcore);
    await waitForPort(corePort, Math.min(remaining(), 30_000), devcore);
    // The whole backlog is in the core before the gateway starts: the core holds the queue.
    await enqueue(coreUrl, warmup + opts.messages, 0);

    const gw = spawnManaged('gateway', process.execPath, [
      ...NODE_FLAGS,
      ...profile,
      'test/bench/gateway-e2e-child.ts',
      '--core',
      coreUrl,
      '--sink-port',
      String(sink.smppPort),
      '--window',
      String(opts.window),
      ...(opts.redisUrl !== undefined
        ? ['--redis', opts.redisUrl, '--redis-prefix', opts.redisPrefix ?? 'bench:']
        : []),
    ]);
    procs.push(gw);
    const out = lines(gw);
    await out.next('bound', Math.min(remaining(), 30_000));
    await sink.state.waitForSubmits(warmup, remaining());
    const cpu0 = { gw: cpuSeconds(gw.pid), core: cpuSeconds(devcore.pid), self: process.cpuUsage() };
    gw.child.kill('SIGUSR2');
    if (profile.length > 0) devcore.child.kill('SIGUSR2');
    const r0 = await out.next('report', 10_000);
    const t0 = performance.now();
    await sink.state.waitForSubmits(warmup + opts.messages, remaining());
    const elapsedMs = performance.now() - t0;
    const cpu1 = { gw: cpuSeconds(gw.pid), core: cpuSeconds(devcore.pid), self: process.cpuUsage(cpu0.self) };
    gw.child.kill('SIGUSR2');
    if (profile.length > 0) devcore.child.kill('SIGUSR2');
    const r1 = await out.next('report', 10_000);
    let stats = await devcoreStats(coreUrl);
    while (stats.sent < warmup + opts.messages && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      stats = await devcoreStats(coreUrl);
    }
    const elapsedToCoreMs = performance.now() - t0;
    const n = opts.messages;
    const gwCpu = cpu1.gw - cpu0.gw;
    const coreCpu = cpu1.core - cpu0.core;
    const sinkCpu = (cpu1.self.user + cpu1.self.system) / 1e6;
    const coreSeconds = r1.coreSeconds - r0.coreSeconds;
    const coreRequests = r1.coreRequests - r0.coreRequests;
    return {
      messages: n,
      elapsedMs,
      msgsPerSec: (n * 1000) / elapsedMs,
      elapsedToCoreMs,
      gatewayCpuPerMsgMs: (gwCpu * 1000) / n,
      devcoreCpuPerMsgMs: (coreCpu * 1000) / n,
      coreCpuShare: coreCpu / Math.max(1e-9, gwCpu + coreCpu + sinkCpu),
      coresBusy: (gwCpu + coreCpu + sinkCpu) / (elapsedMs / 1000),
      sinkCpuPerMsgMs: (sinkCpu * 1000) / n,
      coreBusyPerWallSecond: coreSeconds / (elapsedMs / 1000),
      coreRequestsPerMsg: coreRequests / n,
      meanCoreRequestMs: (coreSeconds * 1000) / Math.max(1, coreRequests),
      duplicates: stats.duplicateSends,
      polledPerMsg: (stats.refetches + stats.sent) / Math.max(1, stats.sent),
      gatewayLoopBusy: performance.eventLoopUtilization(r1.elu, r0.elu).utilization,
      storeRoundTripsPerMsg: (r1.storeRoundTrips - r0.storeRoundTrips) / n,
      storeLost: r1.storeLost,
    };
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await sink.close();
  }
}

async function main(args: string[]): Promise<void> {
  const messages = intFlag(args, 'messages', 20_000);
  const window = intFlag(args, 'window', 100);
  const pollLimit = intFlag(args, 'poll-limit', 1000);
  const rounds = intFlag(args, 'rounds', 1);
  // Both sides run this many messages before measuring. Each round starts fresh processes, and a
  // JavaScript process is not at its steady speed until V8 has optimised its hot paths: with 1,000
  // the gateway and devcore still spent a fifth more CPU per message over a 20,000-message round.
  const warmup = intFlag(args, 'warmup', 10_000);
  const kannelAvailable =
    !args.includes('--no-kannel') &&
    existsSync('/usr/sbin/bearerbox') &&
    existsSync('test/bench/kannel-baseline.ts');
  const ours: GatewayE2eResult[] = [];
  const kannel: KannelBaselineResult[] = [];
  for (let i = 0; i < rounds; i++) {
    // Alternate the order so neither side always runs on a warmer machine.
    const runOurs = async (): Promise<void> => {
      const r = await runGatewayE2e({ messages, window, pollLimit, warmup });
      ours.push(r);
      console.log(
        `round ${i + 1}: gateway ${rate(r.msgsPerSec)}, ${msPerMsg(r.gatewayCpuPerMsgMs)} CPU ` +
          `(devcore ${msPerMsg(r.devcoreCpuPerMsgMs)}, sink ${msPerMsg(r.sinkCpuPerMsgMs)}; ` +
          `${r.coresBusy.toFixed(2)} cores busy; gateway main thread ${(r.gatewayLoopBusy * 100).toFixed(0)}% busy)`,
      );
    };
    const runKannel = async (): Promise<void> => {
      if (!kannelAvailable) return;
      const { runKannelBaseline } = await import('./kannel-baseline.js');
      const k = await runKannelBaseline({ messages, window, warmup });
      kannel.push(k);
      const busy = ((k.cpuPerMsgMs / 1000) * k.messages + k.harnessCpuSeconds) / (k.elapsedMs / 1000);
      console.log(
        `round ${i + 1}: kannel ${rate(k.msgsPerSec)}, ${msPerMsg(k.cpuPerMsgMs)} CPU ` +
          `(load generator and sink ${msPerMsg((k.harnessCpuSeconds * 1000) / k.messages)}; ${busy.toFixed(2)} cores busy)`,
      );
    };
    if (i % 2 === 0) {
      await runOurs();
      await runKannel();
    } else {
      await runKannel();
      await runOurs();
    }
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)] as number);
  };
  const best = ours[Math.floor((ours.length - 1) / 2)] as GatewayE2eResult;
  const oursRate = median(ours.map((r) => r.msgsPerSec));
  const rows: (string | number)[][] = [
    ['', 'messages/s', 'CPU per message', 'notes'],
    [
      'smpp-operator gateway',
      rate(oursRate),
      msPerMsg(median(ours.map((r) => r.gatewayCpuPerMsgMs))),
      `window ${window}, no TPS limit, devcore poll limit ${pollLimit}`,
    ],
  ];
  if (kannel.length > 0) {
    const kRate = median(kannel.map((k) => k.msgsPerSec));
    rows.push([
      `Kannel ${kannel[0]?.version ?? ''}`,
      rate(kRate),
      msPerMsg(median(kannel.map((k) => k.cpuPerMsgMs))),
      'bearerbox + smsbox, fed through sendsms',
    ]);
    // Each round's two sides ran back to back on the same machine: their ratio is the figure; the
    // median of those ratios and their range over the rounds is what test/bench/README.md records.
    const perRound = ours.map((o, i) => o.msgsPerSec / (kannel[i]?.msgsPerSec ?? NaN));
    const cpuPerRound = ours.map((o, i) => o.gatewayCpuPerMsgMs / (kannel[i]?.cpuPerMsgMs ?? NaN));
    const range = (xs: number[]): string => `${Math.min(...xs).toFixed(2)}x–${Math.max(...xs).toFixed(2)}x`;
    rows.push([
      'ratio (ours / Kannel)',
      `${median(perRound).toFixed(2)}x`,
      `${median(cpuPerRound).toFixed(2)}x`,
      `median of per-round ratios (rate ${range(perRound)}, CPU/msg ${range(cpuPerRound)}); goal >= 1.2x`,
    ]);
    rows.push(['ratio of the median rates', ratio(oursRate, kRate), '', '']);
  } else {
    rows.push([
      'Kannel',
      'not measured',
      '',
      args.includes('--no-kannel')
        ? 'skipped (--no-kannel)'
        : existsSync('/usr/sbin/bearerbox')
          ? 'test/bench/kannel-baseline.ts missing'
          : 'kannel not installed (bash hack/deps.sh)',
    ]);
  }
  console.log('\n' + table(rows));
  console.log(
    `\ncore API: ${best.coreRequestsPerMsg.toFixed(2)} requests per message, mean ${best.meanCoreRequestMs.toFixed(2)} ms, ` +
      `${best.coreBusyPerWallSecond.toFixed(2)} request-seconds per second (concurrent), devcore ${(best.coreCpuShare * 100).toFixed(0)}% ` +
      `of the pipeline's CPU (${msPerMsg(best.devcoreCpuPerMsgMs)} per message)`,
  );
  console.log(
    `all ${messages} marked sent in the core after ${(best.elapsedToCoreMs / 1000).toFixed(2)} s; duplicate sends: ${best.duplicates}; ` +
      `polls returned each message ${best.polledPerMsg.toFixed(1)} times on average (the core has no lock)`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.stack : String(err));
      process.exit(1);
    },
  );
}
