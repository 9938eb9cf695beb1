/**
 * The runtime both standalone and in-cluster modes feed: a level-triggered table of client and
 * server binds, one SMPP listener for every server bind, the core heartbeat, and a drain on stop.
 *
 * Events: 'status' (kind, namespace, name, BindRuntimeStatus) whenever a bind's status changes
 * (including { phase: 'Pending' } for a bind just removed).
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { publicConfig, type GatewayConfig } from '../config.js';
import type { CoreClient } from '../core/index.js';
import { bindLogger, type Logger } from '../log.js';
import { removeBindSeries, type Metrics } from '../metrics.js';
import type { ClientSessionOptions } from '../smpp/client-session.js';
import type { CloseReason } from '../smpp/link/close-reason.js';
import {
  SmppListener,
  type BindRejection,
  type ListenerOptions,
  type ServerSessionInfo,
} from '../smpp/server-listener.js';
import { Accounting, type AccountingSnapshot } from './accounting.js';
import { PartnerReceipts, type PartnerReceiptsOptions } from './partner-receipts.js';
import type { CarrierIdMapOptions } from './carrier-id-map.js';
import { MemoryReceiptStore } from '../receipt-store/memory.js';
import type { ReceiptStore } from '../receipt-store/types.js';
import { ClientBindRunner } from './client-bind-runner.js';
import { CorePolls } from './core-polls.js';
import { Reporter, type ReporterOptions } from './reporter.js';
import { listenerEntry, ServerBindRunner } from './server-bind-runner.js';
import {
  InFlightIds,
  type BindKind,
  type BindRuntimeStatus,
  type ResolvedClientBind,
  type ResolvedServerBind,
} from './types.js';

export interface GatewayDeps {
  config: GatewayConfig;
  core: CoreClient;
  metrics: Metrics;
  log: Logger;
  /** frontend_name of the heartbeat; default POD_NAME in a cluster, SMSC_NAME standalone. */
  frontendName?: string;
  /** Listener tuning (tests: short timeouts); host/port/maxConnections/TLS come from config. */
  listener?: Partial<ListenerOptions>;
  /** false: no SMPP listener (server binds then stay Pending). Default true. */
  listen?: boolean;
  /** Limits of the default (memory) receipt store. */
  carrierIds?: CarrierIdMapOptions;
  /** Carrier ids and partner receipts (createReceiptStore); default: in this process's memory. Closed by stop(). */
  receiptStore?: ReceiptStore;
  reporter?: ReporterOptions;
  /** Extra ClientSession options for every client bind (tests: short timeouts). */
  sessionOverrides?: Partial<ClientSessionOptions>;
  /** Receipt tracking for partners' submit_sm (tests: short check delays). */
  partnerReceipts?: Omit<
    PartnerReceiptsOptions,
    'core' | 'deliver' | 'metrics' | 'log' | 'queue' | 'binds' | 'canDeliver'
  >;
}

/** One bind as this process runs it: its spec (a Secret reference, never the password) and status. */
export type BindView = { namespace: string; name: string; smscName: string; status: BindRuntimeStatus } & (
  | { kind: 'SmppClientBind'; spec: ResolvedClientBind['spec'] }
  | { kind: 'SmppServerBind'; spec: ResolvedServerBind['spec'] }
);

export interface GatewayAccounting extends AccountingSnapshot {
  /** Messages this process holds right now (taken, or waiting for the core to acknowledge a report). */
  held: number;
}

function fingerprint(x: unknown): string {
  return JSON.stringify(x);
}

function clientFingerprint(b: ResolvedClientBind): string {
  return fingerprint([b.spec, b.password, b.tlsCa ?? null, b.reconnectToken ?? null]);
}

function serverFingerprint(b: ResolvedServerBind): string {
  return fingerprint([b.spec, b.password]);
}

interface ClientSlot {
  runner: ClientBindRunner;
  fp: string;
  /** Resolves when the previous runner of this key has unbound (a carrier may allow one session). */
  after: Promise<void>;
}

