/**
 * The in-cluster controller of one gateway pod: watchers → stores → work queue → reconcile →
 * Gateway, with membership (who is alive), per-bind Leases (who runs what) and status writes.
 *
 *   Informer(SmppClientBind) ─┐                 ┌→ Reconciler.reconcileClient → Lease, Gateway, status
 *   Informer(SmppServerBind) ─┼→ WorkQueue(key) ┤
 *   Informer(Secret) ─────────┘  (+ resync,     └→ Reconciler.reconcileServer → Gateway, status
 *   Membership(Leases) ─────────  membership, Gateway 'status' events)
 */
import {
  CoordinationV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  type V1Lease,
  type V1Secret,
} from '@kubernetes/client-node';
import {
  API_VERSION,
  CLIENT_BIND_PLURAL,
  GROUP,
  SERVER_BIND_PLURAL,
  VERSION,
  type SmppClientBind,
  type SmppServerBind,
} from '../api/index.js';
import { preferredOwner } from '../kube/hrw.js';
import { Informer } from '../kube/informer.js';
import { WorkQueue } from '../kube/workqueue.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { BindKind, GatewayPort, StatusListener } from './contracts.js';
import { objectKey } from './contracts.js';
import { secretKeysOf } from './desired-state.js';
import { KubeEventSink, KubeObjectWriter } from './kube-writer.js';
import { BIND_LEASE_LABEL, BindLeaseTable } from './bind-leases.js';
import { Membership, errText } from './membership.js';
import { Reconciler } from './reconcile.js';
import { GatewayRuntime } from './runtime.js';

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  gateway: GatewayPort;
  podName: string;
  /** where membership Leases live (the operator's own namespace) */
  podNamespace: string;
  /** empty or undefined: all namespaces */
  namespaces?: string[];
  /** bind and membership Lease duration; default 15 s */
  leaseDurationMs?: number;
  /** every key is reconciled again this often; default 5 min */
  resyncMs?: number;
  /** parallel reconciles; default 8 (most of a reconcile is waiting on the API server) */
  workers?: number;
  /** minimum time between two status writes of one bind; default 1 s */
  statusMinIntervalMs?: number;
  /** how long a deleted or handed-off bind may take to unbind before its Lease is released; default 5 s */
  unbindTimeoutMs?: number;
  log: Logger;
  metrics?: Pick<Metrics, 'reconcile' | 'reconcileDuration' | 'leasesHeld'>;
}

export interface RunningController {
  /** graceful: leave membership, unbind every session, release every Lease */
  stop(): Promise<void>;
  /**
   * Stops reconciling and renewing without releasing anything, leaving Leases to expire: what
   * a killed process leaves behind (failover tests and benchmarks). The caller drops the sessions.
   */
  abandon(): Promise<void>;
  /** live pods as this pod sees them (sorted) */
  livePods(): string[];
  /** client binds whose Lease this pod holds */
  ownedClientBinds(): string[];
  /** resolves once every informer has listed once and membership has been written */
  ready: Promise<void>;
  /** Read-only view of the binds in the informers' cache, for the console. */
  binds: BindsView;
}

/** The binds as the watched API shows them (spec + status); `onChange` fires on any event. */
export interface BindsView {
  clients(): SmppClientBind[];
  servers(): SmppServerBind[];
  onChange(cb: () => void): () => void;
}

/**
 * LEASE_DURATION_SECONDS: bind and membership Lease duration (how fast a dead pod's binds move,
 * against how many Lease writes per second the API server takes: binds × 4 / duration).
 */
export function leaseDurationFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.LEASE_DURATION_SECONDS;
  if (raw === undefined || raw === '') return undefined;
  const s = Number(raw);
  if (!Number.isFinite(s) || s < 2 || s > 300) {
    throw new Error(`LEASE_DURATION_SECONDS must be a number of seconds between 2 and 300, got "${raw}"`);
  }
  return Math.round(s * 1000);
}

const CLIENT = 'c|';
const SERVER = 's|';

