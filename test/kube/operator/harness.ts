// Gateway "pods" for the operator tests: each is a SessionGateway (real SMPP sessions and
// listener) driven by a real controller with its own pod name, against the shared control plane.
import { resolve } from 'node:path';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { startController, type RunningController } from '../../../src/controller/controller.js';
import { createLogger, type Logger } from '../../../src/log.js';
import type { Metrics } from '../../../src/metrics.js';
import type { ControlPlaneInfo } from '../control-plane.js';
import { adminKubeConfig, controlPlane, kubectl } from '../helpers.js';
import { SessionGateway } from './session-gateway.js';

export const GV = { group: 'smpp.omnimessage.io', version: 'v1alpha1' } as const;

export function testLog(): Logger {
  return createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
}

const crdsReady = new Map<string, Promise<void>>();

/**
 * Applies crds/*.yaml (generated from src/api) once per run with kubectl and waits until they
 * are served. (Not through the typed client: its serializer drops `enum` and `default`.)
 */
export function ensureCrds(info: ControlPlaneInfo = controlPlane()): Promise<void> {
  let p = crdsReady.get(info.server);
  if (!p) {
    p = (async () => {
      const dir = resolve(import.meta.dirname, '../../../crds');
      const out = await kubectl(['apply', '--server-side', '--force-conflicts', '-f', dir], { info });
      if (out.code !== 0) throw new Error(`kubectl apply crds failed: ${out.stderr}`);
      const wait = await kubectl(['wait', '--for=condition=Established', '--timeout=60s', '-f', dir], {
        info,
      });
      if (wait.code !== 0) throw new Error(`CRDs not established: ${wait.stderr}`);
    })();
    crdsReady.set(info.server, p);
  }
  return p;
}

export interface Pod {
  name: string;
  gateway: SessionGateway;
  controller: RunningController;
  /** graceful stop (membership left, sessions unbound, leases released) */
  stop(): Promise<void>;
  /** as if the process was killed: sessions dropped, leases left to expire */
  kill(): Promise<void>;
}

export async function startPod(opts: {
  name: string;
  operatorNamespace: string;
  namespaces: string[];
  leaseDurationMs: number;
  kc?: KubeConfig;
  metrics?: Metrics;
}): Promise<Pod> {
  const log = testLog().child({ pod: opts.name });
  const gateway = new SessionGateway(log);
  await gateway.start();
  const controller = await startController({
    kubeConfig: opts.kc ?? adminKubeConfig(),
    gateway,
    podName: opts.name,
    podNamespace: opts.operatorNamespace,
    namespaces: opts.namespaces,
    leaseDurationMs: opts.leaseDurationMs,
    statusMinIntervalMs: 200,
    unbindTimeoutMs: 3000,
    resyncMs: 30_000,
    log,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  await controller.ready;
  let done = false;
  return {
    name: opts.name,
    gateway,
    controller,
    stop: async () => {
      if (done) return;
      done = true;
      await controller.stop();
      await gateway.stop();
    },
    kill: async () => {
      if (done) return;
      done = true;
      await gateway.crash();
      await controller.abandon();
    },
  };
}

export function apis(kc: KubeConfig = adminKubeConfig()): { core: CoreV1Api; custom: CustomObjectsApi } {
  return { core: kc.makeApiClient(CoreV1Api), custom: kc.makeApiClient(CustomObjectsApi) };
}

export async function putSecret(
  core: CoreV1Api,
  namespace: string,
  name: string,
  password: string,
): Promise<void> {
  const body = { metadata: { name, namespace }, stringData: { password } };
  try {
    await core.replaceNamespacedSecret({ name, namespace, body });
  } catch {
    await core.createNamespacedSecret({ namespace, body });
  }
}

export function clientBind(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
  annotations?: Record<string, string>,
): Record<string, unknown> {
  return {
    apiVersion: `${GV.group}/${GV.version}`,
    kind: 'SmppClientBind',
    metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
    spec,
  };
}

export interface BindView {
  metadata: { name: string; finalizers?: string[]; resourceVersion?: string; generation?: number };
  status?: {
    phase?: string;
    gatewayPod?: string;
    boundSince?: string;
    lastError?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    sessions?: { pod: string; peerAddress: string; bindType: string }[];
    sessionCount?: number;
  };
}

export async function getBind(
  custom: CustomObjectsApi,
  namespace: string,
  name: string,
  plural = 'smppclientbinds',
): Promise<BindView | undefined> {
  try {
    return (await custom.getNamespacedCustomObject({ ...GV, plural, namespace, name })) as BindView;
  } catch {
    return undefined;
  }
}

export async function listBindViews(
  custom: CustomObjectsApi,
  namespace: string,
  plural = 'smppclientbinds',
): Promise<BindView[]> {
  const l = (await custom.listNamespacedCustomObject({ ...GV, plural, namespace })) as { items: BindView[] };
  return l.items;
}

export function ready(
  b: BindView | undefined,
): { status: string; reason: string; message: string } | undefined {
  return b?.status?.conditions?.find((c) => c.type === 'Ready');
}
