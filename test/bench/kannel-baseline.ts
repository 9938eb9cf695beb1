// Kannel baseline: Debian's kannel (bearerbox + smsbox) fed through its sendsms HTTP interface
// into an SMPP sink, the figure our gateway's end-to-end benchmark is compared with in the same
// run. Loopback only, bounded in messages and time, and it stops everything it started.
//
//   bash hack/kannel-bench.sh [--messages 20000] [--concurrency 64] [--window 100]
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { request } from 'undici';
import { startSmscSim, type SmscSim } from '../../src/sim/index.js';
import { intFlag, msPerMsg, rate, table } from './lib/format.js';
import { runHttpLoad } from './lib/http-load.js';
import { measureSinkCapacity } from './lib/sink-capacity.js';
import {
  cpuSeconds,
  freePort,
  selfCpuSeconds,
  spawnManaged,
  waitForPort,
  type ManagedProcess,
} from './lib/proc.js';

export interface KannelBaselineOptions {
  /** Messages measured (after the warm-up). */
  messages: number;
  /** SMPP sink Kannel binds to; when omitted, an in-process smsc-sim in sink mode is started. */
  sinkPort?: number;
  sinkHost?: string;
  /** How completion is seen: the in-process sink's counters, else its HTTP /stats, else Kannel's own "sent" counter. */
  sink?: SmscSim;
  sinkHttpPort?: number;
  /** Concurrent sendsms HTTP requests (keep-alive connections). Default 64. */
  concurrency?: number;
  /** Kannel's SMPP window, max-pending-submits. Default 100. */
  window?: number;
  /** Messages sent and drained before measuring, so binds and caches are warm. Default 500. */
  warmup?: number;
  /** Bound for the whole run. Default 180 s. */
  timeoutMs?: number;
  log?: (line: string) => void;
}

export interface KannelBaselineResult {
  messages: number;
  elapsedMs: number;
  msgsPerSec: number;
  /** CPU of bearerbox + smsbox per message, in milliseconds. */
  cpuPerMsgMs: number;
  cpuSeconds: { bearerbox: number; smsbox: number };
  /** CPU of this process (load generator, and the sink when in-process) during the measurement. */
  harnessCpuSeconds: number;
  httpFailed: number;
  window: number;
  concurrency: number;
  version: string;
}

const BEARERBOX = '/usr/sbin/bearerbox';
const SMSBOX = '/usr/sbin/smsbox';

function kannelVersion(): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', 'kannel'], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

interface Ports {
  admin: number;
  smsbox: number;
  sendsms: number;
}

function kannelConf(dir: string, p: Ports, sinkHost: string, sinkPort: number, window: number): string {
  // Log levels 4 (panic only) and no access logs: the baseline measures message handling, not log I/O.
  return `group = core
admin-port = ${p.admin}
admin-interface = 127.0.0.1
admin-password = bench
admin-allow-ip = "127.0.0.1"
smsbox-port = ${p.smsbox}
smsbox-interface = 127.0.0.1
box-allow-ip = "127.0.0.1"
log-file = "${join(dir, 'bearerbox.log')}"
log-level = 4
dlr-storage = internal

group = smsc
smsc = smpp
smsc-id = sink
host = ${sinkHost}
port = ${sinkPort}
transceiver-mode = true
smsc-username = kannel
smsc-password = kannel
system-type = ""
max-pending-submits = ${window}
enquire-link-interval = 30
reconnect-delay = 1
log-level = 4

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = ${p.smsbox}
sendsms-port = ${p.sendsms}
sendsms-interface = 127.0.0.1
log-file = "${join(dir, 'smsbox.log')}"
log-level = 4

group = sendsms-user
username = bench
password = bench
user-allow-ip = "127.0.0.1"
max-messages = 1
concatenation = false

group = sms-service
keyword = default
text = "ok"
catch-all = true
`;
}

async function kannelStatus(adminPort: number): Promise<string> {
  const res = await request(`http://127.0.0.1:${adminPort}/status.txt?password=bench`);
  return res.body.text();
}

