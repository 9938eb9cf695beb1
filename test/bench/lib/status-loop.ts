// The API server's own rate for status writes, as a baseline for the operator's: a bare loop of
// JSON merge patches of SmppClientBind status (one request each, no read before, no
// resourceVersion precondition), a fixed number in flight, over the same kept-alive connections
// the operator uses (src/kube/http.ts).
import type { KubeConfig } from '@kubernetes/client-node';
import { collectionPath, objectPath, requestJson } from '../../../src/kube/http.js';

const GV = 'smpp.omnimessage.io/v1alpha1';

export interface LoopResult {
  writes: number;
  ms: number;
  perS: number;
  p50Ms: number;
  p99Ms: number;
  failures: number;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.ceil((s.length * p) / 100) - 1)] as number;
}

/** A status of the shape and size the operator writes for a Bound client bind. */
export function boundStatus(pod: string, systemId: string, round: number): Record<string, unknown> {
  const t = new Date(Date.now() - (Date.now() % 1000)).toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    phase: 'Bound',
    gatewayPod: pod,
    observedGeneration: 1,
    boundSince: t,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Bound',
        message: `bound to 127.0.0.1:2775 as ${systemId} (transceiver) r${round}`,
        observedGeneration: 1,
        lastTransitionTime: t,
      },
    ],
  };
}

/**
 * Replaces (PUT) the status of every named bind once: the whole object as last read or written,
 * its resourceVersion the precondition. `objects` is filled by a list on the first call and kept
 * up to date from each answer.
 */
export async function statusPutLoop(
  kc: KubeConfig,
  namespace: string,
  names: string[],
  concurrency: number,
  objects: Map<string, Record<string, unknown>>,
  round = 0,
  /** e.g. { fieldValidation: 'Ignore' } */
  query: Record<string, string> = {},
): Promise<LoopResult> {
  if (objects.size === 0) {
    const list = await requestJson<{ items: { metadata: { name: string } }[] }>(
      kc,
      'GET',
      collectionPath(GV, 'smppclientbinds', namespace),
    );
    for (const o of list.items) objects.set(o.metadata.name, o as unknown as Record<string, unknown>);
  }
  return runLoop(names, concurrency, async (name) => {
    const obj = objects.get(name) ?? {};
    const stored = await requestJson<Record<string, unknown>>(
      kc,
      'PUT',
      objectPath(GV, 'smppclientbinds', namespace, name, 'status'),
      {
        query,
        body: {
          apiVersion: GV,
          kind: 'SmppClientBind',
          metadata: {
            name,
            namespace,
            resourceVersion: (obj.metadata as { resourceVersion?: string } | undefined)?.resourceVersion,
          },
          status: boundStatus('baseline', name, round),
        },
      },
    );
    objects.set(name, stored);
  });
}

/** Patches the status of every named bind once, `concurrency` at a time. */
export async function statusPatchLoop(
  kc: KubeConfig,
  namespace: string,
  names: string[],
  concurrency: number,
  round = 0,
): Promise<LoopResult> {
  return runLoop(names, concurrency, async (name) => {
    await requestJson(kc, 'PATCH', objectPath(GV, 'smppclientbinds', namespace, name, 'status'), {
      body: { status: boundStatus('baseline', name, round) },
      contentType: 'application/merge-patch+json',
    });
  });
}

async function runLoop(
  names: string[],
  concurrency: number,
  one: (name: string) => Promise<void>,
): Promise<LoopResult> {
  const lat: number[] = [];
  let next = 0;
  let failures = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const name = names[next++] as string;
      const s = performance.now();
      try {
        await one(name);
        lat.push(performance.now() - s);
      } catch {
        failures++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
  const ms = performance.now() - t0;
  return {
    writes: lat.length,
    ms,
    perS: (lat.length / ms) * 1000,
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    failures,
  };
}
