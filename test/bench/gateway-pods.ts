// The gateway benchmark's multi-pod mode: 1, 2 and 3 gateway "pods" (each a real `smpp-operator
// run` process in cluster mode, against a real kube-apiserver + etcd from hack/control-plane.sh),
// devcore in its own process, an SMPP sink as the carrier and a partner with a receiver session on
// every pod (both in this process). Several smscNames, two client binds each, and one partner:
// every message is queued before the binds exist, and the figure is messages/s until the core has
// them all sent. Duplicates are counted three ways: devcore's second "sent" for one message, the
// carrier's submits beyond the messages, and the partner's deliver_sm beyond its messages.
// Each round runs every pod count; the ratio to the single-pod figure is per round.
//
//   export PATH=$PWD/node_modules/.bin:$PATH   # Node 24
//   node --experimental-transform-types --no-warnings --import ./test/bench/lib/register.mjs \
//     test/bench/gateway-pods.ts [--messages 6000] [--partner-share 0.25] [--groups 3] [--rounds 3] [--pods 1,2,3]
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { CustomObjectsApi, KubeConfig, CoreV1Api } from '@kubernetes/client-node';
import smpp, { type PDU, type Session } from 'smpp';
import { request } from 'undici';
import { startSmscSim } from '../../src/sim/index.js';
import { startControlPlane, stopControlPlane, type ControlPlaneInfo } from '../kube/control-plane.js';
import { intFlag, rate, table } from './lib/format.js';
import { freePort, spawnManaged, waitForPort, type ManagedProcess } from './lib/proc.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NODE_FLAGS = [
  '--experimental-transform-types',
  '--no-warnings',
  '--import',
  './test/bench/lib/register.mjs',
];
const GV = { group: 'smpp.omnimessage.io', version: 'v1alpha1' };

export interface PodsResult {
  pods: number;
  messages: number;
  elapsedMs: number;
  msgsPerSec: number;
  coreDuplicates: number;
  carrierDuplicates: number;
  partnerDuplicates: number;
}

async function kubectl(info: ControlPlaneInfo, args: string[]): Promise<void> {
  await new Promise<void>((res, rej) => {
    const c = spawn(info.kubectl, ['--kubeconfig', info.adminKubeconfig, ...args], { stdio: 'ignore' });
    c.on('exit', (code) => (code === 0 ? res() : rej(new Error(`kubectl ${args.join(' ')}: ${code}`))));
  });
}

async function devcoreStats(url: string): Promise<{ sent: number; duplicateSends: number; queued: number }> {
  const res = await request(`${url}/devcore/stats`);
  return (await res.body.json()) as { sent: number; duplicateSends: number; queued: number };
}

