// The gateway under benchmark, in its own process so its CPU time is its own: one client bind
// (no TPS limit) from the core at --core into the SMPP sink at --sink-port. Prints one JSON line
// {"event":"bound"} when bound; on SIGUSR2 prints {"event":"report", ...}; SIGTERM drains and exits.
import { Registry } from 'prom-client';
import { clientBindSpecSchema } from '../../src/api/index.js';
import { loadConfig } from '../../src/config.js';
import { CoreClient } from '../../src/core/index.js';
import { Gateway } from '../../src/gateway/index.js';
import { createLogger } from '../../src/log.js';
import { createMetrics } from '../../src/metrics.js';
import { createReceiptStore } from '../../src/receipt-store/index.js';

function flag(args: string[], name: string, fallback?: string): string {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? args[i + 1] : undefined;
  if (v === undefined) {
    if (fallback === undefined) throw new Error(`--${name} is required`);
    return fallback;
  }
  return v;
}

async function main(args: string[]): Promise<void> {
  const coreUrl = flag(args, 'core');
  const sinkPort = Number(flag(args, 'sink-port'));
  const window = Number(flag(args, 'window', '100'));
  const connections = flag(args, 'core-connections', '32');
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const config = loadConfig({
    API_BASE_URL: coreUrl,
    SMPP_LISTEN_HOST: '127.0.0.1',
    SMPP_LISTEN_PORT: '0',
    METRICS_PORT: '0',
    SMPP_POLL_INTERVAL: '10',
    CORE_CONNECTIONS: connections,
    CORE_TIMEOUT_MS: '10000',
    // --redis URL: the Redis receipt store (test/bench/receipt-store.ts compares it with memory).
    ...(args.includes('--redis')
      ? {
          RECEIPT_STORE: 'redis',
          REDIS_URL: flag(args, 'redis'),
          REDIS_KEY_PREFIX: flag(args, 'redis-prefix', 'bench:'),
        }
      : {}),
  });
  const core = new CoreClient(
    { baseUrl: coreUrl, timeoutMs: config.coreTimeoutMs, connections: config.coreConnections },
    log,
    metrics,
  );
  const receiptStore = createReceiptStore({ config, metrics, log });
  const gateway = new Gateway({ config, core, metrics, log, listen: false, receiptStore });
  await gateway.start();
  const spec = clientBindSpecSchema.parse({
    host: '127.0.0.1',
    port: sinkPort,
    systemId: 'bench',
    passwordSecretRef: { name: 'bench', key: 'password' },
    bindType: 'transmitter',
    window,
    queueCheckInterval: 100,
    smscName: 'bench',
  });
  // tpsLimit 0: no limit at all (not expressible in a manifest, where 1-10000 is allowed).
  gateway.setClientBinds([
    {
      namespace: 'bench',
      name: 'bench',
      spec: { ...spec, smscName: 'bench', tpsLimit: 0 },
      password: 'bench',
    },
  ]);
  const started = Date.now();
  while (gateway.status('bench', 'bench', 'SmppClientBind')?.phase !== 'Bound') {
    if (Date.now() - started > 20_000) throw new Error('bind to the sink did not come up');
    await new Promise((r) => setTimeout(r, 20));
  }
  const print = (o: unknown): void => {
    process.stdout.write(JSON.stringify(o) + '\n');
  };
  print({ event: 'bound' });
  process.on('SIGUSR2', () => {
    void Promise.all([
      metrics.coreApiDuration.get(),
      metrics.receiptStoreOps.get(),
      metrics.receiptStoreLost.get(),
    ]).then(([h, ops, lost]) => {
      let seconds = 0;
      let requests = 0;
      for (const v of h.values) {
        if (v.metricName?.endsWith('_sum')) seconds += v.value;
        if (v.metricName?.endsWith('_count')) requests += v.value;
      }
      const cpu = process.cpuUsage();
      print({
        event: 'report',
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        coreSeconds: seconds,
        coreRequests: requests,
        // Event-loop utilisation since start: the share of time the main thread was busy.
        elu: performance.eventLoopUtilization(),
        accounting: gateway.accounting(),
        storeRoundTrips: ops.values.filter((v) => v.labels.op === 'write').reduce((n, v) => n + v.value, 0),
        storeLost: lost.values.reduce((n, v) => n + v.value, 0),
      });
    });
  });
  process.once('SIGTERM', () => {
    void gateway
      .stop(5000)
      .then(() => core.close())
      .finally(() => process.exit(0));
  });
}

main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`gateway-e2e-child: ${(err as Error).message}\n`);
  process.exit(1);
});
