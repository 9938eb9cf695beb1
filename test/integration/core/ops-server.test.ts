import { afterEach, describe, expect, it } from 'vitest';
import { startOpsServer, type OpsServer } from '../../../src/http/ops-server.js';
import { createLogger } from '../../../src/log.js';
import { createMetrics, makeBindLabels } from '../../../src/metrics.js';

const log = createLogger({ level: 'silent' });
let ops: OpsServer | undefined;

afterEach(async () => {
  await ops?.close();
  ops = undefined;
});

describe('ops server', () => {
  it('serves /metrics in the Prometheus text format, /healthz, and /readyz from the callback', async () => {
    const m = createMetrics();
    m.connectionStatus
      .labels(
        makeBindLabels({
          namespace: 'sms',
          name: 'vf',
          mode: 'client',
          host: 'h',
          port: 2775,
          bindType: 'transceiver',
          systemId: 'u',
        }),
      )
      .set(1);
    let ready = false;
    ops = await startOpsServer({ host: '127.0.0.1', port: 0, registry: m.registry, ready: () => ready }, log);

    const metrics = await fetch(`${ops.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(await metrics.text()).toContain(
      'smpp_connection_status{bind_name="vf",mode="client",host="h",port="2775",bind_type="transceiver",system_id="u",namespace="sms"} 1',
    );
    expect((await fetch(`${ops.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${ops.url}/readyz`)).status).toBe(503);
    ready = true;
    expect((await fetch(`${ops.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${ops.url}/nope`)).status).toBe(404);
    expect((await fetch(`${ops.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('a readiness callback that throws means not ready', async () => {
    ops = await startOpsServer(
      {
        host: '127.0.0.1',
        port: 0,
        registry: createMetrics().registry,
        ready: () => Promise.reject(new Error('informer not synced')),
      },
      log,
    );
    expect((await fetch(`${ops.url}/readyz`)).status).toBe(503);
  });

  it('fails clearly when the port is taken', async () => {
    ops = await startOpsServer({ host: '127.0.0.1', port: 0, registry: createMetrics().registry }, log);
    await expect(
      startOpsServer({ host: '127.0.0.1', port: ops.port, registry: createMetrics().registry }, log),
    ).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });
});