async function enqueue(url: string, dest: string, count: number): Promise<void> {
  const res = await request(`${url}/devcore/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      count,
      dest_smsc: dest,
      source_smsc: 'bench',
      source_msisdn: '12345',
      destination_msisdn: `4477{n}`,
      message_body: `Benchmark ${dest} {n}`,
    }),
  });
  if (res.statusCode !== 201) throw new Error(`enqueue: http ${res.statusCode} ${await res.body.text()}`);
  await res.body.text();
}

function bindPartner(port: number, onDeliver: () => void): Promise<Session> {
  return new Promise((res, rej) => {
    const s = smpp.connect({ host: '127.0.0.1', port });
    s.on('error', rej);
    s.on('connect', () =>
      s.bind_receiver({ system_id: 'bench_partner', password: 'pw' }, (pdu: PDU) => {
        if (pdu.command_status !== 0) {
          s.destroy();
          rej(new Error(`partner bind: ${pdu.command_status}`));
          return;
        }
        s.on('deliver_sm', (d: PDU) => {
          onDeliver();
          s.send(d.response());
        });
        res(s);
      }),
    );
  });
}

async function until<T>(what: string, timeoutMs: number, f: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function runPods(
  info: ControlPlaneInfo,
  o: { pods: number; messages: number; partnerShare: number; groups: number; round: number },
): Promise<PodsResult> {
  const kc = new KubeConfig();
  kc.loadFromFile(info.adminKubeconfig);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const ns = `bench-${o.round}-${o.pods}-${Date.now() % 100000}`;
  await core.createNamespace({ body: { metadata: { name: ns } } });
  await core.createNamespacedSecret({
    namespace: ns,
    body: { metadata: { name: 'creds' }, stringData: { password: 'pw' } },
  });
  const sink = await startSmscSim({ sink: true, httpPort: null });
  const procs: ManagedProcess[] = [];
  const sessions: Session[] = [];
  try {
    const corePort = await freePort();
    const coreUrl = `http://127.0.0.1:${corePort}`;
    const devcore = spawnManaged(
      'devcore',
      process.execPath,
      [...NODE_FLAGS, 'src/cli.ts', 'devcore', '--port', String(corePort), '--poll-limit', '1000'],
      ROOT,
    );
    procs.push(devcore);
    await waitForPort(corePort, 30_000, devcore);
    const partnerMessages = Math.round(o.messages * o.partnerShare);
    const perGroup = Math.floor((o.messages - partnerMessages) / o.groups);
    const clientMessages = perGroup * o.groups;
    const total = clientMessages + partnerMessages;
    for (let g = 0; g < o.groups; g++) await enqueue(coreUrl, `carrier_${g}`, perGroup);
    await enqueue(coreUrl, 'bench_partner', partnerMessages);

    const ports: number[] = [];
    for (let i = 0; i < o.pods; i++) {
      const smppPort = await freePort();
      ports.push(smppPort);
      // The pod's own settings (what the downward API and the chart give it) through env(1).
      const child = spawnManaged(
        `gw-${i}`,
        'env',
        [
          `KUBECONFIG=${info.adminKubeconfig}`,
          `POD_NAME=gw-${i}`,
          `POD_NAMESPACE=${ns}`,
          `WATCH_NAMESPACES=${ns}`,
          'LEASE_DURATION_SECONDS=15',
          `API_BASE_URL=${coreUrl}`,
          'SMPP_POLL_INTERVAL=100',
          'METRICS_HOST=127.0.0.1',
          'METRICS_PORT=0',
          'SMPP_LISTEN_HOST=127.0.0.1',
          `SMPP_LISTEN_PORT=${smppPort}`,
          'CONSOLE_PORT=0',
          'LOG_LEVEL=warn',
          process.execPath,
          ...NODE_FLAGS,
          'src/cli.ts',
          'run',
        ],
        ROOT,
      );
      procs.push(child);
    }
    for (const [i, port] of ports.entries()) await waitForPort(port, 60_000, procs[i + 1] as ManagedProcess);
    // Wait until every pod sees the others, so shards are placed before the binds arrive.
    await new Promise((r) => setTimeout(r, 3000));

    const spec = (systemId: string, smscName: string) => ({
      smscName,
      host: '127.0.0.1',
      port: sink.smppPort,
      systemId,
      passwordSecretRef: { name: 'creds', key: 'password' },
      window: 100,
      tpsLimit: 10_000,
      queueCheckInterval: 100,
    });
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppserverbinds',
      namespace: ns,
      body: {
        apiVersion: `${GV.group}/${GV.version}`,
        kind: 'SmppServerBind',
        metadata: { name: 'bench-partner', namespace: ns },
        spec: {
          smscName: 'bench_partner',
          systemId: 'bench_partner',
          passwordSecretRef: { name: 'creds', key: 'password' },
          ipAllowlist: ['127.0.0.1'],
          maxSessions: 8,
          tpsLimit: 10_000,
          queueCheckInterval: 100,
        },
      },
    });
    let partnerGot = 0;
    for (const port of ports) {
      sessions.push(await until('partner bound', 60_000, () => bindPartner(port, () => partnerGot++)));
    }
    const t0 = performance.now();
    for (let g = 0; g < o.groups; g++) {
      for (const k of [0, 1]) {
        await custom.createNamespacedCustomObject({
          ...GV,
          plural: 'smppclientbinds',
          namespace: ns,
          body: {
            apiVersion: `${GV.group}/${GV.version}`,
            kind: 'SmppClientBind',
            metadata: { name: `c${g}-${k}`, namespace: ns },
            spec: spec(`sys${g}-${k}`, `carrier_${g}`),
          },
        });
      }
    }
    const stats = await until('every message sent', 300_000, async () => {
      const s = await devcoreStats(coreUrl);
      return s.sent >= total ? s : undefined;
    });
    const elapsedMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
    const after = await devcoreStats(coreUrl);
    return {
      pods: o.pods,
      messages: total,
      elapsedMs,
      msgsPerSec: (total * 1000) / elapsedMs,
      coreDuplicates: Math.max(stats.duplicateSends, after.duplicateSends),
      carrierDuplicates: Math.max(0, sink.state.stats().submits - clientMessages),
      partnerDuplicates: Math.max(0, partnerGot - partnerMessages),
    };
  } finally {
    for (const s of sessions) s.destroy();
    for (const p of procs.reverse()) await p.stop();
    await sink.close();
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  }
}

