// `smpp-operator run --manifests DIR` as a real process: serves /metrics, moves messages, and on
// SIGTERM mid-traffic drains (every taken message reported) and exits 0.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startDevCore, type DevCore } from '../../../src/devcore/index.js';
import { createLogger } from '../../../src/log.js';
import { startSmscSim, type RunningSmscSim } from '../../../src/sim/index.js';
import { spawnGateway, type RunningInfo } from '../../helpers/gateway-proc.js';
import { until } from './harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const PW = 'Proc-4kq';

describe('smpp-operator run --manifests as a process', () => {
  it('moves messages, serves metrics, and drains on SIGTERM mid-traffic', async () => {
    const core: DevCore = await startDevCore({ backoffScale: 0.0005 });
    cleanups.push(() => core.close());
    const sim: RunningSmscSim = await startSmscSim({
      log: createLogger({ level: 'silent' }),
      receipt: { delayMs: 10 },
    });
    cleanups.push(() => sim.close());
    sim.state.applyFaults({ delayMs: 20 }); // slow acks: some messages are mid-flight at SIGTERM
    const dir = await mkdtemp(join(tmpdir(), 'gw-proc-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(
      join(dir, 'carrier.yaml'),
      `apiVersion: v1
kind: Secret
metadata: {name: c}
stringData: {password: ${PW}}
---
apiVersion: smpp.omnimessage.io/v1alpha1
kind: SmppClientBind
metadata: {name: c}
spec: {smscName: proc, host: 127.0.0.1, port: ${sim.smppPort}, systemId: proc, passwordSecretRef: {name: c, key: password}, tpsLimit: 100, queueCheckInterval: 100}
`,
    );
    // Every chunk of output is kept: the password must be in none of it.
    const gw = spawnGateway('gw', {
      args: ['--manifests', dir],
      env: { API_BASE_URL: core.url, SHUTDOWN_GRACE_SECONDS: '5' },
      keepChunks: Infinity,
    });
    cleanups.push(() => gw.kill());
    let running: RunningInfo | undefined;
    void gw.running.then((r) => (running = r));
    const metricsUrl = await until('gateway running', () => running?.metricsUrl, 30_000).catch(
      (err: unknown) => {
        throw new Error(`${(err as Error).message}; output:\n${gw.tail(Infinity)}`);
      },
    );
    await until('bound at the simulator', () => sim.state.stats().boundSessions === 1, 20_000);
    const ids = Array.from(
      { length: 400 },
      (_, i) =>
        core.store.create({
          source_msisdn: '+15550001111',
          destination_msisdn: `+4477009${String(i).padStart(5, '0')}`,
          message_body: `proc ${i}`,
          source_smsc: 'test',
          dest_smsc: 'proc',
        }).id,
    );
    await until(
      'some sent',
      () => ids.filter((id) => core.store.get(id)?.rec.deliver_time).length >= 20,
      20_000,
    );
    const metrics = await (await request(metricsUrl)).body.text();
    expect(metrics).toMatch(/smpp_connection_status\{bind_name="c",mode="client"[^}]*\} 1/);
    expect(metrics).toContain('process_cpu_seconds_total'); // default process metrics in a real run

    gw.child.kill('SIGTERM');
    const code = await gw.exited;
    expect(code).toBe(0);
    const stopped = gw.stopped;
    if (stopped === undefined) throw new Error(`no 'gateway stopped' line; output:\n${gw.tail()}`);
    expect(stopped.inFlight).toBe(0);
    expect(stopped.reportsAbandoned).toBe(0);
    expect(stopped.taken).toBe(stopped.sent + stopped.returned + stopped.failed + stopped.released);
    const sentInCore = ids.filter((id) => core.store.get(id)?.rec.deliver_time).length;
    expect(sentInCore).toBe(stopped.sent);
    expect(sentInCore).toBeLessThan(400);
    expect(core.store.stats().retries).toBe(stopped.returned);
    expect(core.store.stats().duplicateSends).toBe(0);
    expect(gw.output.join('')).not.toContain(PW);
  });
});
