/**
 * Counters from every gateway pod. The pods are found through the EndpointSlices of the
 * console's Service (label kubernetes.io/service-name, in the pod's namespace): each endpoint
 * names its pod (targetRef) and address, and every pod serves `GET /api/v1/pod` about its own
 * binds on the console port. The pod serving the page asks them all in parallel, and itself
 * directly.
 */
import type { KubeConfig, V1EndpointSlice } from '@kubernetes/client-node';
import { request } from 'undici';
import { Informer } from '../kube/informer.js';
import type { Logger } from '../log.js';
import type { CounterSnapshot } from './hub.js';
import type { PodReport } from './local-report.js';
import type { BindCounters } from './types.js';

export interface Peer {
  pod: string;
  url: string;
}

export interface PeerDirectory {
  peers(): Peer[];
  stop(): Promise<void>;
}

export function endpointSlicePeers(
  kc: KubeConfig,
  namespace: string,
  service: string,
  log: Logger,
): PeerDirectory {
  const slices = new Informer<V1EndpointSlice>(
    kc,
    {
      resource: { apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices' },
      namespaces: [namespace],
      labelSelector: `kubernetes.io/service-name=${service}`,
    },
    log,
  );
  slices.start();
  return {
    peers(): Peer[] {
      const out = new Map<string, Peer>();
      for (const s of slices.list()) {
        const port = s.ports?.find((p) => p.name === 'console')?.port ?? s.ports?.[0]?.port;
        if (port === undefined) continue;
        for (const e of s.endpoints ?? []) {
          // A terminating pod still serves its last counters; only a pod not serving at all is left out.
          if (
            e.conditions?.serving === false ||
            (e.conditions?.serving === undefined && e.conditions?.ready === false)
          )
            continue;
          const ip = e.addresses[0];
          const pod = e.targetRef?.name;
          if (ip === undefined || pod === undefined) continue;
          const host = ip.includes(':') ? `[${ip}]` : ip;
          out.set(pod, { pod, url: `http://${host}:${port}` });
        }
      }
      return [...out.values()];
    },
    stop: () => slices.stop(),
  };
}

function add(into: Map<string, BindCounters>, report: PodReport): void {
  for (const b of report.binds) {
    const c = into.get(b.key);
    if (c === undefined) into.set(b.key, { ...b.counters });
    else {
      c.sent += b.counters.sent;
      c.received += b.counters.received;
      c.failed += b.counters.failed;
      c.inFlight += b.counters.inFlight;
    }
  }
}

/** Sums every pod's counters; pods that do not answer within timeoutMs are listed as unreachable. */
export async function gatherCounters(
  self: string,
  local: () => Promise<PodReport>,
  peers: Peer[],
  log: Logger,
  timeoutMs = 1500,
): Promise<CounterSnapshot> {
  const byKey = new Map<string, BindCounters>();
  const unreachable: string[] = [];
  const others = peers.filter((p) => p.pod !== self);
  const reports = await Promise.all([
    local().then((r) => ({ pod: self, r })),
    ...others.map(async (p) => {
      try {
        const res = await request(`${p.url}/api/v1/pod`, {
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (res.statusCode !== 200) {
          await res.body.dump();
          throw new Error(`HTTP ${res.statusCode}`);
        }
        return { pod: p.pod, r: (await res.body.json()) as PodReport };
      } catch (err) {
        log.debug({ err, pod: p.pod, url: p.url }, 'console: a pod did not report its counters');
        return { pod: p.pod, r: undefined };
      }
    }),
  ]);
  for (const { pod, r } of reports) {
    if (r === undefined || !Array.isArray(r.binds)) unreachable.push(pod);
    else add(byKey, r);
  }
  return { byKey, unreachable: unreachable.sort() };
}
