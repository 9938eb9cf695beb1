import { ConfigError, loadConfig, type GatewayConfig } from '../config.js';
import type { ConsoleSource } from '../console/index.js';
import { manifestFolderSource, runGateway, type DesiredStateSource } from '../gateway/index.js';
import { ManifestDirError } from '../standalone/index.js';
import { wantsHelp, type Command } from './command.js';

const usage = `Usage: smpp-operator run [--manifests DIR]

Runs the SMPP gateway: client binds to carriers, the partner listener for server binds, and
the SMS core's REST API in between. Metrics on METRICS_PORT (default 4000): /metrics,
/healthz, /readyz. SIGTERM/SIGINT drain within SHUTDOWN_GRACE_SECONDS, then exit.

Options:
  --manifests DIR   standalone mode: SmppClientBind / SmppServerBind / Secret YAML from DIR,
                    re-applied live when files change (invalid files are reported and skipped)
  -h, --help        this help

Without --manifests the gateway runs in a Kubernetes cluster and takes its binds from the
custom resources (the in-cluster controller).

Settings (environment): API_BASE_URL (required), SMPP_POLL_INTERVAL, VERIFY_SSL_PEER,
SMSC_NAME, CORE_CA_FILE, CORE_TOKEN_FILE / CORE_TOKEN, CORE_TIMEOUT_MS, CORE_CONNECTIONS, CORE_POLL_PIPELINING,
HEARTBEAT_INTERVAL_SECONDS, METRICS_HOST / METRICS_PORT, SMPP_LISTEN_HOST, SMPP_LISTEN_PORT, SMPP_MAX_CONNECTIONS, SMPP_TLS_CERT_FILE / SMPP_TLS_KEY_FILE,
SHUTDOWN_GRACE_SECONDS, LOG_LEVEL, RECEIPT_STORE (memory | redis), RECEIPT_TTL_HOURS, REDIS_URL,
REDIS_PASSWORD_FILE, REDIS_KEY_PREFIX, CONSOLE_PORT / CONSOLE_HOST (the Live Status page,
default 8087; 0 = off); in a cluster also CONSOLE_SERVICE, POD_NAME, POD_NAMESPACE, WATCH_NAMESPACES,
LEASE_DURATION_SECONDS. Each is described in README.md, "Configuration".
`;

class UsageError extends Error {}

function parseArgs(args: string[]): { manifests?: string } {
  const out: { manifests?: string } = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--manifests') {
      const v = args[++i];
      if (v === undefined || v === '') throw new UsageError('--manifests needs a folder');
      out.manifests = v;
    } else if (arg.startsWith('--manifests=')) {
      out.manifests = arg.slice('--manifests='.length);
      if (out.manifests === '') throw new UsageError('--manifests needs a folder');
    } else {
      throw new UsageError(`unknown option ${arg}`);
    }
  }
  return out;
}

/**
 * The desired-state source when no --manifests is given: the in-cluster controller
 * (src/controller) watching the custom resources, driving the same Gateway. Loaded lazily so
 * standalone mode does not pay for the Kubernetes client.
 */
function clusterSource(config: GatewayConfig): DesiredStateSource {
  return {
    name: 'kubernetes',
    async start(gateway, { log, metrics }) {
      if (config.podNamespace === undefined) {
        throw new Error(
          'POD_NAMESPACE is not set: in a cluster it comes from the downward API; without a cluster use --manifests DIR',
        );
      }
      const [{ KubeConfig }, { startController }, { clusterConsole }, { endpointSlicePeers }] =
        await Promise.all([
          import('@kubernetes/client-node'),
          import('../controller/controller.js'),
          import('../console/cluster.js'),
          import('../console/peers.js'),
        ]);
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromDefault();
      const controller = await startController({
        kubeConfig,
        gateway,
        podName: config.podName,
        podNamespace: config.podNamespace,
        namespaces: config.watchNamespaces,
        log: log.child({ component: 'controller' }),
        metrics,
      });
      let ready = false;
      void controller.ready.then(() => (ready = true));
      return {
        stop: () => controller.stop(),
        ready: () => ready,
        console: {
          defaultHost: '0.0.0.0',
          create: (): ConsoleSource =>
            clusterConsole({
              config,
              kubeConfig,
              binds: controller.binds,
              ...(config.consoleService !== undefined
                ? {
                    peers: endpointSlicePeers(
                      kubeConfig,
                      config.podNamespace as string,
                      config.consoleService,
                      log.child({ component: 'console-peers' }),
                    ),
                  }
                : {}),
              log,
            }),
        },
      };
    },
  };
}

export const command: Command = {
  name: 'run',
  summary: 'run the gateway (in a cluster, or standalone with --manifests DIR)',
  usage,
  async run(args: string[]): Promise<number> {
    if (wantsHelp(args)) {
      console.log(usage);
      return 0;
    }
    let flags: { manifests?: string };
    try {
      flags = parseArgs(args);
    } catch (err) {
      console.error(`run: ${(err as Error).message}\n\n${usage}`);
      return 2;
    }
    let config: GatewayConfig;
    try {
      config = loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) {
        console.error(`run: invalid setting ${err.message}`);
        return 2;
      }
      throw err;
    }
    let source: DesiredStateSource;
    try {
      source = flags.manifests !== undefined ? manifestFolderSource(flags.manifests) : clusterSource(config);
    } catch (err) {
      console.error(`run: ${(err as Error).message}`);
      return 1;
    }
    let running;
    try {
      running = await runGateway(config, source);
    } catch (err) {
      if (err instanceof ManifestDirError) {
        console.error(`run: ${err.message}`);
        return 1;
      }
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'EADDRINUSE' || e.code === 'EACCES') {
        console.error(`run: cannot listen (${e.message})`);
        return 1;
      }
      throw err;
    }
    await running.done;
    const a = running.gateway.accounting();
    return a.inFlight > 0 || a.reportsAbandoned > 0 ? 1 : 0;
  },
};
