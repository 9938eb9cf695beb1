// Gateway pods as real `smpp-operator run` processes (the real Gateway behind the in-cluster
// controller, POD_NAME / POD_NAMESPACE / WATCH_NAMESPACES from the environment as the downward
// API gives them), against the real API server, with devcore as the core.
import { spawnGateway, type GatewayProc } from '../../helpers/gateway-proc.js';
import { controlPlane, eventually } from '../helpers.js';

export type { GatewayProc } from '../../helpers/gateway-proc.js';

export interface ProcEnv {
  namespace: string;
  coreUrl: string;
  leaseSeconds?: number;
  extra?: Record<string, string>;
}

/** A gateway pod of the namespace, against the kube test control plane and the given core. */
export function startGatewayProc(name: string, o: ProcEnv): GatewayProc {
  return spawnGateway(name, {
    env: {
      KUBECONFIG: controlPlane().adminKubeconfig,
      POD_NAME: name,
      POD_NAMESPACE: o.namespace,
      WATCH_NAMESPACES: o.namespace,
      LEASE_DURATION_SECONDS: String(o.leaseSeconds ?? 4),
      API_BASE_URL: o.coreUrl,
      SMPP_POLL_INTERVAL: '200',
      ...o.extra,
    },
  });
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