export class Gateway extends EventEmitter {
  private readonly config: GatewayConfig;
  private readonly core: CoreClient;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly deps: GatewayDeps;
  private readonly clients = new Map<string, ClientSlot>();
  private readonly servers = new Map<string, { runner: ServerBindRunner; fp: string }>();
  /** Runners being stopped (removed or replaced), so stop() can wait for them too. */
  private readonly retiring = new Set<Promise<void>>();
  /** Removed client binds whose session is still unbinding. */
  private readonly unbinding = new Map<string, ClientBindRunner>();
  /** Settles when the removed bind's session is down (see clientStopped). */
  private readonly unbound = new Map<string, Promise<void>>();
  private readonly acct = new Accounting();
  private readonly inFlightIds = new InFlightIds();
  /** one core poll per smscName per interval, shared by every pump of that smscName here */
  private readonly corePolls: CorePolls;
  readonly receiptStore: ReceiptStore;
  private readonly reporter: Reporter;
  private listener: SmppListener | null = null;
  private partnerReceipts: PartnerReceipts | null = null;
  private listenerPort: number | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatSoonTimer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private reference = Math.floor(Math.random() * 0xffff);
  private started = false;
  private stopping: Promise<void> | null = null;
  private desiredServers: ResolvedServerBind[] = [];
  /** Server binds allowed to poll the core (null: all, standalone); see setServerPollers. */
  private serverPollers: Set<string> | null = null;

  constructor(deps: GatewayDeps) {
    super();
    this.deps = deps;
    this.config = deps.config;
    this.core = deps.core;
    this.metrics = deps.metrics;
    this.log = deps.log;
    this.receiptStore = deps.receiptStore ?? new MemoryReceiptStore(deps.carrierIds, deps.metrics);
    this.corePolls = new CorePolls(deps.core, this.inFlightIds);
    this.reporter = new Reporter(deps.core, deps.log.child({ component: 'reporter' }), deps.reporter);
  }

