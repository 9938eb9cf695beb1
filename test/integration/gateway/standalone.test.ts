// Standalone mode end to end: runGateway with a folder of manifests (live edits, invalid files
// skipped), /metrics /healthz /readyz, drain on stop; secrets never in logs or metrics; and the
// demo command with --exit.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runDemo } from '../../../src/commands/demo.js';
import { command as runCommand } from '../../../src/commands/run.js';
import { loadConfig } from '../../../src/config.js';
import { startDevCore, type DevCore } from '../../../src/devcore/index.js';
import { manifestFolderSource, runGateway, type RunningGateway } from '../../../src/gateway/index.js';
import { createLogger } from '../../../src/log.js';
import { startSmscSim, type RunningSmscSim } from '../../../src/sim/index.js';
import { CORE_TOKEN, until } from './harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const CARRIER_PW = 'SaPw-31x';
const PARTNER_PW = 'PtPw-77k';

function carrierYaml(port: number, extra = ''): string {
  return `apiVersion: v1
kind: Secret
metadata: {name: carrier}
stringData: {password: ${CARRIER_PW}}
---
apiVersion: smpp.omnimessage.io/v1alpha1
kind: SmppClientBind
metadata: {name: carrier}
spec:
  smscName: carrier_x
  host: 127.0.0.1
  port: ${port}
  systemId: carrier_x
  passwordSecretRef: {name: carrier, key: password}
  queueCheckInterval: 100
  responseTimeout: 2s
  reconnect: {minDelay: 100ms, maxDelay: 1s}
${extra}`;
}

const partnerYaml = `apiVersion: v1
kind: Secret
metadata: {name: partner}
stringData: {password: ${PARTNER_PW}}
---
apiVersion: smpp.omnimessage.io/v1alpha1
kind: SmppServerBind
metadata: {name: partner}
spec:
  systemId: partner_x
  passwordSecretRef: {name: partner, key: password}
  ipAllowlist: ["127.0.0.1"]
`;

