// CoreClient against devcore on loopback: the whole MT/MO/receipt/heartbeat cycle, core
// outages, and TLS verification with a CA generated for the test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CoreClient, CoreError } from '../../../src/core/index.js';
import { startDevCore, type DevCore, type DevCoreOptions } from '../../../src/devcore/index.js';
import { createLogger } from '../../../src/log.js';
import { createMetrics } from '../../../src/metrics.js';

const log = createLogger({ level: 'silent' });
let core: DevCore | undefined;
let client: CoreClient | undefined;

afterEach(async () => {
  await client?.close();
  client = undefined;
  await core?.close();
  core = undefined;
});

async function setup(
  devOpts: DevCoreOptions = {},
  clientOpts: Partial<ConstructorParameters<typeof CoreClient>[0]> = {},
): Promise<{ core: DevCore; client: CoreClient }> {
  core = await startDevCore({ port: 0, ...devOpts });
  client = new CoreClient({ baseUrl: core.url, timeoutMs: 2000, ...clientOpts }, log, createMetrics());
  return { core, client };
}

const mt = (dest: string | null, n: number) => ({
  source_msisdn: 'Acme',
  destination_msisdn: `+4477009${String(n).padStart(5, '0')}`,
  message_body: `hello ${n}`,
  source_smsc: 'web-app',
  dest_smsc: dest,
});

