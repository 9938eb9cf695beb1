// How fast changes reach src/kube's Informer, beside the client library's bare Watch receiving
// the same changes in the same run, on a private control plane (hack/control-plane.sh); and what
// a relist (after 410 Gone) costs per object.
//   node --experimental-transform-types --import ./test/bench/lib/register.mjs \
//     test/bench/operator-informer.ts [--objects 300] [--rounds 3]
import { CoreV1Api, KubeConfig, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { createLogger } from '../../src/log.js';
import { Informer } from '../../src/kube/informer.js';
import { startControlPlane, stopControlPlane } from '../kube/control-plane.js';
import { intFlag, ratio, table } from './lib/format.js';

const args = process.argv.slice(2);
const OBJECTS = intFlag(args, 'objects', 300);
const ROUNDS = intFlag(args, 'rounds', 3);
const log = createLogger({ level: 'silent' });

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? NaN;
}

function median(xs: number[]): number {
  return pct(
    [...xs].sort((a, b) => a - b),
    50,
  );
}

interface Round {
  informerP50: number;
  informerP99: number;
  watchP50: number;
  watchP99: number;
  relistMs: number;
}

async function round(kc: KubeConfig, namespace: string): Promise<Round> {
  const core = kc.makeApiClient(CoreV1Api);
  const sent = new Map<string, number>();
  const viaInformer: number[] = [];
  const viaWatch: number[] = [];

  const inf = new Informer<V1ConfigMap>(
    kc,
    { resource: { apiVersion: 'v1', plural: 'configmaps' }, namespaces: [namespace] },
    log,
  );
  inf.on('add', (cm: V1ConfigMap) => {
    const t = sent.get(cm.metadata?.name ?? '');
    if (t !== undefined) viaInformer.push(performance.now() - t);
  });
  inf.start();
  await inf.waitForSync();
  const list = await core.listNamespacedConfigMap({ namespace });
  const ctl = await new Watch(kc).watch(
    `/api/v1/namespaces/${namespace}/configmaps`,
    { resourceVersion: list.metadata?.resourceVersion },
    (type: string, cm: V1ConfigMap) => {
      const t = sent.get(cm.metadata?.name ?? '');
      if (type === 'ADDED' && t !== undefined) viaWatch.push(performance.now() - t);
    },
    () => undefined,
  );

  // Sequential creates: the latency of each change, not the API server's write throughput.
  for (let i = 0; i < OBJECTS; i++) {
    const name = `cm-${i}`;
    sent.set(name, performance.now());
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: { i: String(i) } } });
  }
  const deadline = Date.now() + 60_000;
  while ((viaInformer.length < OBJECTS || viaWatch.length < OBJECTS) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  ctl.abort();
  await inf.stop();

  // Relist cost: a fresh informer's first list of everything.
  const t0 = performance.now();
  const fresh = new Informer<V1ConfigMap>(
    kc,
    { resource: { apiVersion: 'v1', plural: 'configmaps' }, namespaces: [namespace] },
    log,
  );
  fresh.start();
  await fresh.waitForSync();
  const relistMs = performance.now() - t0;
  await fresh.stop();

  await core.deleteCollectionNamespacedConfigMap({ namespace });
  const si = [...viaInformer].sort((a, b) => a - b);
  const sw = [...viaWatch].sort((a, b) => a - b);
  return {
    informerP50: pct(si, 50),
    informerP99: pct(si, 99),
    watchP50: pct(sw, 50),
    watchP99: pct(sw, 99),
    relistMs,
  };
}

const plane = await startControlPlane();
try {
  const kc = new KubeConfig();
  kc.loadFromFile(plane.adminKubeconfig);
  const namespace = 'bench';
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  const rounds: Round[] = [];
  for (let i = 0; i < ROUNDS; i++) rounds.push(await round(kc, namespace));
  const m = (f: (r: Round) => number): number => median(rounds.map(f));
  console.log(
    `kube-apiserver ${plane.kubeVersion}, ${OBJECTS} ConfigMaps created one by one, median of ${ROUNDS} rounds`,
  );
  console.log(
    table([
      ['', 'p50 ms', 'p99 ms'],
      ['bare Watch (baseline)', m((r) => r.watchP50).toFixed(2), m((r) => r.watchP99).toFixed(2)],
      ['Informer', m((r) => r.informerP50).toFixed(2), m((r) => r.informerP99).toFixed(2)],
      [
        'ratio Informer/Watch',
        ratio(
          m((r) => r.informerP50),
          m((r) => r.watchP50),
        ),
        ratio(
          m((r) => r.informerP99),
          m((r) => r.watchP99),
        ),
      ],
    ]),
  );
  const relist = m((r) => r.relistMs);
  console.log(
    `relist of ${OBJECTS} objects: ${relist.toFixed(1)} ms (${((relist * 1000) / OBJECTS).toFixed(0)} µs/object)`,
  );
} finally {
  await stopControlPlane(plane);
}
