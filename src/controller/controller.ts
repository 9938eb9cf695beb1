/**
 * The in-cluster controller of one gateway pod: watchers → stores → work queue → reconcile →
 * Gateway, with membership (who is alive, and the one Lease renewed), shard claims (which groups
 * of client binds run here), partner-poller claims (who polls the core for a partner) and
 * status writes.
 *
 *   Informer(SmppClientBind) ─┐                 ┌→ reconcileClient  → Gateway, status
 *   Informer(SmppServerBind) ─┤                 ├→ reconcileServer  → Gateway, status
 *   Informer(Secret) ─────────┼→ WorkQueue(key) ┼→ shard reconcile  → claim, handoff
 *   Informer(claim Leases) ───┤  (+ resync)     └→ poller reconcile → claim, Gateway poll grants
 *   Membership, Gateway 'status' events ─┘
 */
import { type KubeConfig, type KubernetesObject, type V1Lease, type V1Secret } from '@kubernetes/client-node';
import {
  API_VERSION,
  CLIENT_BIND_PLURAL,
  GROUP,
  SERVER_BIND_PLURAL,
  smscNameOf,
  VERSION,
  type SmppClientBind,
  type SmppServerBind,
} from '../api/index.js';
import { preferredOwner } from '../kube/hrw.js';
import { Informer } from '../kube/informer.js';
import { LeaseApi } from '../kube/lease.js';
import { WorkQueue } from '../kube/workqueue.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { CLAIM_LABEL, ClaimTable, SHARD_LABEL, SMSC_ANNOTATION } from './claims.js';
import type { BindKind, GatewayPort, StatusListener } from './contracts.js';
import { objectKey } from './contracts.js';
import { secretKeysOf } from './desired-state.js';
import { KubeEventSink, KubeObjectWriter } from './kube-writer.js';
import { MEMBER_LABEL, Membership, errText } from './membership.js';
import { SHARDS, shardOf } from './ownership.js';
import { PartnerPollers } from './pollers.js';
import { Reconciler } from './reconcile.js';
import { GatewayRuntime } from './runtime.js';
import { ShardOwnership } from './shards.js';
import { releasedStatus } from './status.js';

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
  /** parallel reconciles; default 32 (most of a reconcile is waiting on the API server; a dead pod's 32 shards are taken at once, not 8 at a time) */
  workers?: number;
  /** minimum time between two status writes of one bind; default 1 s */
  statusMinIntervalMs?: number;
  /** how long a deleted or handed-off bind may take to unbind before its Lease is released; default 5 s */
  unbindTimeoutMs?: number;
  /** on a graceful stop, how long the last status writes (released binds) may take; default 3 s */
  statusFlushMs?: number;
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
  /** client binds this pod runs (its shards' binds) */
  ownedClientBinds(): string[];
  /** shards whose claim this pod holds */
  heldShards(): number[];
  /** server bind keys this pod polls the core for */
  pollingFor(): string[];
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
 * LEASE_DURATION_SECONDS: member Lease duration, which bounds how fast a dead pod's shards and
 * pollers move (about one duration). Steady-state Lease writes are one per pod every
 * min(2 s, duration / 3), whatever the number of binds.
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
/** a shard of client binds: 'h|<n>' */
const SHARD = 'h|';
/** the poller of the partners with one smscName: 'p|<smscName>' */
const POLLER = 'p|';
/** how long the status writes must have paused before Events go out */
const EVENT_QUIET_MS = 250;

const RECEIVING: ReadonlySet<string> = new Set(['receiver', 'transceiver']);