  /** Port the SMPP listener is bound to (after start), for tests that listen on port 0. */
  get smppPort(): number | undefined {
    return this.listenerPort;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.deps.listen !== false) {
      const c = this.config;
      const opts: ListenerOptions = {
        host: c.listenHost,
        port: c.listenPort,
        maxConnections: c.maxConnections,
        ...this.deps.listener,
      };
      if (c.listenTlsCertFile !== undefined && c.listenTlsKeyFile !== undefined) {
        opts.tls = { cert: readFileSync(c.listenTlsCertFile), key: readFileSync(c.listenTlsKeyFile) };
      }
      const listener = new SmppListener(opts, this.log.child({ component: 'listener' }));
      this.partnerReceipts = new PartnerReceipts({
        core: this.core,
        deliver: (key, fields) => listener.deliver(key, fields),
        queue: this.receiptStore.partnerReceipts,
        binds: () => this.servers.keys(),
        canDeliver: (key) => listener.sessions(key).some((s) => s.bindType !== 'transmitter'),
        metrics: this.metrics,
        log: this.log.child({ component: 'partner-receipts' }),
        ...this.deps.partnerReceipts,
      });
      listener.setSubmitHandler((entry, pdu) => {
        const slot = this.servers.get(entry.key);
        if (!slot) return Promise.resolve({ status: 0x08 });
        return slot.runner.onSubmit(pdu);
      });
      listener.setQueryHandler((entry, pdu) => {
        const slot = this.servers.get(entry.key);
        if (!slot) return Promise.resolve({ status: 0x08 });
        return slot.runner.onQuery(pdu);
      });
      listener.on('sessionBound', (info: ServerSessionInfo) => {
        this.servers.get(info.key)?.runner.onSessionBound(info);
        if (info.bindType !== 'transmitter') this.partnerReceipts?.poke(info.key);
      });
      listener.on('sessionClosed', (info: ServerSessionInfo, _text: string, reason: CloseReason) =>
        this.servers.get(info.key)?.runner.onSessionClosed(info, reason),
      );
      listener.on('submitThrottled', (info: ServerSessionInfo) =>
        this.servers.get(info.key)?.runner.onSubmitThrottled(),
      );
      listener.on('bindRejected', (r: BindRejection) => {
        this.metrics.listenerRejections.inc({ reason: r.code });
        for (const { runner } of this.servers.values())
          if (runner.bind.spec.systemId === r.systemId) runner.onBindRejected(r.reason, r.status);
      });
      listener.on('connectionRefused', () =>
        this.metrics.listenerRejections.inc({ reason: 'max_connections' }),
      );
      listener.on('decodeError', () => this.metrics.listenerRejections.inc({ reason: 'decode_error' }));
      listener.on('pduRefused', () => this.metrics.listenerRejections.inc({ reason: 'invalid_pdu' }));
      listener.on('unexpectedPdu', () =>
        this.metrics.listenerRejections.inc({ reason: 'unexpected_command' }),
      );
      this.listener = listener;
      this.listenerPort = (await listener.listen()).port;
      listener.setBinds(this.desiredServers.map(listenerEntry));
      // Binds given before start() wait for the listener.
      this.applyServers(this.desiredServers);
    }
    const every = this.config.heartbeatIntervalSeconds * 1000;
    void this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), every);
    this.heartbeatTimer.unref();
  }

  /** The heartbeat carries the bind list: send one soon after it changes. */
  private heartbeatSoon(): void {
    if (!this.started || this.stopping || this.heartbeatSoonTimer) return;
    this.heartbeatSoonTimer = setTimeout(() => {
      this.heartbeatSoonTimer = undefined;
      void this.heartbeat();
    }, 500);
    this.heartbeatSoonTimer.unref();
  }

  private nextReference = (): number => {
    this.reference = (this.reference + 1) & 0xffff;
    return this.reference;
  };

  // ---- desired state ------------------------------------------------------------------------

  setClientBinds(binds: ResolvedClientBind[]): void {
    if (this.stopping) return;
    const want = new Map<string, ResolvedClientBind>();
    for (const b of binds) want.set(`${b.namespace}/${b.name}`, b);
    for (const [key, slot] of this.clients) {
      if (!want.has(key)) {
        this.clients.delete(key);
        // Until it has unbound, status() still shows the removed bind's session: whoever takes
        // the bind over (another pod, after a Lease hand-off) waits for it, since carriers often
        // allow a single session per system_id.
        const runner = slot.runner;
        this.unbinding.set(key, runner);
        // Down means unbound AND every message it took reported to the core: until the core
        // has a "sent", its GET still lists the message, and the pod taking the group over
        // would send it again.
        const done = this.retire(runner, slot.after, true)
          .then(() => runner.idle())
          .then(() => {
            if (this.unbinding.get(key) === runner) this.unbinding.delete(key);
            if (this.unbound.get(key) === done) this.unbound.delete(key);
            if (!this.clients.has(key)) this.emitStatus('SmppClientBind', runner.bind, { phase: 'Pending' });
          });
        this.unbound.set(key, done);
      }
    }
    for (const [key, b] of want) {
      const fp = clientFingerprint(b);
      const slot = this.clients.get(key);
      if (slot && slot.fp === fp) continue;
      const runner = this.newClientRunner(b);
      let after: Promise<void> = Promise.resolve();
      if (slot) {
        this.log.info({ namespace: b.namespace, bind: b.name }, 'client bind changed; rebinding');
        const labelsChanged = JSON.stringify(slot.runner.labels) !== JSON.stringify(runner.labels);
        after = this.retire(slot.runner, slot.after, labelsChanged);
      } else {
        this.log.info(
          { namespace: b.namespace, bind: b.name, smscName: b.spec.smscName },
          'client bind added',
        );
      }
      this.clients.set(key, { runner, fp, after });
      void after.then(() => {
        if (this.clients.get(key)?.runner === runner && !this.stopping) runner.start();
      });
    }
    this.heartbeatSoon();
  }

  setServerBinds(binds: ResolvedServerBind[]): void {
    if (this.stopping) return;
    this.desiredServers = binds;
    if (!this.listener) return; // applied by start()
    this.listener.setBinds(binds.map(listenerEntry));
    this.applyServers(binds);
    this.heartbeatSoon();
  }

  /**
   * In a cluster, which server binds this pod polls the core for (the controller holds their
   * poller claims); null lets every server bind with a receiver session poll (standalone).
   */
  setServerPollers(keys: string[] | null): void {
    this.serverPollers = keys === null ? null : new Set(keys);
    for (const [key, { runner }] of this.servers) runner.setPollAllowed(this.pollAllowed(key));
  }

  private pollAllowed(key: string): boolean {
    return this.serverPollers === null || this.serverPollers.has(key);
  }

  /** Resolves once every message the server bind's pump took has been reported to the core. */
  serverPollIdle(namespace: string, name: string): Promise<void> {
    return this.servers.get(`${namespace}/${name}`)?.runner.idle() ?? Promise.resolve();
  }

  private applyServers(binds: ResolvedServerBind[]): void {
    const want = new Map<string, ResolvedServerBind>();
    for (const b of binds) want.set(`${b.namespace}/${b.name}`, b);
    for (const [key, slot] of this.servers) {
      if (!want.has(key)) {
        this.servers.delete(key);
        this.partnerReceipts?.dropBind(key);
        void this.retire(slot.runner, Promise.resolve(), true); // tracked in this.retiring
        this.emitStatus('SmppServerBind', slot.runner.bind, { phase: 'Pending' });
      }
    }
    for (const [key, b] of want) {
      const fp = serverFingerprint(b);
      const slot = this.servers.get(key);
      if (slot && slot.fp === fp) continue;
      if (slot) void this.retire(slot.runner, Promise.resolve(), false); // tracked in this.retiring
      const runner = new ServerBindRunner({
        bind: b,
        listener: this.listener as SmppListener,
        core: this.core,
        metrics: this.metrics,
        log: bindLogger(this.log, b.namespace, b.name).child({ mode: 'server' }),
        reporter: this.reporter,
        accounting: this.acct,
        inFlightIds: this.inFlightIds,
        corePolls: this.corePolls,
        defaultPollIntervalMs: this.config.pollIntervalMs,
        nextReference: this.nextReference,
        pollAllowed: this.pollAllowed(key),
        receipts: this.partnerReceipts,
        onStatus: (s) => {
          if (this.servers.get(key)?.runner === runner) this.emitStatus('SmppServerBind', b, s);
        },
      });
      this.servers.set(key, { runner, fp });
      runner.start();
    }
  }

  private newClientRunner(b: ResolvedClientBind): ClientBindRunner {
    const key = `${b.namespace}/${b.name}`;
    const runner: ClientBindRunner = new ClientBindRunner({
      bind: b,
      core: this.core,
      metrics: this.metrics,
      log: bindLogger(this.log, b.namespace, b.name).child({ mode: 'client' }),
      receiptStore: this.receiptStore,
      reporter: this.reporter,
      accounting: this.acct,
      inFlightIds: this.inFlightIds,
      corePolls: this.corePolls,
      defaultPollIntervalMs: this.config.pollIntervalMs,
      nextReference: this.nextReference,
      onStatus: (s) => {
        if (this.clients.get(key)?.runner === runner) this.emitStatus('SmppClientBind', b, s);
      },
      ...(this.deps.sessionOverrides ? { sessionOverrides: this.deps.sessionOverrides } : {}),
    });
    return runner;
  }

  /** Stops a runner in the background (after its predecessor); resolves when it has unbound. */
  private retire(
    runner: ClientBindRunner | ServerBindRunner,
    after: Promise<void>,
    dropSeries: boolean,
  ): Promise<void> {
    const p = after
      .then(() => runner.stop())
      .catch((err: unknown) => this.log.error({ err, bind: runner.key }, 'stopping a bind failed'))
      .then(() => {
        if (dropSeries) removeBindSeries(this.metrics, runner.labels);
      });
    this.retiring.add(p);
    void p.finally(() => this.retiring.delete(p));
    return p;
  }

  private emitStatus(kind: BindKind, b: { namespace: string; name: string }, s: BindRuntimeStatus): void {
    this.emit('status', kind, b.namespace, b.name, s);
  }

  // ---- queries ------------------------------------------------------------------------------

  status(namespace: string, name: string, kind: BindKind): BindRuntimeStatus | undefined {
    const key = `${namespace}/${name}`;
    return kind === 'SmppClientBind'
      ? (this.clients.get(key)?.runner.status() ?? this.unbinding.get(key)?.status())
      : this.servers.get(key)?.runner.status();
  }

  /**
   * Resolves once a client bind removed by setClientBinds has unbound and closed its session
   * (at once when it has none here). A Lease hand-off waits for this, since carriers often
   * allow a single session per system_id.
   */
  clientStopped(namespace: string, name: string): Promise<void> {
    return this.unbound.get(`${namespace}/${name}`) ?? Promise.resolve();
  }

  /** Every bind's spec (no password) and status: the demo and the console read this. */
  statuses(): BindView[] {
    const out: BindView[] = [];
    for (const { runner } of this.clients.values())
      out.push({
        kind: 'SmppClientBind',
        namespace: runner.bind.namespace,
        name: runner.bind.name,
        smscName: runner.bind.spec.smscName,
        spec: runner.bind.spec,
        status: runner.status(),
      });
    for (const { runner } of this.servers.values())
      out.push({
        kind: 'SmppServerBind',
        namespace: runner.bind.namespace,
        name: runner.bind.name,
        smscName: runner.bind.spec.smscName,
        spec: runner.bind.spec,
        status: runner.status(),
      });
    return out;
  }

  /** taken == sent + returned + failed + released + inFlight, for this process since start. */
  accounting(): GatewayAccounting {
    return { ...this.acct.snapshot(), held: this.inFlightIds.size };
  }

  /** True once started and not stopping (readiness). */
  get ready(): boolean {
    return this.started && !this.stopping;
  }

  // ---- heartbeat ----------------------------------------------------------------------------

  private async heartbeat(): Promise<void> {
    if (this.stopping) return;
    const configuration = {
      ...publicConfig(this.config),
      clientBinds: [...this.clients.values()].map(({ runner }) => ({
        name: runner.key,
        smscName: runner.bind.spec.smscName,
        host: runner.bind.spec.host,
        port: runner.bind.spec.port,
        bindType: runner.bind.spec.bindType,
        systemId: runner.bind.spec.systemId,
        phase: runner.status().phase,
      })),
      serverBinds: [...this.servers.values()].map(({ runner }) => ({
        name: runner.key,
        smscName: runner.bind.spec.smscName,
        systemId: runner.bind.spec.systemId,
        sessions: runner.status().sessions?.length ?? 0,
      })),
    };
    try {
      await this.core.heartbeat({
        // SMSC_NAME names a standalone gateway (the seeds' setting); in a cluster every pod
        // shares it, so each pod registers under its own name.
        name:
          this.deps.frontendName ??
          (this.config.podNamespace !== undefined ? this.config.podName : this.config.smscName),
        hostname: hostname(),
        uptimeSeconds: (Date.now() - this.startedAt) / 1000,
        configuration,
      });
    } catch (err) {
      this.log.debug({ err }, 'heartbeat failed');
    }
  }

  // ---- shutdown -----------------------------------------------------------------------------

  /**
   * Drains within graceMs: no new polls; client sessions unbind (messages still waiting for a
   * window slot are released, those awaiting a response get it or are returned);
   * deliveries to partners finish or are returned; every outcome is reported to the core
   * (retried until the deadline); the listener unbinds partner sessions and closes.
   */
  stop(graceMs: number): Promise<void> {
    this.stopping ??= this.doStop(graceMs);
    return this.stopping;
  }

  private async doStop(graceMs: number): Promise<void> {
    const deadline = Date.now() + Math.max(0, graceMs);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.heartbeatSoonTimer) clearTimeout(this.heartbeatSoonTimer);
    const before = this.acct.snapshot();
    this.log.info(
      { graceMs, inFlight: before.inFlight, reportsPending: before.reportsPending },
      'gateway draining',
    );
    const clients = [...this.clients.values()];
    const servers = [...this.servers.values()];
    // Partners: stop polling, let deliveries already queued finish while sessions are still up.
    for (const { runner } of servers) void runner.stop();
    const serverIdle = Promise.all(servers.map(({ runner }) => runner.idle()));
    await Promise.all([
      ...clients.map(({ runner, after }) => after.then(() => runner.stop())),
      ...this.retiring,
      withDeadline(serverIdle, deadline - Date.now() - Math.min(1000, graceMs / 4)),
    ]);
    this.partnerReceipts?.stop();
    if (this.listener) await this.listener.close(); // pending deliver_sm → returned, queued → released
    await this.reporter.drain(deadline);
    await this.receiptStore.close(Math.max(500, deadline - Date.now()));
    this.clients.clear();
    this.servers.clear();
    const after = this.acct.snapshot();
    const level = after.inFlight > 0 || after.reportsAbandoned > 0 ? 'error' : 'info';
    this.log[level]({ ...after }, 'gateway stopped');
  }
}

function withDeadline(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, Math.max(0, ms));
    void p.then(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
