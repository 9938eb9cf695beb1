// devcore over loopback HTTP: the documented API semantics and the /devcore test controls.
import { afterEach, describe, expect, it } from 'vitest';
import { startDevCore, type DevCore, type DevCoreOptions } from '../../../src/devcore/index.js';

let core: DevCore | undefined;

afterEach(async () => {
  await core?.close();
  core = undefined;
});

async function start(opts: DevCoreOptions = {}): Promise<DevCore> {
  core = await startDevCore({ port: 0, ...opts });
  return core;
}

async function http(
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  if (!core) throw new Error('devcore not started');
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(core.url + path, {
    method,
    headers,
    body: opts.body === undefined ? null : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

type Rec = Record<string, unknown> & { id: number };
const ids = (list: unknown): number[] => (list as Rec[]).map((m) => m.id);
const poll = async (smsc: string): Promise<Rec[]> =>
  (await http('GET', '/api/messages', { headers: { SMSc: smsc } })).body as Rec[];

const mt = (dest: string | null, n = 0) => ({
  source_msisdn: 'Acme',
  destination_msisdn: `+44770090${String(n).padStart(4, '0')}`,
  message_body: `hello ${n}`,
  source_smsc: 'web-app',
  dest_smsc: dest,
});

describe('devcore /api (the core reference)', () => {
  it('POST creates a message; 422 names missing required fields', async () => {
    await start();
    const ok = await http('POST', '/api/messages', { body: mt('gw') });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({
      status: 'success',
      data: { id: 1, dest_smsc: 'gw', deliver_time: null, delivery_attempts: 0, message_body: 'hello 0' },
    });
    const data = (ok.body as { data: Rec }).data;
    // expires defaults to 24 h from now
    expect(Date.parse(String(data.expires)) - Date.now()).toBeGreaterThan(23 * 3600_000);
    const bad = await http('POST', '/api/messages', { body: { message_body: 'x' } });
    expect(bad.status).toBe(422);
    expect(Object.keys((bad.body as { errors: object }).errors).sort()).toEqual([
      'destination_msisdn',
      'source_msisdn',
      'source_smsc',
    ]);
    expect((await http('POST', '/api/messages', { body: [1, 2] })).status).toBe(400);
  });

  it('SMSc header: only messages routed to that SMSc or unrouted, oldest first, bare array', async () => {
    const c = await start();
    c.store.create(mt('a', 1));
    c.store.create(mt('b', 2));
    c.store.create(mt(null, 3));
    c.store.create(mt('a', 4));
    expect(ids(await poll('a'))).toEqual([1, 3, 4]);
    expect(ids(await poll('b'))).toEqual([2, 3]);
    expect(ids(await poll('nobody'))).toEqual([3]);
    // Without the header: everything, in the {status, data} envelope.
    const all = await http('GET', '/api/messages');
    expect(ids((all.body as { data: unknown }).data)).toEqual([1, 2, 3, 4]);
  });

  it('GET /api/messages/get_by_smsc?smsc= answers in the envelope with destination_smsc', async () => {
    const c = await start();
    c.store.create(mt('a', 1));
    c.store.create(mt('b', 2));
    const r = await http('GET', '/api/messages/get_by_smsc?smsc=a');
    expect(r.body).toMatchObject({ status: 'success', data: [{ id: 1, destination_smsc: 'a' }] });
    expect((r.body as { data: unknown[] }).data).toHaveLength(1);
  });

  it('a sent message (deliver_time set by PATCH) is never returned again; fetched ones are in flight', async () => {
    const c = await start();
    c.store.create(mt('gw', 1));
    c.store.create(mt('gw', 2));
    expect(ids(await poll('gw'))).toEqual([1, 2]);
    let stats = (await http('GET', '/devcore/stats')).body as Record<string, number>;
    expect(stats).toMatchObject({ queued: 2, inFlight: 2, sent: 0 });
    const patched = await http('PATCH', '/api/messages/1', {
      body: { status: 'sent', deliver_time: new Date().toISOString(), smsc_message_id: 'c-1' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ data: { id: 1, status: 'sent', smsc_message_id: 'c-1' } });
    // The reference has no lock: the unresolved message 2 comes back, message 1 never does.
    expect(ids(await poll('gw'))).toEqual([2]);
    stats = (await http('GET', '/devcore/stats')).body as Record<string, number>;
    expect(stats).toMatchObject({ sent: 1, queued: 1, inFlight: 1, refetches: 1, duplicateSends: 0 });
    // A second send of the same message is counted as a duplicate.
    await http('PATCH', '/api/messages/1', { body: { deliver_time: new Date().toISOString() } });
    stats = (await http('GET', '/devcore/stats')).body as Record<string, number>;
    expect(stats.duplicateSends).toBe(1);
  });

  it('lockMs option hides fetched messages from further polls', async () => {
    const c = await start({ lockMs: 60_000 });
    c.store.create(mt('gw', 1));
    expect(ids(await poll('gw'))).toEqual([1]);
    expect(ids(await poll('gw'))).toEqual([]);
    await http('PUT', '/api/messages/1'); // a retry releases it (into backoff)
    expect(c.store.get(1)?.inFlight).toBe(false);
  });

  it('PUT adds an attempt and backs off 2^attempts minutes (scaled); the message returns after it', async () => {
    const c = await start({ backoffScale: 0.001 }); // 2 min -> 120 ms
    c.store.create(mt('gw', 1));
    expect(ids(await poll('gw'))).toEqual([1]);
    const before = Date.now();
    const put = await http('PUT', '/api/messages/1');
    expect(put.status).toBe(200);
    const rec = put.body as Rec;
    expect(rec).toMatchObject({ id: 1, delivery_attempts: 1, deliver_time: null });
    const after = Date.parse(String(rec.deliver_after)) - before;
    expect(after).toBeGreaterThanOrEqual(100);
    expect(after).toBeLessThan(120 + 5_000);
    expect(ids(await poll('gw'))).toEqual([]); // backing off
    await expect.poll(async () => ids(await poll('gw')), { timeout: 10_000, interval: 50 }).toEqual([1]);
    const second = (await http('POST', '/api/messages/1/increment_delivery_attempt')).body as Rec;
    expect(second.delivery_attempts).toBe(2);
    const gap = Date.parse(String(second.deliver_after)) - Date.now();
    expect(gap).toBeGreaterThan(150); // 4 min * 0.001 = 240 ms
    const stats = (await http('GET', '/devcore/stats')).body as Record<string, number>;
    expect(stats).toMatchObject({ retried: 1, retries: 2, backingOff: 1 });
  });

  it('PUT past maxAttempts dead-letters the message', async () => {
    const c = await start({ maxAttempts: 2, backoffScale: 0 });
    c.store.create(mt('gw', 1));
    await http('PUT', '/api/messages/1');
    expect(ids(await poll('gw'))).toEqual([1]);
    const last = (await http('PUT', '/api/messages/1')).body as Rec;
    expect(last).toMatchObject({ delivery_attempts: 2, deadletter: true });
    expect(ids(await poll('gw'))).toEqual([]);
    expect(((await http('GET', '/devcore/stats')).body as Record<string, number>).failed).toBe(1);
  });

  it('PATCH failed + expires now takes a message out of the queue and counts it failed', async () => {
    const c = await start();
    c.store.create(mt('gw', 1));
    await http('PATCH', '/api/messages/1', {
      body: {
        status: 'failed',
        deadletter: true,
        expires: new Date().toISOString(),
        failure_reason: 'ESME_RINVDSTADR',
      },
    });
    expect(ids(await poll('gw'))).toEqual([]);
    expect((await http('GET', '/devcore/stats')).body).toMatchObject({ failed: 1, queued: 0 });
  });

  it('deliver_after in the future and expired messages are not returned', async () => {
    const c = await start();
    c.store.create({ ...mt('gw', 1), deliver_after: new Date(Date.now() + 3600_000).toISOString() });
    c.store.create({ ...mt('gw', 2), expires: new Date(Date.now() - 1000).toISOString() });
    c.store.create(mt('gw', 3));
    expect(ids(await poll('gw'))).toEqual([3]);
  });

  it('PATCH, PUT, GET and DELETE of an unknown id are 404; PATCH without a body is 400', async () => {
    await start();
    expect((await http('PATCH', '/api/messages/99', { body: { status: 'x' } })).status).toBe(404);
    expect((await http('PUT', '/api/messages/99')).status).toBe(404);
    expect((await http('GET', '/api/messages/abc')).status).toBe(404);
    expect((await http('DELETE', '/api/messages/99')).status).toBe(404);
    core?.store.create(mt('gw'));
    expect((await http('PATCH', '/api/messages/1')).status).toBe(400);
  });

  it('routes unrouted POSTs by longest destination prefix', async () => {
    await start({
      routes: [
        { calledPrefix: '+44', destSmsc: 'uk' },
        { calledPrefix: '+4477', destSmsc: 'uk-mobile' },
      ],
    });
    const a = await http('POST', '/api/messages', {
      body: { ...mt(null), destination_msisdn: '+447700900001' },
    });
    const b = await http('POST', '/api/messages', {
      body: { ...mt(null), destination_msisdn: '+442079460000' },
    });
    const c = await http('POST', '/api/messages', {
      body: { ...mt(null), destination_msisdn: '+33612345678' },
    });
    expect([a, b, c].map((r) => (r.body as { data: Rec }).data.dest_smsc)).toEqual(['uk-mobile', 'uk', null]);
  });

  it('POST /api/frontends registers and extends; stats and active list', async () => {
    await start();
    const body = {
      frontend_name: 'gw-1',
      frontend_type: 'SMPP',
      hostname: 'h',
      uptime_seconds: 5,
      configuration: '{}',
    };
    const first = await http('POST', '/api/frontends', { body });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      id: 1,
      frontend_name: 'gw-1',
      status: 'active',
      ip_address: '127.0.0.1',
    });
    const second = await http('POST', '/api/frontends', { body: { ...body, uptime_seconds: 35 } });
    expect(second.body).toMatchObject({ id: 1, uptime_seconds: 35 });
    expect((await http('GET', '/api/frontends/stats')).body).toEqual({
      active: 1,
      expired: 0,
      unique_frontends: 1,
    });
    expect(((await http('GET', '/api/frontends/active')).body as unknown[]).length).toBe(1);
    expect((await http('POST', '/api/frontends', { body: { frontend_name: 'x' } })).status).toBe(422);
    expect(((await http('GET', '/api/frontends/history/gw-1')).body as unknown[]).length).toBe(1);
    expect((await http('GET', '/api/frontends/1')).body).toMatchObject({ frontend_name: 'gw-1' });
    expect((await http('GET', '/api/frontends/9')).status).toBe(404);
  });

  it('GET /api/status answers', async () => {
    await start();
    expect((await http('GET', '/api/status')).body).toMatchObject({ status: 'ok' });
  });

  it('a token makes /api require the bearer header', async () => {
    await start({ token: 'tok-1' });
    expect((await http('GET', '/api/status')).status).toBe(401);
    expect((await http('GET', '/api/status', { headers: { authorization: 'Bearer tok-1' } })).status).toBe(
      200,
    );
    // the test prefix stays open
    expect((await http('GET', '/devcore/stats')).status).toBe(200);
  });
});

describe('devcore test controls', () => {
  it('bulk enqueue from a template, list, reset', async () => {
    await start();
    const r = await http('POST', '/devcore/messages', {
      body: {
        count: 3,
        dest_smsc: 'gw',
        source_msisdn: 'Acme',
        destination_msisdn: '+4477009000{n}',
        message_body: 'm{n}',
      },
    });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ count: 3, ids: [1, 2, 3] });
    const list = (await poll('gw')).map((m) => [m.destination_msisdn, m.message_body, m.source_smsc]);
    expect(list).toEqual([
      ['+44770090000', 'm0', 'devcore'],
      ['+44770090001', 'm1', 'devcore'],
      ['+44770090002', 'm2', 'devcore'],
    ]);
    const arr = await http('POST', '/devcore/messages', { body: [mt('x', 1), mt('x', 2)] });
    expect((arr.body as { count: number }).count).toBe(2);
    const one = await http('GET', '/devcore/messages/1');
    expect(one.body).toMatchObject({ id: 1, _devcore: { fetches: 1, inFlight: true } });
    expect((await http('GET', '/devcore/stats')).body).toMatchObject({ total: 5, enqueued: 5, posted: 0 });
    expect((await http('POST', '/devcore/reset')).status).toBe(204);
    expect((await http('GET', '/devcore/stats')).body).toMatchObject({ total: 0 });
    expect((await http('POST', '/devcore/messages', { body: { count: 0 } })).status).toBe(400);
  });

  it('error faults answer the next N matching requests, then normal service resumes', async () => {
    await start();
    const f = await http('POST', '/devcore/faults', {
      body: { mode: 'error', count: 2, status: 503, path: '/api/messages' },
    });
    expect(f.status).toBe(201);
    expect((await http('GET', '/api/status')).status).toBe(200); // does not match the path
    expect((await http('GET', '/api/messages', { headers: { SMSc: 'a' } })).status).toBe(503);
    expect((await http('GET', '/api/messages', { headers: { SMSc: 'a' } })).status).toBe(503);
    expect((await http('GET', '/api/messages', { headers: { SMSc: 'a' } })).status).toBe(200);
    const log = (await http('GET', '/devcore/requests')).body as {
      path: string;
      status: number;
      smsc?: string;
    }[];
    expect(log.map((r) => r.status)).toEqual([200, 503, 503, 200]);
    expect(log[1]?.smsc).toBe('a');
  });

  it('the request log keeps the last N requests in order and counts requests by route', async () => {
    const c = await start({ requestLogSize: 3 });
    c.store.create(mt('gw', 1));
    await http('GET', '/api/status');
    await poll('gw');
    await http('PUT', '/api/messages/1');
    await http('PATCH', '/api/messages/1', { body: { deliver_time: new Date().toISOString() } });
    await http('GET', '/api/messages/77');
    expect(c.requests().map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'PUT /api/messages/1 200',
      'PATCH /api/messages/1 200',
      'GET /api/messages/77 404',
    ]);
    expect(c.requestCounts()).toEqual({
      'GET /api/status 200': 1,
      'GET /api/messages 200': 1,
      'PUT /api/messages/{id} 200': 1,
      'PATCH /api/messages/{id} 200': 1,
      'GET /api/messages/{id} 404': 1,
    });
    expect(((await http('GET', '/devcore/stats')).body as { requests: object }).requests).toEqual(
      c.requestCounts(),
    );
  });

  it('hang and reset faults', async () => {
    const c = await start();
    c.injectFault({ mode: 'hang', method: 'get', path: '/api/status' });
    const hung = await fetch(c.url + '/api/status', { signal: AbortSignal.timeout(300) }).catch(
      (e: unknown) => e,
    );
    expect((hung as Error).name).toBe('TimeoutError');
    c.injectFault({ mode: 'reset' });
    const reset = await fetch(c.url + '/api/status').catch((e: unknown) => e);
    expect(reset).toBeInstanceOf(TypeError); // fetch failed: socket closed
    expect((await fetch(c.url + '/api/status')).status).toBe(200);
  });

  it('down {mode: unavailable} answers 503 until /devcore/up', async () => {
    await start();
    expect((await http('POST', '/devcore/down', { body: { mode: 'unavailable' } })).status).toBe(200);
    expect((await http('GET', '/api/status')).status).toBe(503);
    await http('POST', '/devcore/up');
    expect((await http('GET', '/api/status')).status).toBe(200);
  });

  it('down() refuses connections; up() listens again on the same port with the same store', async () => {
    const c = await start();
    c.store.create(mt('gw', 1));
    const port = c.port;
    await c.down();
    const refused = await fetch(c.url + '/api/status').catch((e: unknown) => e);
    expect(((refused as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    await c.up();
    expect(c.port).toBe(port);
    expect(ids(await poll('gw'))).toEqual([1]);
  });

  it('POST /devcore/down {forMs} refuses connections for a while, then comes back', async () => {
    const c = await start();
    expect((await http('POST', '/devcore/down', { body: { forMs: 300 } })).status).toBe(202);
    await expect
      .poll(
        async () =>
          ((await fetch(c.url + '/api/status').catch((e: unknown) => e)) as Error).cause !== undefined,
        {
          timeout: 5_000,
          interval: 20,
        },
      )
      .toBe(true);
    await expect
      .poll(async () => (await fetch(c.url + '/api/status').catch(() => undefined))?.status, {
        timeout: 10_000,
        interval: 50,
      })
      .toBe(200);
  });

  it('config changes backoff, poll limit and envelope shape at run time', async () => {
    const c = await start();
    c.store.create(mt('gw', 1));
    c.store.create(mt('gw', 2));
    const r = await http('POST', '/devcore/config', {
      body: { pollLimit: 1, pollShape: 'envelope', backoffScale: 0 },
    });
    expect(r.status).toBe(200);
    const env = (await http('GET', '/api/messages', { headers: { SMSc: 'gw' } })).body as {
      status: string;
      data: Rec[];
    };
    expect(env.status).toBe('success');
    expect(ids(env.data)).toEqual([1]);
    expect((await http('POST', '/devcore/config', { body: { maxAttempts: 0 } })).status).toBe(400);
  });
});