export async function startController(o: ControllerOptions): Promise<RunningController> {
  const log = o.log.child({ component: 'controller', pod: o.podName });
  const leaseDurationMs = o.leaseDurationMs ?? leaseDurationFromEnv() ?? 15_000;
  const resyncMs = o.resyncMs ?? 300_000;
  const namespaces = o.namespaces?.filter((n) => n.length > 0) ?? [];
  const kc = o.kubeConfig;
  const leaseApi = new LeaseApi(kc, o.podNamespace);
  const unbindTimeoutMs = o.unbindTimeoutMs ?? 5_000;
  const acquireRetryMs = Math.max(250, Math.floor(leaseDurationMs / 5));

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
  // Claim Leases (shards, pollers) of every pod, in the operator's namespace: a released claim
  // wakes its preferred pod at once instead of at its next retry.
  const claimLeases = new Informer<V1Lease>(
    kc,
    {
      resource: { apiVersion: 'coordination.k8s.io/v1', plural: 'leases' },
      namespaces: [o.podNamespace],
      labelSelector: CLAIM_LABEL,
    },
    log,
  );
  // Member Leases of every pod: a renewal is seen when it is written, so a dead pod's silence
  // (what its shards wait out) is timed from its last renewal rather than from our next list.
  const memberLeases = new Informer<V1Lease>(
    kc,
    {
      resource: { apiVersion: 'coordination.k8s.io/v1', plural: 'leases' },
      namespaces: [o.podNamespace],
      labelSelector: `${MEMBER_LABEL}=true`,
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
  function enqueueShards(): void {
    for (let i = 0; i < SHARDS; i++) enqueue(SHARD + i);
  }
  function enqueueServers(): void {
    for (const b of serverList()) {
      enqueue(SERVER + objectKey(b.metadata));
      enqueue(POLLER + smscNameOf(b));
    }
  }
  function enqueueAll(): void {
    enqueueShards();
    for (const b of clientList()) enqueue(CLIENT + objectKey(b.metadata));
    enqueueServers();
  }

  const runtime = new GatewayRuntime(o.gateway, log);

  const membership: Membership = new Membership({
    api: leaseApi,
    podName: o.podName,
    durationMs: leaseDurationMs,
    log,
    onChange: (live) => {
      log.info({ live }, 'gateway pods changed');
      // Client binds follow their shard: a shard taken or handed over wakes its own binds
      // (wakeBinds). Queuing all of them here as well put a failover's hundreds of "now Bound"
      // reconciles behind a thousand that change nothing (seconds at 1,000 binds).
      enqueueShards();
      enqueueServers();
    },
    onFenced: () => {
      // Fencing: every session this pod runs on a claim stops now, before any other pod may
      // see our member Lease as silent for a whole duration and take the claims over.
      claims.dropAll();
      runtime.clearClients();
      runtime.flush();
      pollers.revokeAll();
      enqueueAll();
    },
  });

  const claims: ClaimTable = new ClaimTable({
    api: leaseApi,
    self: o.podName,
    durationMs: leaseDurationMs,
    authority: membership,
    log,
    onCountChange: (n) => o.metrics?.leasesHeld.set(n),
  });

  const bindsOfShard = (shard: number): { key: string; namespace: string; name: string }[] => {
    const out: { key: string; namespace: string; name: string }[] = [];
    for (const b of clientList()) {
      if (shardOf(smscNameOf(b)) !== shard) continue;
      out.push({ key: objectKey(b.metadata), namespace: b.metadata.namespace ?? '', name: b.metadata.name });
    }
    // Binds this pod still runs whose shard is this one (an smscName just changed elsewhere).
    return out;
  };
  const shards = new ShardOwnership({
    self: o.podName,
    claims,
    livePods: () => membership.live(),
    preferredOwner: (key, live) => preferredOwner(key, live),
    bindsOf: bindsOfShard,
    stopClient: (key) => {
      runtime.setClient(key, undefined);
      runtime.flush();
    },
    clientStopped: (ns, name, timeoutMs) => runtime.clientStopped(ns, name, timeoutMs),
    wakeBinds: (shard) => {
      for (const b of bindsOfShard(shard)) enqueue(CLIENT + b.key);
    },
    unbindTimeoutMs,
    acquireRetryMs,
    log,
  });

  const serverKeysOf = (smsc: string): string[] =>
    serverList()
      .filter((b) => smscNameOf(b) === smsc)
      .map((b) => objectKey(b.metadata));
  const pollers = new PartnerPollers({
    claims,
    bindsOf: serverKeysOf,
    receivingHere: (smsc) =>
      serverList()
        .filter(
          (b) =>
            smscNameOf(b) === smsc && b.spec.suspend !== true && b.metadata.deletionTimestamp === undefined,
        )
        .filter((b) =>
          (
            runtime.status(b.metadata.namespace ?? '', b.metadata.name, 'SmppServerBind')?.sessions ?? []
          ).some((x) => RECEIVING.has(x.bindType)),
        )
        .map((b) => objectKey(b.metadata)),
    grant: (keys) => o.gateway.setServerPollers?.(keys),
    idle: async (key, timeoutMs) => {
      const i = key.indexOf('/');
      const wait = o.gateway.serverPollIdle?.(key.slice(0, i), key.slice(i + 1));
      if (!wait) return true;
      let timer: NodeJS.Timeout | undefined;
      const ok = await Promise.race([
        wait.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
      ]);
      clearTimeout(timer);
      return ok;
    },
    idleTimeoutMs: unbindTimeoutMs,
    acquireRetryMs,
    log,
  });
  // In a cluster nobody polls for a partner until it holds the poller's claim.
  o.gateway.setServerPollers?.([]);

  // 32 status writes in flight: a failover's or an apply's burst of Bound binds (hundreds) is on
  // the path to Ready, and the API server answers many small patches in parallel far faster
  // than in series; per bind still at most one write per statusMinIntervalMs.
  const writer = new KubeObjectWriter(kc, { group: GROUP, version: VERSION }, log, {
    minIntervalMs: o.statusMinIntervalMs ?? 1_000,
    concurrency: 32,
  });
  // Events go after status: a burst of them must not hold up the writes on the path to Ready.
  // Events wait for a pause in the status writes, not just an idle instant between two of a
  // failover's (a hundred Events had gone out among its 509 statuses, on the same API server).
  const events = new KubeEventSink(kc, o.podName, log, () => writer.statusQuiet(EVENT_QUIET_MS));

  const reconciler = new Reconciler({
    self: o.podName,
    log,
    secrets: (ns, name) => secrets.get(name, ns),
    livePods: () => membership.live(),
    preferredOwner: (key, live) => preferredOwner(key, live),
    groups: shards,
    runtime,
    writer,
    events,
    acquireRetryMs,
    statusMinIntervalMs: o.statusMinIntervalMs ?? 1_000,
    unbindTimeoutMs,
    pruneGraceMs: leaseDurationMs * 2,
    settleMs: 1_000,
  });

  const kindOf = (qkey: string): BindKind | 'shard' | 'poller' =>
    qkey.startsWith(CLIENT)
      ? 'SmppClientBind'
      : qkey.startsWith(SERVER)
        ? 'SmppServerBind'
        : qkey.startsWith(SHARD)
          ? 'shard'
          : 'poller';

  const handle = async (qkey: string): Promise<{ requeueAfterMs: number } | void> => {
    const kind = kindOf(qkey);
    const key = qkey.slice(2);
    const started = process.hrtime.bigint();
    const slash = key.indexOf('/');
    const ns = key.slice(0, slash);
    const name = key.slice(slash + 1);
    try {
      const action =
        kind === 'SmppClientBind'
          ? await reconciler.reconcileClient(key, clientGet(ns, name))
          : kind === 'SmppServerBind'
            ? await reconciler.reconcileServer(key, serverGet(ns, name))
            : kind === 'shard'
              ? await shards.reconcile(Number(key))
              : await pollers.reconcile(key);
      o.metrics?.reconcile.labels({ kind, result: 'ok' }).inc();
      if (action.requeueAfterMs !== undefined) return { requeueAfterMs: action.requeueAfterMs };
    } catch (err) {
      o.metrics?.reconcile.labels({ kind, result: 'error' }).inc();
      log.warn({ key, kind, err: errText(err) }, 'reconcile failed; retrying with backoff');
      throw err;
    } finally {
      const s = Number(process.hrtime.bigint() - started) / 1e9;
      o.metrics?.reconcileDuration.labels({ kind }).observe(s);
    }
  };
  const queue = new WorkQueue(handle, { concurrency: o.workers ?? 32, baseDelayMs: 500, maxDelayMs: 30_000 });

  // Informer events → keys. Secrets map to the binds that read them.
  const onClient = (obj: KubernetesObject): void =>
    enqueue(CLIENT + objectKey(obj.metadata as { name: string }));
  clients.on('add', onClient);
  clients.on('update', (obj: KubernetesObject, old: KubernetesObject) => {
    // Our own status write coming back changes nothing to reconcile (a failover's hundreds of
    // them took the survivor's CPU while the API server was still answering the writes).
    if (writer.isOwnClientStatusEcho(obj, old)) {
      o.metrics?.reconcile.labels({ kind: 'SmppClientBind', result: 'own_status_echo' }).inc();
      return;
    }
    onClient(obj);
  });
  clients.on('delete', (obj: KubernetesObject) => {
    writer.forgetClient(obj.metadata?.namespace ?? '', obj.metadata?.name ?? '');
    onClient(obj);
  });
  const onServer = (obj: KubernetesObject, old?: KubernetesObject): void => {
    enqueue(SERVER + objectKey(obj.metadata as { name: string }));
    for (const b of [obj, old]) if (b) enqueue(POLLER + smscNameOf(b as unknown as SmppServerBind));
  };
  servers.on('add', (obj: KubernetesObject) => onServer(obj));
  servers.on('update', (obj: KubernetesObject, old: KubernetesObject) => onServer(obj, old));
  servers.on('delete', (obj: KubernetesObject) => onServer(obj));
  const onSecret = (s: V1Secret): void => {
    const key = `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
    for (const b of clientList()) if (secretKeysOf(b).includes(key)) enqueue(CLIENT + objectKey(b.metadata));
    for (const b of serverList()) if (secretKeysOf(b).includes(key)) enqueue(SERVER + objectKey(b.metadata));
  };
  secrets.on('add', onSecret);
  secrets.on('update', onSecret);
  secrets.on('delete', onSecret);

  const wakeClaim = (l: V1Lease): void => {
    const shard = l.metadata?.labels?.[SHARD_LABEL];
    if (shard !== undefined) enqueue(SHARD + shard);
    const smsc = l.metadata?.annotations?.[SMSC_ANNOTATION];
    if (smsc !== undefined) enqueue(POLLER + smsc);
  };
  claimLeases.on('add', (l: V1Lease) => {
    claims.observe(l);
    wakeClaim(l);
  });
  claimLeases.on('delete', (l: V1Lease) => {
    claims.observeDeleted(l);
    wakeClaim(l);
  });
  claimLeases.on('update', (l: V1Lease, old: V1Lease) => {
    claims.observe(l);
    if ((l.spec?.holderIdentity ?? '') !== (old.spec?.holderIdentity ?? '')) wakeClaim(l);
  });

  memberLeases.on('add', (l: V1Lease) => membership.observeLease(l));
  memberLeases.on('update', (l: V1Lease) => membership.observeLease(l));
  memberLeases.on('delete', (l: V1Lease) => membership.observeLeaseDeleted(l));

  const onStatus: StatusListener = (kind, namespace, name) => {
    if (kind === 'SmppClientBind') {
      enqueue(CLIENT + `${namespace}/${name}`);
      return;
    }
    enqueue(SERVER + `${namespace}/${name}`);
    // Sessions came or went: this pod may now want (or no longer want) to poll for the partner.
    const b = serverGet(namespace, name);
    if (b) enqueue(POLLER + smscNameOf(b));
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
  claimLeases.start();
  memberLeases.start();
  const informers = [clients, servers, secrets, claimLeases, memberLeases];
  const ready = (async () => {
    await Promise.all(informers.map((i) => i.waitForSync()));
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
        await Promise.all(informers.map((i) => i.stop()));
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
    ownedClientBinds: () => runtime.clientKeys(),
    heldShards: () => shards.held(),
    pollingFor: () => pollers.grantedKeys(),
    stop: () => {
      stopping ??= (async () => {
        await halt();
        // Leave the membership first so the others start preferring themselves for our shards,
        // then unbind every session cleanly, let partner pumps report what they took, and only
        // then free the claims the others wait on.
        await membership.stop();
        const polled = pollers.grantedKeys();
        const ran = new Set(runtime.clientKeys());
        pollers.revokeAll();
        runtime.clearClients();
        runtime.flush();
        await Promise.all([
          runtime.allClientsStopped(unbindTimeoutMs),
          ...polled.map((k) => {
            const i = k.indexOf('/');
            const wait = o.gateway.serverPollIdle?.(k.slice(0, i), k.slice(i + 1));
            return wait
              ? Promise.race([wait, new Promise<void>((r) => setTimeout(r, unbindTimeoutMs).unref())])
              : undefined;
          }),
        ]);
        await claims.releaseAll();
        // The last word on the binds this pod ran: released, not Bound on a pod that is gone.
        // Computed from the freshest status (after a conflict, a fresh read: the informer may
        // not have our own last write yet), and only while it still names this pod, so a status
        // the next pod has written meanwhile wins. Whatever is still queued goes too, all within
        // statusFlushMs.
        const now = new Date();
        let released = 0;
        for (const b of clientList()) {
          const key = objectKey(b.metadata);
          if (!ran.has(key) || b.metadata.deletionTimestamp) continue;
          writer.writeReleasedClientStatus(b, (current) =>
            current?.gatewayPod === o.podName
              ? releasedStatus(current, o.podName, b.metadata.generation, now)
              : undefined,
          );
          released++;
        }
        const flushMs = o.statusFlushMs ?? 3_000;
        const t0 = Date.now();
        await writer.closeStatus(flushMs);
        const q = writer.statusQueue;
        log.info(
          { released, ms: Date.now() - t0, written: q.stats.written, left: q.depth + q.inFlight },
          'last statuses written',
        );
        await Promise.all(informers.map((i) => i.stop()));
        log.info('controller stopped');
      })();
      return stopping;
    },
  };
}