async function main(args: string[]): Promise<void> {
  const messages = intFlag(args, 'messages', 6000);
  const groups = intFlag(args, 'groups', 3);
  const rounds = intFlag(args, 'rounds', 3);
  const shareArg = args[args.indexOf('--partner-share') + 1];
  const partnerShare = args.includes('--partner-share') && shareArg !== undefined ? Number(shareArg) : 0.25;
  const podsArg = args.includes('--pods') ? (args[args.indexOf('--pods') + 1] ?? '1,2,3') : '1,2,3';
  const podCounts = podsArg.split(',').map(Number);
  if (!podCounts.includes(1)) podCounts.unshift(1);
  const info = await startControlPlane();
  const results: PodsResult[][] = [];
  try {
    await kubectl(info, ['apply', '--server-side', '-f', resolve(ROOT, 'crds')]);
    await kubectl(info, [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      '-f',
      resolve(ROOT, 'crds'),
    ]);
    for (let r = 0; r < rounds; r++) {
      const row: PodsResult[] = [];
      // Alternate the order so no pod count always runs on a warmer machine.
      const order = r % 2 === 0 ? podCounts : [...podCounts].reverse();
      for (const pods of order) {
        const res = await runPods(info, { pods, messages, partnerShare, groups, round: r });
        row.push(res);
        console.log(
          `round ${r + 1}, ${pods} pod(s): ${rate(res.msgsPerSec)} (${res.messages} messages in ${(res.elapsedMs / 1000).toFixed(1)} s); ` +
            `duplicates: core ${res.coreDuplicates}, carrier ${res.carrierDuplicates}, partner ${res.partnerDuplicates}`,
        );
      }
      results.push(row);
    }
  } finally {
    await stopControlPlane(info);
  }
  const median = (xs: number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor((s.length - 1) / 2)] as number;
  };
  const rows: (string | number)[][] = [
    ['pods', 'messages/s (median)', 'ratio to 1 pod (median of rounds)', 'range', 'duplicates'],
  ];
  for (const pods of [...new Set(podCounts)].sort()) {
    const mine = results.map((row) => row.find((x) => x.pods === pods) as PodsResult);
    const ratios = results.map((row) => {
      const one = row.find((x) => x.pods === 1) as PodsResult;
      return (row.find((x) => x.pods === pods) as PodsResult).msgsPerSec / one.msgsPerSec;
    });
    const dups = mine.reduce((n, x) => n + x.coreDuplicates + x.carrierDuplicates + x.partnerDuplicates, 0);
    rows.push([
      String(pods),
      rate(median(mine.map((x) => x.msgsPerSec))),
      `${median(ratios).toFixed(2)}x`,
      `${Math.min(...ratios).toFixed(2)}x–${Math.max(...ratios).toFixed(2)}x`,
      String(dups),
    ]);
  }
  console.log('\n' + table(rows));
  console.log(
    `\n${messages} messages per run: ${groups} smscNames with two client binds each, ${Math.round(partnerShare * 100)}% to one partner with a receiver session on every pod; ratios against the single-pod figure of the same round`,
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