export async function startController(o: ControllerOptions): Promise<RunningController> {
  const log = o.log.child({ component: 'controller', pod: o.podName });
  const leaseDurationMs = o.leaseDurationMs ?? leaseDurationFromEnv() ?? 15_000;
  const resyncMs = o.resyncMs ?? 300_000;
  const namespaces = o.namespaces?.filter((n) => n.length > 0) ?? [];
  const kc = o.kubeConfig;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const coordination = kc.makeApiClient(CoordinationV1Api);

  const clients = new Informer<KubernetesObject>(
    kc,
    { resource: { apiVersion: API_VERSION, plural: CLIENT_BIND_PLURAL }, namespaces },
    log,
  );
  const servers = new Informer<KubernetesObject>(
    kc,
    { resource: { apiVersion: API_VERSION, plural: SERVER_BIND_PLURAL }, namespaces },
    log,
  );
  // Bind Leases of every pod: silence of a holder is timed from here, and a released Lease
  // wakes its preferred pod at once instead of at its next retry.
  const bindLeases = new Informer<V1Lease>(
    kc,
    {
      resource: { apiVersion: 'coordination.k8s.io/v1', plural: 'leases' },
      namespaces,
      labelSelector: BIND_LEASE_LABEL,
    },
    log,
  );
  const secrets = new Informer<V1Secret>(
    kc,
    { resource: { apiVersion: 'v1', plural: 'secrets' }, namespaces },
    log,
  );

  // The informers hold raw API objects; these are the two bind kinds' views of them.
  const clientList = (): SmppClientBind[] => clients.list() as unknown as SmppClientBind[];
  const serverList = (): SmppServerBind[] => servers.list() as unknown as SmppServerBind[];
  const clientGet = (ns: string, name: string): SmppClientBind | undefined =>
    clients.get(name, ns) as unknown as SmppClientBind | undefined;
  const serverGet = (ns: string, name: string): SmppServerBind | undefined =>
    servers.get(name, ns) as unknown as SmppServerBind | undefined;

  let stopped = false;
  function enqueue(key: string): void {
    if (!stopped) queue.add(key);
  }
  function enqueueAll(): void {
    for (const b of clientList()) enqueue(CLIENT + objectKey(b.metadata));
    for (const b of serverList()) enqueue(SERVER + objectKey(b.metadata));
  }

  const runtime = new GatewayRuntime(o.gateway, log);
  const leases = new BindLeaseTable({
    api: coordination,
    holder: o.podName,
    durationMs: leaseDurationMs,
    log,
    onLost: (key) => {
      // Fencing: the session stops now, before the Lease can expire and another pod bind.
      runtime.setClient(key, undefined);
      runtime.flush();
      enqueue(CLIENT + key);
    },
    onCountChange: (n) => o.metrics?.leasesHeld.set(n),
  });

  const membership = new Membership({
    api: coordination,
    namespace: o.podNamespace,
    podName: o.podName,
    durationMs: leaseDurationMs,
    log,
    onChange: (live) => {
      log.info({ live }, 'gateway pods changed');
      enqueueAll();
    },
  });

  const writer = new KubeObjectWriter(custom, { group: GROUP, version: VERSION }, log);
  const events = new KubeEventSink(kc, o.podName, log);

  const reconciler = new Reconciler({
    self: o.podName,
    log,
    secrets: (ns, name) => secrets.get(name, ns),
    livePods: () => membership.live(),
    preferredOwner: (key, live) => preferredOwner(key, live),
    leases,
    runtime,
    writer,
    events,
    acquireRetryMs: Math.max(250, Math.floor(leaseDurationMs / 5)),
    statusMinIntervalMs: o.statusMinIntervalMs ?? 1_000,
    unbindTimeoutMs: o.unbindTimeoutMs ?? 5_000,
    pruneGraceMs: leaseDurationMs * 2,
    settleMs: 1_000,
  });

  const handle = async (qkey: string): Promise<{ requeueAfterMs: number } | void> => {
    const kind: BindKind = qkey.startsWith(CLIENT) ? 'SmppClientBind' : 'SmppServerBind';
    const key = qkey.slice(2);
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    const started = process.hrtime.bigint();
    log.debug({ kind, namespace: ns, bind: name }, 'reconcile');
    try {
      const action =
        kind === 'SmppClientBind'
          ? await reconciler.reconcileClient(key, clientGet(ns, name))
          : await reconciler.reconcileServer(key, serverGet(ns, name));
      o.metrics?.reconcile.labels({ kind, result: 'ok' }).inc();
      if (action.requeueAfterMs !== undefined) return { requeueAfterMs: action.requeueAfterMs };
    } catch (err) {
      o.metrics?.reconcile.labels({ kind, result: 'error' }).inc();
      log.warn(
        { namespace: ns, bind: name, kind, err: errText(err) },
        'reconcile failed; retrying with backoff',
      );
      throw err;
    } finally {
      const s = Number(process.hrtime.bigint() - started) / 1e9;
      o.metrics?.reconcileDuration.labels({ kind }).observe(s);
    }
  };
  const queue = new WorkQueue(handle, { concurrency: o.workers ?? 8, baseDelayMs: 500, maxDelayMs: 30_000 });

  // Informer events → keys. Secrets map to the binds that read them.
  for (const [inf, prefix] of [
    [clients, CLIENT],
    [servers, SERVER],
  ] as const) {
    const on = (obj: KubernetesObject): void =>
      enqueue(prefix + `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`);
    inf.on('add', on);
    inf.on('update', on);
    inf.on('delete', on);
  }
  const onSecret = (s: V1Secret): void => {
    const key = `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
    for (const b of clientList()) if (secretKeysOf(b).includes(key)) enqueue(CLIENT + objectKey(b.metadata));
    for (const b of serverList()) if (secretKeysOf(b).includes(key)) enqueue(SERVER + objectKey(b.metadata));
  };
  secrets.on('add', onSecret);
  secrets.on('update', onSecret);
  secrets.on('delete', onSecret);

  bindLeases.on('add', (l: V1Lease) => leases.observe(l));
  bindLeases.on('delete', (l: V1Lease) => {
    leases.observe(l, true);
    wakeBind(l);
  });
  bindLeases.on('update', (l: V1Lease, old: V1Lease) => {
    leases.observe(l);
    if ((l.spec?.holderIdentity ?? '') !== (old.spec?.holderIdentity ?? '')) wakeBind(l);
  });
  function wakeBind(l: V1Lease): void {
    const bind = l.metadata?.labels?.[BIND_LEASE_LABEL];
    if (bind) enqueue(CLIENT + `${l.metadata?.namespace ?? ''}/${bind}`);
  }

  const onStatus: StatusListener = (kind, namespace, name) => {
    enqueue((kind === 'SmppClientBind' ? CLIENT : SERVER) + `${namespace}/${name}`);
  };
  o.gateway.on('status', onStatus);

  // Liveness changes without events (a Lease simply stops being renewed): look every so often.
  const livenessTimer = setInterval(
    () => membership.reevaluate(),
    Math.max(100, Math.min(500, Math.floor(leaseDurationMs / 8))),
  );
  livenessTimer.unref();
  const resyncTimer = setInterval(enqueueAll, resyncMs);
  resyncTimer.unref();

  clients.start();
  servers.start();
  secrets.start();
  bindLeases.start();
  const ready = (async () => {
    await Promise.all([
      clients.waitForSync(),
      servers.waitForSync(),
      secrets.waitForSync(),
      bindLeases.waitForSync(),
    ]);
    await membership.start();
    queue.start();
    enqueueAll();
    log.info(
      { namespaces: namespaces.length > 0 ? namespaces : 'all', leaseDurationMs, live: membership.live() },
      'controller started',
    );
  })();
  ready.catch((err: unknown) => log.error({ err: errText(err) }, 'controller failed to start'));

  let stopping: Promise<void> | undefined;
  const halt = async (): Promise<void> => {
    stopped = true;
    clearInterval(livenessTimer);
    clearInterval(resyncTimer);
    o.gateway.off('status', onStatus);
    await queue.shutdown();
  };
  return {
    abandon: () => {
      stopping ??= (async () => {
        await halt();
        await membership.halt();
        await leases.abandonAll();
        await Promise.all([clients.stop(), servers.stop(), secrets.stop(), bindLeases.stop()]);
        log.warn('controller abandoned (leases left to expire)');
      })();
      return stopping;
    },
    ready,
    binds: {
      clients: clientList,
      servers: serverList,
      onChange(cb) {
        const events = ['add', 'update', 'delete'] as const;
        for (const e of events) for (const inf of [clients, servers]) inf.on(e, cb);
        return () => {
          for (const e of events) for (const inf of [clients, servers]) inf.off(e, cb);
        };
      },
    },
    livePods: () => membership.live(),
    ownedClientBinds: () => leases.keys(),
    stop: () => {
      stopping ??= (async () => {
        await halt();
        // Leave the membership first so the others start preferring themselves for our binds,
        // then unbind every session cleanly and only then free the Leases they wait on.
        await membership.stop();
        runtime.clearClients();
        runtime.flush();
        await runtime.allClientsStopped(o.unbindTimeoutMs ?? 5_000);
        await leases.releaseAll();
        await Promise.all([clients.stop(), servers.stop(), secrets.stop(), bindLeases.stop()]);
        log.info('controller stopped');
      })();
      return stopping;
    },
  };
}
