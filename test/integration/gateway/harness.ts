// Loopback stack for gateway tests: devcore (the core), the SMSC simulator (the carrier) and a
// Gateway in this process, with short timeouts so faults resolve quickly on a loaded machine.
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import {
  clientBindSpecSchema,
  serverBindSpecSchema,
  type ClientBindSpecInput,
  type ResolvedClientBind,
  type ResolvedServerBind,
  type ServerBindSpecInput,
} from '../../../src/api/index.js';
import { loadConfig } from '../../../src/config.js';
import { CoreClient } from '../../../src/core/index.js';
import { startDevCore, type DevCore } from '../../../src/devcore/index.js';
import { Gateway } from '../../../src/gateway/index.js';
import { createLogger, type Logger } from '../../../src/log.js';
import { createMetrics, type Metrics } from '../../../src/metrics.js';
import type { ReceiptStore } from '../../../src/receipt-store/index.js';
import { startSmscSim, type RunningSmscSim, type StartSmscSimOptions } from '../../../src/sim/index.js';
import { poll } from '../../helpers/wait.js';

export const CARRIER_PASSWORD = 'Car-9f3k';
export const PARTNER_PASSWORD = 'Prt-7q2w';
export const CORE_TOKEN = 'core-Token-x81mz';

export interface Stack {
  core: DevCore;
  sim: RunningSmscSim;
  client: CoreClient;
  gateway: Gateway;
  metrics: Metrics;
  registry: Registry;
  log: Logger;
  /** Every log line written so far (JSON). */
  logs: string[];
  close(): Promise<void>;
}

export interface StackOptions {
  sim?: StartSmscSimOptions;
  pollIntervalMs?: number;
  coreTimeoutMs?: number;
  /** The receipt store (default: the gateway's own, in memory). */
  receiptStore?: (metrics: Metrics, log: Logger) => ReceiptStore;
}

export async function startStack(o: StackOptions = {}): Promise<Stack> {
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logs.push(chunk.toString('utf8'));
      cb();
    },
  });
  const log = createLogger({ level: 'debug' }, sink);
  const core = await startDevCore({ backoffScale: 0.0005, token: CORE_TOKEN });
  const sim = await startSmscSim({
    users: [{ systemId: 'carrier1', password: CARRIER_PASSWORD }],
    receipt: { delayMs: 20 },
    log: createLogger({ level: 'silent' }),
    ...o.sim,
  });
  const registry = new Registry();
  const metrics = createMetrics(registry);
  const client = new CoreClient(
    {
      baseUrl: core.url,
      timeoutMs: o.coreTimeoutMs ?? 1000,
      bearerToken: CORE_TOKEN,
      backoff: { minDelayMs: 50, maxDelayMs: 300 },
    },
    log.child({ component: 'core' }),
    metrics,
  );
  const config = loadConfig({
    API_BASE_URL: core.url,
    CORE_TOKEN,
    SMPP_LISTEN_HOST: '127.0.0.1',
    SMPP_LISTEN_PORT: '0',
    METRICS_PORT: '0',
    SMPP_POLL_INTERVAL: String(o.pollIntervalMs ?? 20),
    HEARTBEAT_INTERVAL_SECONDS: '1',
    POD_NAME: 'gw-test',
  });
  const gateway = new Gateway({
    config,
    core: client,
    metrics,
    log,
    listener: { bindTimeoutMs: 2000, peerResponseTimeoutMs: 2000, enquireLinkIntervalMs: 1000 },
    reporter: { minDelayMs: 20, maxDelayMs: 200 },
    sessionOverrides: { responseTimeoutMs: 1500, reconnect: { minDelayMs: 50, maxDelayMs: 200 } },
    partnerReceipts: { checkDelaysMs: [50, 100, 200], tickMs: 20 },
    ...(o.receiptStore ? { receiptStore: o.receiptStore(metrics, log) } : {}),
  });
  await gateway.start();
  return {
    core,
    sim,
    client,
    gateway,
    metrics,
    registry,
    log,
    logs,
    async close() {
      await gateway.stop(2000);
      await client.close();
      await sim.close();
      await core.close();
    },
  };
}

export function clientBind(
  sim: RunningSmscSim,
  name = 'carrier1',
  spec: Partial<ClientBindSpecInput> = {},
  password = CARRIER_PASSWORD,
): ResolvedClientBind {
  const parsed = clientBindSpecSchema.parse({
    host: '127.0.0.1',
    port: sim.smppPort,
    systemId: 'carrier1',
    passwordSecretRef: { name: 'carrier1', key: 'password' },
    bindType: 'transceiver',
    queueCheckInterval: 100,
    tpsLimit: 1000,
    window: 10,
    smscName: name,
    ...spec,
  });
  return {
    namespace: 'default',
    name,
    spec: { ...parsed, smscName: parsed.smscName ?? name },
    password,
  };
}

export function serverBind(name = 'partner1', spec: Partial<ServerBindSpecInput> = {}): ResolvedServerBind {
  const parsed = serverBindSpecSchema.parse({
    systemId: 'partner1',
    passwordSecretRef: { name: 'partner1', key: 'password' },
    queueCheckInterval: 100,
    ipAllowlist: ['127.0.0.1', '::1'],
    smscName: name,
    ...spec,
  });
  return {
    namespace: 'default',
    name,
    spec: { ...parsed, smscName: parsed.smscName ?? name },
    password: PARTNER_PASSWORD,
  };
}

export function until<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  return poll(probe, { what, timeoutMs, intervalMs: 20 });
}

export function enqueue(
  core: DevCore,
  dest: string | null,
  bodies: string[],
  extra: Record<string, unknown> = {},
): number[] {
  return bodies.map(
    (body, i) =>
      core.store.create({
        source_msisdn: '+15550001111',
        destination_msisdn: `+4477009${String(i).padStart(5, '0')}`,
        message_body: body,
        source_smsc: 'test',
        dest_smsc: dest,
        ...extra,
      }).id,
  );
}

export function rec(core: DevCore, id: number): Record<string, unknown> {
  const e = core.store.get(id);
  if (!e) throw new Error(`no message ${id}`);
  return e.rec;
}

/** taken == sent + returned + failed + released, nothing in flight, every report landed. */
export async function settledAccounting(gateway: Gateway): Promise<ReturnType<Gateway['accounting']>> {
  const a = await until('accounting to settle', () => {
    const s = gateway.accounting();
    return s.inFlight === 0 && s.reportsPending === 0 && s.held === 0 ? s : undefined;
  });
  return a;
}