describe('CoreClient ⇄ devcore', () => {
  it('MT cycle: poll takes only our messages; markSent, returnForRetry and markFailed resolve them', async () => {
    const { core, client } = await setup({ backoffScale: 0 });
    for (let n = 0; n < 4; n++) core.store.create(mt('vodafone_uk', n));
    core.store.create(mt(null, 10)); // unrouted: not ours
    core.store.create(mt('att_us', 11));

    const got = await client.poll('vodafone_uk');
    expect(got.map((m) => m.id)).toEqual(['1', '2', '3', '4']);
    expect(got[0]).toMatchObject({
      destination_msisdn: '+447700900000',
      message_body: 'hello 0',
      dest_smsc: 'vodafone_uk',
    });

    await client.markSent('1', 'carrier-1');
    await client.markSent('2', 'carrier-2');
    await client.returnForRetry('3', 'ESME_RTHROTTLED');
    await client.markFailed('4', 'ESME_RINVDSTADR');

    expect(core.store.get(1)?.rec).toMatchObject({ status: 'sent', smsc_message_id: 'carrier-1' });
    expect(core.store.get(3)?.rec.delivery_attempts).toBe(1);
    expect(core.store.get(4)?.rec).toMatchObject({ status: 'failed', deadletter: true });
    // Only the retried one comes back (backoff scaled to 0); sent and failed ones never do.
    expect((await client.poll('vodafone_uk')).map((m) => m.id)).toEqual(['3']);
    expect(core.store.stats()).toMatchObject({ sent: 2, failed: 1, retried: 1, duplicateSends: 0 });
  });

  it('receipts update the message; MO posts come back with the core id', async () => {
    const { core, client } = await setup();
    core.store.create(mt('gw', 1));
    await client.markSent('1', 'c-1');
    await client.reportReceipt('1', { messageId: 'c-1', state: 'DELIVRD', outcome: 'delivered' });
    expect(core.store.get(1)?.rec).toMatchObject({ status: 'delivered', dlr_state: 'DELIVRD' });
    expect(core.store.stats()).toMatchObject({ delivered: 1, receipts: 1 });

    const { id } = await client.postMessage({
      source_msisdn: '+447700900123',
      destination_msisdn: '12345',
      message_body: 'STOP',
      source_smsc: 'gw',
    });
    expect(id).toBe('2');
    expect(core.store.get(2)?.rec).toMatchObject({ source_smsc: 'gw', message_body: 'STOP' });
    expect(core.store.stats().posted).toBe(1);

    const err = await client
      .postMessage({ source_msisdn: '', destination_msisdn: '1', message_body: 'x', source_smsc: 'gw' })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 422, temporary: false, endpoint: 'post_message' });
  });

  it('heartbeat registers the frontend; status answers', async () => {
    const { core, client } = await setup();
    await client.heartbeat({
      name: 'pod-a',
      hostname: 'pod-a',
      uptimeSeconds: 12,
      configuration: { smscName: 'x', password: 'p' },
    });
    const [rec] = core.frontends.active();
    expect(rec).toMatchObject({ frontend_name: 'pod-a', frontend_type: 'SMPP', uptime_seconds: 12 });
    expect(JSON.parse(rec?.configuration ?? '{}')).toEqual({ smscName: 'x' });
    expect(await client.status()).toMatchObject({ status: 'ok' });
  });

  it('startHeartbeat beats at once and on its interval, survives a failing core, stops', async () => {
    const { core, client } = await setup();
    let uptime = 0;
    core.injectFault({ mode: 'error', status: 500, path: '/api/frontends' });
    const stop = client.startHeartbeat(
      () => ({ name: 'pod-b', hostname: 'pod-b', uptimeSeconds: uptime++ }),
      50,
    );
    try {
      await expect
        .poll(() => core.frontends.heartbeats, { timeout: 10_000, interval: 20 })
        .toBeGreaterThanOrEqual(2);
    } finally {
      stop();
    }
    const after = core.frontends.heartbeats;
    await new Promise((r) => setTimeout(r, 200));
    expect(core.frontends.heartbeats - after).toBeLessThanOrEqual(1); // at most one already under way
    expect(core.requests()[0]).toMatchObject({ path: '/api/frontends', status: 500 });
  });

  it('markSent of an unknown id is a permanent 404', async () => {
    const { client } = await setup();
    await expect(client.markSent('999', 'c')).rejects.toMatchObject({ status: 404, temporary: false });
  });

  it('injected 500s and hangs are temporary; the client reports down then up', async () => {
    const { core, client } = await setup({}, { timeoutMs: 300 });
    const events: string[] = [];
    client.on('down', () => events.push('down'));
    client.on('up', () => events.push('up'));
    core.injectFault({ mode: 'error', status: 500 });
    await expect(client.poll('gw')).rejects.toMatchObject({ status: 500, temporary: true });
    core.injectFault({ mode: 'hang' });
    await expect(client.poll('gw')).rejects.toMatchObject({ outcome: 'timeout', temporary: true });
    expect(client.healthy).toBe(false);
    expect(await client.poll('gw')).toEqual([]);
    expect(events).toEqual(['down', 'up']);
  });

  it('a core that goes away is connection_error; the same client works when it returns', async () => {
    const { core, client } = await setup();
    core.store.create(mt('gw', 1));
    await core.down();
    const err = await client.poll('gw').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreError);
    expect(err).toMatchObject({ outcome: 'connection_error', temporary: true });
    await core.up();
    expect((await client.poll('gw')).map((m) => m.id)).toEqual(['1']);
  });

  it('bearer token accepted by a devcore that requires it; wrong token is a permanent 401', async () => {
    const { core } = await setup({ token: 'right' }, { bearerToken: 'right' });
    expect(await client?.status()).toMatchObject({ status: 'ok' });
    const wrong = new CoreClient({ baseUrl: core.url, bearerToken: 'wrong' }, log);
    try {
      await expect(wrong.status()).rejects.toMatchObject({ status: 401, temporary: false });
    } finally {
      await wrong.close();
    }
  });

  it('many concurrent calls share the keep-alive pool', async () => {
    // A generous timeout: this is about queueing 2000 calls on 64 connections, not about speed.
    const { core, client } = await setup({}, { timeoutMs: 30_000 });
    const n = 2000;
    for (let i = 0; i < n; i++) core.store.create(mt('gw', i));
    const msgs = await client.poll('gw');
    expect(msgs).toHaveLength(n);
    await Promise.all(msgs.map((m) => client.markSent(m.id, 'c' + m.id)));
    expect(core.store.stats()).toMatchObject({ sent: n, queued: 0, duplicateSends: 0 });
  });
});

describe('CoreClient TLS against devcore over HTTPS', () => {
  let dir: string;
  let cert: string;
  let key: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'core-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=devcore-test',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    key = readFileSync(join(dir, 'key.pem'), 'utf8');
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rejects an unknown certificate by default (a temporary connection error)', async () => {
    const { client } = await setup({ tls: { cert, key } });
    expect(client.baseUrl.startsWith('https://')).toBe(true);
    await expect(client.status()).rejects.toMatchObject({ outcome: 'connection_error', temporary: true });
  });

  it('trusts it with the CA given', async () => {
    const { client } = await setup({ tls: { cert, key } }, { ca: cert });
    expect(await client.status()).toMatchObject({ status: 'ok' });
  });

  it('accepts it with verifyTls false', async () => {
    const { client } = await setup({ tls: { cert, key } }, { verifyTls: false });
    expect(await client.status()).toMatchObject({ status: 'ok' });
  });
});