/** Kannel's own "sent" counter from the admin status page. */
function sentFromStatus(status: string): number {
  const m = /SMS:\s+received\s+\d+\s+\(\d+ queued\),\s+sent\s+(\d+)/.exec(status);
  return m ? Number(m[1]) : 0;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export async function runKannelBaseline(opts: KannelBaselineOptions): Promise<KannelBaselineResult> {
  const log = opts.log ?? (() => undefined);
  const concurrency = opts.concurrency ?? 64;
  const window = opts.window ?? 100;
  const warmup = opts.warmup ?? 500;
  const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
  const remaining = (): number => Math.max(1, deadline - Date.now());

  let ownSink: Awaited<ReturnType<typeof startSmscSim>> | undefined;
  let sink = opts.sink;
  let sinkPort = opts.sinkPort;
  if (sinkPort === undefined) {
    ownSink = await startSmscSim({ sink: true, httpPort: null });
    sink = ownSink.state;
    sinkPort = ownSink.smppPort;
  }
  const sinkHost = opts.sinkHost ?? '127.0.0.1';

  const dir = await mkdtemp(join(tmpdir(), 'kannel-bench-'));
  const procs: ManagedProcess[] = [];
  try {
    const ports: Ports = { admin: await freePort(), smsbox: await freePort(), sendsms: await freePort() };
    const conf = join(dir, 'kannel.conf');
    await writeFile(conf, kannelConf(dir, ports, sinkHost, sinkPort, window));

    const bearerbox = spawnManaged('bearerbox', BEARERBOX, ['-v', '4', conf], dir);
    procs.push(bearerbox);
    await waitForPort(ports.smsbox, Math.min(remaining(), 20_000), bearerbox);
    await waitForPort(ports.admin, Math.min(remaining(), 20_000), bearerbox);
    const smsbox = spawnManaged('smsbox', SMSBOX, ['-v', '4', conf], dir);
    procs.push(smsbox);
    await waitForPort(ports.sendsms, Math.min(remaining(), 20_000), smsbox);

    // Wait for the SMPP bind: Kannel reports the SMSC "online" once bound.
    for (;;) {
      const status = await kannelStatus(ports.admin);
      if (/\bonline\b/.test(status)) break;
      if (Date.now() > deadline)
        throw new Error(`Kannel did not bind to the sink:\n${status}\n${bearerbox.tail()}`);
      await sleep(100);
    }

    const counted = async (): Promise<number> => {
      if (sink) return sink.stats().submits;
      if (opts.sinkHttpPort !== undefined) {
        const res = await request(`http://127.0.0.1:${opts.sinkHttpPort}/stats`);
        return ((await res.body.json()) as { submits: number }).submits;
      }
      return sentFromStatus(await kannelStatus(ports.admin));
    };
    const waitCounted = async (target: number): Promise<void> => {
      if (sink) return sink.waitForSubmits(target, remaining());
      while ((await counted()) < target) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${target} messages at the sink`);
        await sleep(50);
      }
    };

    const origin = `http://127.0.0.1:${ports.sendsms}`;
    const send = (total: number, offset: number) =>
      runHttpLoad({
        origin,
        total,
        concurrency,
        path: (i) =>
          `/cgi-bin/sendsms?username=bench&password=bench&from=12345&to=4477${String(offset + i).padStart(8, '0')}` +
          `&text=Benchmark+message+${offset + i}`,
        accept: (s) => s === 202 || s === 200,
      });

    const base = await counted();
    if (warmup > 0) {
      const w = await send(warmup, 0);
      if (w.failed > 0) throw new Error(`Kannel refused warm-up messages: ${w.firstError ?? ''}`);
      await waitCounted(base + warmup);
    }
    const start = await counted();
    const cpu0 = { bearerbox: cpuSeconds(bearerbox.pid), smsbox: cpuSeconds(smsbox.pid) };
    const self0 = selfCpuSeconds();
    const t0 = performance.now();
    const load = await send(opts.messages, warmup);
    if (load.failed > 0)
      log(`kannel: ${load.failed} sendsms requests failed, first: ${load.firstError ?? ''}`);
    await waitCounted(start + load.ok);
    const elapsedMs = performance.now() - t0;
    const cpu = {
      bearerbox: cpuSeconds(bearerbox.pid) - cpu0.bearerbox,
      smsbox: cpuSeconds(smsbox.pid) - cpu0.smsbox,
    };
    const result: KannelBaselineResult = {
      messages: load.ok,
      elapsedMs,
      msgsPerSec: (load.ok * 1000) / elapsedMs,
      cpuPerMsgMs: ((cpu.bearerbox + cpu.smsbox) * 1000) / Math.max(1, load.ok),
      cpuSeconds: cpu,
      harnessCpuSeconds: selfCpuSeconds() - self0,
      httpFailed: load.failed,
      window,
      concurrency,
      version: kannelVersion(),
    };
    log(`kannel ${result.version}: ${rate(result.msgsPerSec)}, ${msPerMsg(result.cpuPerMsgMs)}`);
    return result;
  } finally {
    // smsbox first, so bearerbox does not spend the grace period waiting for it.
    for (const p of procs.reverse()) await p.stop();
    await ownSink?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(args: string[]): Promise<void> {
  const messages = intFlag(args, 'messages', 20_000);
  const concurrency = intFlag(args, 'concurrency', 64);
  const window = intFlag(args, 'window', 100);
  const sim = await startSmscSim({ sink: true, httpPort: null });
  try {
    const r = await runKannelBaseline({
      messages,
      concurrency,
      window,
      sinkPort: sim.smppPort,
      sink: sim.state,
      log: (l) => console.error(l),
    });
    console.log(
      table([
        [
          'engine',
          'messages',
          'seconds',
          'rate',
          'CPU/msg',
          'bearerbox CPU s',
          'smsbox CPU s',
          'harness CPU s',
          'HTTP failed',
        ],
        [
          `kannel ${r.version}`,
          r.messages,
          (r.elapsedMs / 1000).toFixed(2),
          rate(r.msgsPerSec),
          msPerMsg(r.cpuPerMsgMs),
          r.cpuSeconds.bearerbox.toFixed(2),
          r.cpuSeconds.smsbox.toFixed(2),
          r.harnessCpuSeconds.toFixed(2),
          r.httpFailed,
        ],
      ]),
    );
    console.log(
      `(sendsms HTTP concurrency ${r.concurrency}, max-pending-submits ${r.window}, sink: smsc-sim --sink)`,
    );
    const cap = await measureSinkCapacity();
    console.log(
      `sink alone (raw SMPP blaster, window 1000): ${rate(cap.msgsPerSec)}, ${cap.sinkCpuUsPerMsg.toFixed(1)} µs sink CPU/msg`,
    );
  } finally {
    await sim.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exit(1);
    },
  );
}
