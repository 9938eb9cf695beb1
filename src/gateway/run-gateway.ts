/**
 * A whole gateway process: core client, Gateway, /metrics /healthz /readyz, signal handling and
 * a drain on the way out. Where the desired binds come from is a DesiredStateSource: a folder of
 * manifests (standalone, below) or the Kubernetes controller (in-cluster), which drives the same
 * Gateway through setClientBinds / setServerBinds.
 */
import { Registry } from 'prom-client';
import type { GatewayConfig } from '../config.js';
import { startConsole, type ConsoleServer, type ConsoleSource } from '../console/index.js';
import { RuntimeOverrides } from '../console/overrides.js';
import { standaloneConsole, type FolderState } from '../console/standalone.js';
import { CoreClient } from '../core/index.js';
import { startOpsServer, type OpsServer } from '../http/ops-server.js';
import { createLogger, type Logger } from '../log.js';
import { createMetrics, type Metrics } from '../metrics.js';
import { createReceiptStore } from '../receipt-store/index.js';
import { loadManifestDir, resolveBinds, watchManifestDir, type LoadResult } from '../standalone/index.js';
import type { WatchOptions } from '../standalone/index.js';
import { Gateway, type GatewayDeps } from './gateway.js';

export interface SourceContext {
  config: GatewayConfig;
  log: Logger;
  metrics: Metrics;
}

export interface RunningSource {
  stop(): Promise<void>;
  /** Readiness beyond the gateway's own (e.g. the controller has listed everything once). */
  ready?: () => boolean;
  /** What the console (CONSOLE_PORT) shows and how it acts, for this source. */
  console?: { defaultHost: string; create(host: string): ConsoleSource };
}

/** Feeds desired binds into the gateway until stopped. */
export interface DesiredStateSource {
  name: string;
  start(gateway: Gateway, ctx: SourceContext): Promise<RunningSource>;
}

export interface RunGatewayOptions {
  log?: Logger;
  registry?: Registry;
  /** Stop on SIGTERM / SIGINT. Default true. */
  handleSignals?: boolean;
  /** Extra Gateway dependencies (tests: short timeouts, no listener). */
  gateway?: Partial<Omit<GatewayDeps, 'config' | 'core' | 'metrics' | 'log'>>;
}

export interface RunningGateway {
  gateway: Gateway;
  core: CoreClient;
  metrics: Metrics;
  ops: OpsServer;
  /** The Live Status console, unless CONSOLE_PORT is 0. */
  console?: ConsoleServer;
  log: Logger;
  /** Drains (within SHUTDOWN_GRACE_SECONDS) and closes everything. */
  stop(reason?: string): Promise<void>;
  /** Resolves once stopped (by stop() or a signal). */
  done: Promise<void>;
}

