// The API server's status write rate on this machine: a bare loop of status merge patches of
// SmppClientBinds (test/bench/lib/status-loop.ts) at several numbers in flight, with watchers of
// the binds open as the pods and the benchmark keep them. The baseline the operator's failover
// status figure compares to (operator-bench.ts measures the same loop in its own run).
//
//   node --experimental-transform-types --no-warnings --import ./test/bench/lib/register.mjs \
//     test/bench/status-writes.ts [--binds 500] [--rounds 3] [--watchers 2] [--concurrency 8,32,64,128]
//     [--verb patch|put|put-ignore|patch,put|put,put-ignore] [--no-cel]
// With two verbs, their rounds alternate and the line under the table gives the median of the
// per-round rate ratios.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { Informer } from '../../src/kube/informer.js';
import { createLogger } from '../../src/log.js';
import { startControlPlane, stopControlPlane } from '../kube/control-plane.js';
import { intFlag, median, table } from './lib/format.js';
import { kubectl } from './lib/operator-procs.js';
import { cpuSeconds } from './lib/proc.js';
import { statusPatchLoop, statusPutLoop } from './lib/status-loop.js';

const args = process.argv.slice(2);
const BINDS = intFlag(args, 'binds', 500);
const ROUNDS = intFlag(args, 'rounds', 3);
const WATCHERS = intFlag(args, 'watchers', 2);
const cArg = args[args.indexOf('--concurrency') + 1];
const CONC = (args.includes('--concurrency') && cArg ? cArg : '8,32,64,128').split(',').map(Number);
const vArg = args[args.indexOf('--verb') + 1];
const VERBS = (args.includes('--verb') && vArg ? vArg : 'patch').split(',');
const log = createLogger({ level: 'silent' });