async function start(): Promise<{
  dir: string;
  core: DevCore;
  sim: RunningSmscSim;
  gw: RunningGateway;
  logs: string[];
}> {
  const dir = await mkdtemp(join(tmpdir(), 'gw-manifests-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const core = await startDevCore({ token: CORE_TOKEN, backoffScale: 0.0005 });
  cleanups.push(() => core.close());
  const sim = await startSmscSim({ receipt: { delayMs: 10 }, log: createLogger({ level: 'silent' }) });
  cleanups.push(() => sim.close());
  await writeFile(join(dir, 'carrier.yaml'), carrierYaml(sim.smppPort));
  await writeFile(join(dir, 'partner.yaml'), partnerYaml);
  await writeFile(
    join(dir, 'broken.yaml'),
    'kind: SmppClientBind\nmetadata: {name: broken}\nspec: {port: "not a port"}\n',
  );
  const logs: string[] = [];
  const log = createLogger(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _e, cb) {
        logs.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
  const config = loadConfig({
    API_BASE_URL: core.url,
    CORE_TOKEN,
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
    SMPP_LISTEN_HOST: '127.0.0.1',
    SMPP_LISTEN_PORT: '0',
    SHUTDOWN_GRACE_SECONDS: '3',
    SMPP_POLL_INTERVAL: '50',
  });
  const gw = await runGateway(config, manifestFolderSource(dir, { debounceMs: 50, resyncMs: 0 }), {
    log,
    handleSignals: false,
  });
  cleanups.push(() => gw.stop());
  return { dir, core, sim, gw, logs };
}

describe('standalone gateway (run --manifests)', () => {
  it('runs the folder, skips invalid files, applies edits live, and serves metrics and health', async () => {
    const { dir, core, sim, gw, logs } = await start();
    const g = gw.gateway;
    await until('carrier bound', () => g.status('default', 'carrier', 'SmppClientBind')?.phase === 'Bound');
    expect(g.status('default', 'partner', 'SmppServerBind')?.phase).toBe('Pending');
    expect(logs.some((l) => l.includes('broken.yaml') && l.includes('manifest skipped'))).toBe(true);

    const id = core.store.create({
      source_msisdn: '+15550001111',
      destination_msisdn: '+447700900123',
      message_body: 'standalone',
      source_smsc: 'test',
      dest_smsc: 'carrier_x',
    }).id;
    await until('delivered', () => core.store.get(id)?.rec.status === 'delivered');

    const health = await request(`${gw.ops.url}/healthz`);
    expect(health.statusCode).toBe(200);
    await health.body.text();
    const ready = await request(`${gw.ops.url}/readyz`);
    expect(ready.statusCode).toBe(200);
    await ready.body.text();
    const metrics = await (await request(`${gw.ops.url}/metrics`)).body.text();
    expect(metrics).toMatch(/smpp_messages_sent_total\{bind_name="carrier",mode="client"[^}]*\} 1/);
    expect(metrics).toMatch(/smpp_connection_status\{bind_name="partner",mode="server"[^}]*\} 0/);

    // Live edit: suspend the carrier.
    await writeFile(join(dir, 'carrier.yaml'), carrierYaml(sim.smppPort, '  suspend: true\n'));
    await until('suspended', () => g.status('default', 'carrier', 'SmppClientBind')?.phase === 'Suspended');
    // Live removal of the partner.
    await rm(join(dir, 'partner.yaml'));
    await until('partner removed', () => g.status('default', 'partner', 'SmppServerBind') === undefined);

    // The core saw our heartbeat.
    expect(core.frontends.stats().active).toBeGreaterThanOrEqual(1);

    await gw.stop();
    await gw.done;
    const a = g.accounting();
    expect(a).toMatchObject({ taken: 1, sent: 1, inFlight: 0, reportsPending: 0 });
  });

  it('never puts passwords or the core token in logs, metrics or the heartbeat', async () => {
    const { core, gw, logs } = await start();
    const g = gw.gateway;
    await until('carrier bound', () => g.status('default', 'carrier', 'SmppClientBind')?.phase === 'Bound');
    // A failed bind and a core outage produce error logs too.
    core.unavailable = true;
    await new Promise((r) => setTimeout(r, 300));
    core.unavailable = false;
    const metrics = await (await request(`${gw.ops.url}/metrics`)).body.text();
    const heartbeats = await until('a heartbeat listing the binds', () => {
      const all = JSON.stringify(core.frontends.all());
      return all.includes('carrier_x') ? all : undefined;
    });
    for (const secret of [CARRIER_PW, PARTNER_PW, CORE_TOKEN]) {
      expect(logs.join('\n')).not.toContain(secret);
      expect(metrics).not.toContain(secret);
      expect(heartbeats).not.toContain(secret);
    }
    expect(heartbeats).toContain('carrier_x');
    expect(logs.length).toBeGreaterThan(5);
  });
});

describe('run command', () => {
  async function runWith(
    env: Record<string, string>,
    args: string[],
  ): Promise<{ code: number; err: string }> {
    const saved = { ...process.env };
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => {
      errors.push(a.map(String).join(' '));
    });
    try {
      Object.assign(process.env, env);
      const code = await runCommand.run(args);
      return { code, err: errors.join('\n') };
    } finally {
      spy.mockRestore();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  }

  it('refuses to start with a bad setting, naming it', async () => {
    const r = await runWith({ API_BASE_URL: 'http://127.0.0.1:9', SMPP_POLL_INTERVAL: 'fast' }, [
      '--manifests',
      tmpdir(),
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('SMPP_POLL_INTERVAL');
  });

  it('refuses a manifests folder that does not exist', async () => {
    const r = await runWith(
      {
        API_BASE_URL: 'http://127.0.0.1:9',
        METRICS_PORT: '0',
        SMPP_LISTEN_PORT: '0',
        SMPP_LISTEN_HOST: '127.0.0.1',
        METRICS_HOST: '127.0.0.1',
      },
      ['--manifests', join(tmpdir(), 'no-such-folder-for-gateway-test')],
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain('no-such-folder-for-gateway-test');
  });
});

describe('demo command', () => {
  it('with --exit pushes messages through, shows them delivered with receipts and an MO, and exits 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-demo-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const examples = join(process.cwd(), 'manifests', 'examples');
    await cp(examples, dir, { recursive: true });
    await rm(join(dir, 'reference'), { recursive: true, force: true });
    // Free ports: the example client bind points at 2775; point it at the simulator we start.
    const sim = await startSmscSim({ log: createLogger({ level: 'silent' }) });
    const smscPort = sim.smppPort;
    await sim.close();
    const clientYaml = join(dir, 'client-bind.yaml');
    await writeFile(
      clientYaml,
      (await readFile(clientYaml, 'utf8')).replace(/port: 2775/, `port: ${smscPort}`),
    );
    const lines: string[] = [];
    const code = await runDemo(
      {
        exit: true,
        manifests: dir,
        corePort: 0,
        smscPort,
        smscHttpPort: 0,
        metricsPort: 0,
        listenPort: 0,
        consolePort: 0,
        receiptDelayMs: 50,
      },
      (l) => lines.push(l),
    );
    const out = lines.join('\n');
    expect(out).toContain('MT: core');
    expect(code).toBe(0);
    expect(out.match(/delivered/g)?.length).toBeGreaterThanOrEqual(3);
    expect(out).toContain('GSM 7-bit');
    expect(out).toContain('UCS-2 + emoji');
    expect(out).toMatch(/long \(split\)\s+[2-9]/);
    expect(out).toContain('STOP? Réponse reçue 👍');
    expect(out).toMatch(/accounting: taken 3 = sent 3/);
    expect(out).toMatch(/metrics\s+http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(out).not.toContain('carpass1');
  });
});