export async function runGateway(
  config: GatewayConfig,
  source: DesiredStateSource,
  opts: RunGatewayOptions = {},
): Promise<RunningGateway> {
  const log = opts.log ?? createLogger({ level: config.logLevel });
  const registry = opts.registry ?? new Registry();
  const metrics = createMetrics(registry, { defaultMetrics: opts.registry === undefined });
  const coreOpts: ConstructorParameters<typeof CoreClient>[0] = {
    baseUrl: config.apiBaseUrl,
    timeoutMs: config.coreTimeoutMs,
    verifyTls: config.verifySslPeer,
    connections: config.coreConnections,
    pollPipelining: config.corePollPipelining,
  };
  if (config.coreCa !== undefined) coreOpts.ca = config.coreCa;
  if (config.coreToken !== undefined) coreOpts.bearerToken = config.coreToken;
  const core = new CoreClient(coreOpts, log.child({ component: 'core' }), metrics);
  const receiptStore =
    opts.gateway?.receiptStore ??
    createReceiptStore({
      config,
      metrics,
      log,
      ...(opts.gateway?.carrierIds ? { memory: opts.gateway.carrierIds } : {}),
    });
  const gateway = new Gateway({ config, core, metrics, log, ...opts.gateway, receiptStore });

  let running: RunningSource | undefined;
  let ops: OpsServer | undefined;
  let consoleServer: ConsoleServer | undefined;
  try {
    await gateway.start();
    ops = await startOpsServer(
      {
        host: config.metricsHost,
        port: config.metricsPort,
        registry,
        ready: () => gateway.ready && (running?.ready?.() ?? running !== undefined),
      },
      log,
    );
    running = await source.start(gateway, { config, log, metrics });
    if (config.consolePort !== 0 && running.console !== undefined) {
      consoleServer = await startConsole({ config, gateway, metrics, source: running.console, log }).catch(
        (err: NodeJS.ErrnoException) => {
          // The page is an aid; a port clash must not keep the gateway from moving messages.
          if (err.code !== 'EADDRINUSE' && err.code !== 'EACCES') throw err;
          log.error({ err, port: config.consolePort }, 'console not started: cannot listen on CONSOLE_PORT');
          return undefined;
        },
      );
    }
  } catch (err) {
    await running?.stop().catch(() => undefined);
    await gateway.stop(0).catch(() => undefined);
    await ops?.close();
    await core.close();
    throw err;
  }
  const opsServer = ops;
  log.info(
    {
      source: source.name,
      metrics: `${opsServer.url}/metrics`,
      smppPort: gateway.smppPort,
      console: consoleServer?.url,
    },
    'gateway running',
  );

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    log.info({ signal: sig }, 'signal received; draining');
    void stop(sig);
  };
  const stop = (reason = 'stop'): Promise<void> => {
    stopping ??= (async () => {
      if (opts.handleSignals !== false) {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
      log.info({ reason, graceSeconds: config.shutdownGraceSeconds }, 'gateway stopping');
      await running?.stop().catch((err: unknown) => log.error({ err }, 'source stop failed'));
      await consoleServer?.close();
      await gateway.stop(config.shutdownGraceSeconds * 1000);
      await opsServer.close();
      await core.close();
      resolveDone();
    })();
    return stopping;
  };
  if (opts.handleSignals !== false) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  const out: RunningGateway = { gateway, core, metrics, ops: opsServer, log, stop, done };
  if (consoleServer !== undefined) out.console = consoleServer;
  return out;
}

/**
 * Standalone mode: binds and Secrets from a folder of manifests, re-applied live on every change.
 * The console's actions are runtime overrides on top of the files (never written to them).
 */
export function manifestFolderSource(dir: string, watch: WatchOptions = {}): DesiredStateSource {
  return {
    name: `manifests:${dir}`,
    async start(gateway, { log, config }) {
      const overrides = new RuntimeOverrides();
      const folderListeners = new Set<() => void>();
      let folder: FolderState | undefined;
      let last: LoadResult | undefined;
      const apply = (result: LoadResult, first: boolean): void => {
        last = result;
        if (first) {
          for (const e of result.errors)
            log.warn(
              { file: e.file, document: e.document, kind: e.kind, name: e.name, error: e.message },
              'manifest skipped',
            );
        }
        const r = resolveBinds(result);
        for (const e of r.errors)
          log.warn(
            { kind: e.kind, namespace: e.namespace, bind: e.name, reason: e.reason, error: e.message },
            'bind cannot run',
          );
        folder = { clientBinds: result.clientBinds, serverBinds: result.serverBinds, resolved: r };
        gateway.setClientBinds(r.client.map((b) => overrides.applyClient(b)));
        gateway.setServerBinds(r.server.map((b) => overrides.applyServer(b)));
        for (const cb of folderListeners) cb();
        log.info(
          {
            dir,
            clientBinds: r.client.length,
            serverBinds: r.server.length,
            invalid: result.errors.length + r.errors.length,
          },
          'manifests applied',
        );
      };
      const baseline = await loadManifestDir(dir); // throws ManifestDirError for a missing folder
      apply(baseline, true);
      overrides.onChange(() => {
        if (last !== undefined) apply(last, false);
      });
      const watcher = watchManifestDir(dir, (result) => apply(result, false), log, { ...watch, baseline });
      return {
        stop: async () => watcher.close(),
        console: {
          // Standalone actions need no login: only this machine may reach them by default.
          defaultHost: '127.0.0.1',
          create: (host) =>
            standaloneConsole({
              config,
              dir,
              gateway,
              overrides,
              folder: () => folder,
              onFolderChange: (cb) => {
                folderListeners.add(cb);
                return () => folderListeners.delete(cb);
              },
              listenerPort: () => gateway.smppPort,
              host,
            }),
        },
      };
    },
  };
}