const loadAvg = async (): Promise<string> =>
  (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

async function main(): Promise<void> {
  const info = await startControlPlane();
  const kc = new KubeConfig();
  kc.loadFromFile(info.adminKubeconfig);
  const informers: Informer<KubernetesObject>[] = [];
  try {
    let crds = resolve(import.meta.dirname, '../../crds');
    if (args.includes('--no-cel')) {
      // The same CRDs without their CEL rules: how much of a status write's cost they are.
      const strip = (v: unknown): unknown => {
        if (Array.isArray(v)) return v.map(strip);
        if (v && typeof v === 'object')
          return Object.fromEntries(
            Object.entries(v)
              .filter(([k]) => k !== 'x-kubernetes-validations')
              .map(([k, x]) => [k, strip(x)]),
          );
        return v;
      };
      const out = await mkdtemp(join(tmpdir(), 'smpp-crds-'));
      for (const f of ['smppclientbinds.yaml', 'smppserverbinds.yaml']) {
        const docs = parseAllDocuments(await readFile(join(crds, f), 'utf8')).map((d) =>
          JSON.stringify(strip(d.toJS())),
        );
        await writeFile(join(out, f.replace('.yaml', '.json')), docs.join('\n'));
      }
      crds = out;
    }
    await kubectl(info, ['apply', '--server-side', '-f', crds]);
    await kubectl(info, ['wait', '--for=condition=Established', '-f', crds]);
    const ns = 'bench-status';
    await kubectl(info, ['create', 'namespace', ns]);
    const docs: string[] = [];
    const names: string[] = [];
    for (let i = 0; i < BINDS; i++) {
      names.push(`b${i}`);
      docs.push(
        [
          'apiVersion: smpp.omnimessage.io/v1alpha1',
          'kind: SmppClientBind',
          `metadata: {name: b${i}, namespace: ${ns}}`,
          `spec: {host: 127.0.0.1, port: 2775, systemId: sys${i}, suspend: true,`,
          '  passwordSecretRef: {name: creds, key: password}}',
        ].join('\n'),
      );
    }
    const dir = await mkdtemp(join(tmpdir(), 'smpp-statusbench-'));
    await writeFile(join(dir, 'binds.yaml'), docs.join('\n---\n') + '\n');
    await kubectl(info, ['apply', '-f', join(dir, 'binds.yaml')]);
    for (let i = 0; i < WATCHERS; i++) {
      const inf = new Informer<KubernetesObject>(
        kc,
        {
          resource: { apiVersion: 'smpp.omnimessage.io/v1alpha1', plural: 'smppclientbinds' },
          namespaces: [ns],
        },
        log,
      );
      inf.start();
      await inf.waitForSync();
      informers.push(inf);
    }
    console.log(
      `status writes: ${BINDS} binds, ${WATCHERS} watchers${args.includes('--no-cel') ? ', CRDs without CEL rules' : ''}, ${VERBS.join(' vs ')}, load ${await loadAvg()}`,
    );
    const pid = async (n: string): Promise<number> =>
      Number((await readFile(join(info.stateDir, `${n}.pid`), 'utf8')).trim());
    const apiPid = await pid('apiserver');
    const etcdPid = await pid('etcd');
    const rows: (string | number)[][] = [
      [
        'in flight',
        'verb',
        'writes/s median (range)',
        'latency p50 / p99 (median)',
        'CPU/write apiserver, etcd',
        'load',
      ],
    ];
    let round = 0;
    const objects = new Map<string, Record<string, unknown>>();
    const ratioLines: string[] = [];
    for (const c of CONC) {
      // The verbs alternate round by round on the same objects, so each pair of rounds compares
      // them under the same conditions.
      const per = VERBS.map(() => ({
        rates: [] as number[],
        p50: [] as number[],
        p99: [] as number[],
        writes: 0,
        cpu: [0, 0],
      }));
      for (let r = 0; r < ROUNDS; r++) {
        for (const [i, verb] of VERBS.entries()) {
          const acc = per[i] as (typeof per)[number];
          const cpu0 = [cpuSeconds(apiPid), cpuSeconds(etcdPid)];
          // A PATCH round moved every resourceVersion: PUT from a fresh list (not timed).
          if (verb.startsWith('put') && VERBS.length > 1) objects.clear();
          const x =
            verb === 'put'
              ? await statusPutLoop(kc, ns, names, c, objects, round++)
              : verb === 'put-ignore'
                ? await statusPutLoop(kc, ns, names, c, objects, round++, { fieldValidation: 'Ignore' })
                : await statusPatchLoop(kc, ns, names, c, round++);
          acc.cpu[0] = (acc.cpu[0] as number) + cpuSeconds(apiPid) - (cpu0[0] as number);
          acc.cpu[1] = (acc.cpu[1] as number) + cpuSeconds(etcdPid) - (cpu0[1] as number);
          acc.writes += x.writes;
          acc.rates.push(x.perS);
          acc.p50.push(x.p50Ms);
          acc.p99.push(x.p99Ms);
          if (x.failures > 0) console.log(`  ${verb}: ${x.failures} failures`);
        }
      }
      for (const [i, verb] of VERBS.entries()) {
        const acc = per[i] as (typeof per)[number];
        rows.push([
          c,
          verb === 'put' ? 'PUT' : verb === 'put-ignore' ? 'PUT, fieldValidation=Ignore' : 'merge PATCH',
          `${median(acc.rates).toFixed(0)} (${Math.min(...acc.rates).toFixed(0)}–${Math.max(...acc.rates).toFixed(0)})`,
          `${median(acc.p50).toFixed(0)} / ${median(acc.p99).toFixed(0)} ms`,
          `${(((acc.cpu[0] as number) / acc.writes) * 1000).toFixed(2)}, ${(((acc.cpu[1] as number) / acc.writes) * 1000).toFixed(2)} ms`,
          await loadAvg(),
        ]);
      }
      if (VERBS.length === 2) {
        const [a, b] = per as [(typeof per)[number], (typeof per)[number]];
        const ratios = a.rates.map((x, r) => (b.rates[r] as number) / x);
        ratioLines.push(
          `${c} in flight: ${VERBS[1]} / ${VERBS[0]} rate, median of per-round ratios ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
        );
      }
    }
    console.log(table(rows));
    for (const l of ratioLines) console.log(l);
  } finally {
    await Promise.all(informers.map((i) => i.stop()));
    await stopControlPlane(info);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
