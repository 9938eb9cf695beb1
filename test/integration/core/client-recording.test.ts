// CoreClient against a small recording HTTP server: every call's method, path, headers and
// body must be what the SMS core reference (seeds/smsc-core-api.pt.txt) documents.
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoreClient, CoreError } from '../../../src/core/index.js';
import { createLogger, type Logger } from '../../../src/log.js';
import { createMetrics, type Metrics } from '../../../src/metrics.js';

interface Recorded {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

type Responder = (r: Recorded, res: ServerResponse) => void;

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

let server: Server;
let sockets: Set<Socket>;
let url: string;
let recorded: Recorded[];
let respond: Responder;
let client: CoreClient | undefined;
let logLines: string[];
let log: Logger;
let metrics: Metrics;

beforeEach(async () => {
  recorded = [];
  logLines = [];
  sockets = new Set();
  respond = (_r, res) => json(res, 200, { status: 'success' });
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const r = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body,
      };
      recorded.push(r);
      respond(r, res);
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  log = createLogger(
    { level: 'trace' },
    new Writable({
      write(chunk: Buffer, _e, cb) {
        logLines.push(chunk.toString());
        cb();
      },
    }),
  );
  metrics = createMetrics();
});

afterEach(async () => {
  await client?.close();
  client = undefined;
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function make(opts: Partial<ConstructorParameters<typeof CoreClient>[0]> = {}): CoreClient {
  client = new CoreClient({ baseUrl: url, timeoutMs: 1000, ...opts }, log, metrics);
  return client;
}

const msg = (id: number | string, dest: string | null) => ({
  id,
  source_msisdn: '+447700900001',
  destination_msisdn: '+447700900002',
  message_body: 'Olá',
  dest_smsc: dest,
  deliver_time: null,
  delivery_attempts: 0,
});

async function counter(name: string, labels: Record<string, string>): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

describe('CoreClient requests match the core reference', () => {
  it('poll: GET /api/messages with the SMSc header, bare-array response', async () => {
    respond = (_r, res) => json(res, 200, [msg(123, 'vodafone_uk'), msg(124, null), msg(125, 'other')]);
    const got = await make().poll('vodafone_uk');
    expect(recorded).toHaveLength(1);
    expect(recorded[0]?.method).toBe('GET');
    expect(recorded[0]?.url).toBe('/api/messages');
    expect(recorded[0]?.headers.smsc).toBe('vodafone_uk');
    expect(recorded[0]?.rawHeaders).toContain('SMSc'); // the reference's spelling
    expect(recorded[0]?.body).toBe('');
    // Only messages routed to us; ids normalised to strings; other fields untouched.
    expect(got.map((m) => m.id)).toEqual(['123']);
    expect(got[0]).toMatchObject({ message_body: 'Olá', delivery_attempts: 0, deliver_time: null });
  });

  it('poll: accepts the {status, data} envelope and can include unrouted messages', async () => {
    respond = (_r, res) => json(res, 200, { status: 'success', data: [msg('a1', 'gw'), msg(7, null)] });
    const got = await make().poll('gw', { includeUnrouted: true });
    expect(got.map((m) => m.id)).toEqual(['a1', '7']);
  });

  it('poll: skips messages without id, numbers or body and counts them', async () => {
    respond = (_r, res) =>
      json(res, 200, [msg(1, 'gw'), { id: 2, dest_smsc: 'gw' }, { ...msg(3, 'gw'), id: null }, 'junk']);
    const got = await make().poll('gw');
    expect(got.map((m) => m.id)).toEqual(['1']);
    expect(await counter('smpp_core_invalid_messages_total', {})).toBe(3);
  });

  it('poll: maps get_by_smsc spelling destination_smsc to dest_smsc', async () => {
    const { dest_smsc: _d, ...rest } = msg(9, null);
    respond = (_r, res) => json(res, 200, { status: 'success', data: [{ ...rest, destination_smsc: 'gw' }] });
    const got = await make().poll('gw');
    expect(got[0]?.dest_smsc).toBe('gw');
  });

  it('poll: a body that is neither shape is an invalid_response CoreError', async () => {
    respond = (_r, res) => json(res, 200, { status: 'success', data: { not: 'a list' } });
    const err = await make()
      .poll('gw')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreError);
    expect(err).toMatchObject({ endpoint: 'poll', outcome: 'invalid_response', temporary: true });
    expect(
      await counter('smpp_core_api_requests_total', { endpoint: 'poll', outcome: 'invalid_response' }),
    ).toBe(1);
    expect(await counter('smpp_core_api_requests_total', { endpoint: 'poll', outcome: 'success' })).toBe(0);
  });

  it('markSent: PATCH /api/messages/{id} with deliver_time, status sent and the carrier id', async () => {
    const before = Date.now();
    await make().markSent('123', 'carrier-abc');
    const r = recorded[0];
    expect(r?.method).toBe('PATCH');
    expect(r?.url).toBe('/api/messages/123');
    expect(r?.headers['content-type']).toBe('application/json');
    const body = JSON.parse(r?.body ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({ status: 'sent', smsc_message_id: 'carrier-abc' });
    expect(Date.parse(String(body.deliver_time))).toBeGreaterThanOrEqual(before - 1000);
  });

  it('returnForRetry: PUT /api/messages/{id} without a body', async () => {
    await make().returnForRetry('55', 'ESME_RTHROTTLED');
    expect(recorded[0]).toMatchObject({ method: 'PUT', url: '/api/messages/55', body: '' });
  });

  it('markFailed: PATCH status failed, deadletter, expires now, failure_reason', async () => {
    await make().markFailed('56', 'ESME_RINVDSTADR (0x0000000B)');
    const r = recorded[0];
    expect(r).toMatchObject({ method: 'PATCH', url: '/api/messages/56' });
    const body = JSON.parse(r?.body ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'failed',
      deadletter: true,
      failure_reason: 'ESME_RINVDSTADR (0x0000000B)',
    });
    expect(Number.isNaN(Date.parse(String(body.expires)))).toBe(false);
    expect(body).not.toHaveProperty('deliver_time');
  });

  it('ids are URL-encoded into the path', async () => {
    await make().returnForRetry('a/b c', 'x');
    expect(recorded[0]?.url).toBe('/api/messages/a%2Fb%20c');
  });

  it('postMessage: POST /api/messages with the documented fields; id from {status, data}', async () => {
    respond = (_r, res) => json(res, 201, { status: 'success', data: { id: 777, deliver_time: null } });
    const got = await make().postMessage({
      source_msisdn: '+447700900002',
      destination_msisdn: '12345',
      message_body: 'part one',
      source_smsc: 'vodafone_uk',
      message_part_number: 1,
      message_parts: 2,
      tp_dcs_character_set: 'gsm7',
    });
    expect(got).toEqual({ id: '777' });
    const r = recorded[0];
    expect(r).toMatchObject({ method: 'POST', url: '/api/messages' });
    expect(JSON.parse(r?.body ?? '{}')).toEqual({
      source_msisdn: '+447700900002',
      destination_msisdn: '12345',
      message_body: 'part one',
      source_smsc: 'vodafone_uk',
      message_part_number: 1,
      message_parts: 2,
      tp_dcs_character_set: 'gsm7',
    });
  });

  it('postMessage: accepts a bare {id} object; no id at all is an error', async () => {
    respond = (_r, res) => json(res, 200, { id: 'x9' });
    const c = make();
    const m = { source_msisdn: '1', destination_msisdn: '2', message_body: 'b', source_smsc: 's' };
    expect(await c.postMessage(m)).toEqual({ id: 'x9' });
    respond = (_r, res) => json(res, 200, { status: 'success', data: {} });
    await expect(c.postMessage(m)).rejects.toMatchObject({
      endpoint: 'post_message',
      outcome: 'invalid_response',
    });
  });

  it('reportReceipt: PATCH status delivered + delivered_at; failed without delivered_at', async () => {
    const c = make();
    const done = new Date('2025-10-16T10:30:00Z');
    await c.reportReceipt('10', {
      messageId: 'c1',
      state: 'DELIVRD',
      outcome: 'delivered',
      err: '000',
      doneDate: done,
    });
    await c.reportReceipt('11', { messageId: 'c2', state: 'UNDELIV', outcome: 'failed', err: '001' });
    await c.reportReceipt('12', { messageId: 'c3', state: 'ENROUTE', outcome: 'pending' });
    expect(recorded.map((r) => [r.method, r.url])).toEqual([
      ['PATCH', '/api/messages/10'],
      ['PATCH', '/api/messages/11'],
      ['PATCH', '/api/messages/12'],
    ]);
    const bodies = recorded.map((r) => JSON.parse(r.body) as Record<string, unknown>);
    expect(bodies[0]).toEqual({
      status: 'delivered',
      delivered_at: '2025-10-16T10:30:00.000Z',
      dlr_state: 'DELIVRD',
      dlr_error: '000',
      smsc_message_id: 'c1',
    });
    expect(bodies[1]).toEqual({
      status: 'failed',
      dlr_state: 'UNDELIV',
      dlr_error: '001',
      smsc_message_id: 'c2',
    });
    expect(bodies[2]).toEqual({ status: 'enroute', dlr_state: 'ENROUTE', smsc_message_id: 'c3' });
  });

  it('heartbeat: POST /api/frontends with frontend_type SMPP and a configuration string without secrets', async () => {
    await make().heartbeat({
      name: 'smpp-operator-7c9d-x2k4',
      hostname: 'smpp-operator-7c9d-x2k4',
      uptimeSeconds: 3600.7,
      configuration: {
        port: 2775,
        binds: [{ system_id: 'u1', password: 'hunter2' }],
        coreToken: 'tok',
        nested: { apiSecret: 's' },
      },
    });
    const r = recorded[0];
    expect(r).toMatchObject({ method: 'POST', url: '/api/frontends' });
    const body = JSON.parse(r?.body ?? '{}') as Record<string, unknown>;
    expect(body).toMatchObject({
      frontend_name: 'smpp-operator-7c9d-x2k4',
      frontend_type: 'SMPP',
      hostname: 'smpp-operator-7c9d-x2k4',
      uptime_seconds: 3600,
    });
    expect(body).not.toHaveProperty('ip_address');
    expect(typeof body.configuration).toBe('string');
    expect(JSON.parse(String(body.configuration))).toEqual({
      port: 2775,
      binds: [{ system_id: 'u1' }],
      nested: {},
    });
    expect(r?.body).not.toContain('hunter2');
  });

  it('status: GET /api/status returns the body', async () => {
    respond = (_r, res) => json(res, 200, { status: 'ok' });
    expect(await make().status()).toEqual({ status: 'ok' });
    expect(recorded[0]).toMatchObject({ method: 'GET', url: '/api/status' });
  });

  it('keeps a path prefix of the base URL', async () => {
    await make({ baseUrl: `${url}/smsc/` }).status();
    expect(recorded[0]?.url).toBe('/smsc/api/status');
  });
});

describe('CoreClient errors, health and metrics', () => {
  it('500 is a temporary CoreError with status; the client turns unhealthy then recovers', async () => {
    respond = (_r, res) => json(res, 500, { error: 'boom' });
    const c = make({ backoff: { minDelayMs: 1000, maxDelayMs: 1000 } });
    const downs: CoreError[] = [];
    c.on('down', (e: CoreError) => downs.push(e));
    const err = await c.markSent('1', 'c').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreError);
    expect(err).toMatchObject({
      status: 500,
      endpoint: 'mark_sent',
      temporary: true,
      outcome: 'server_error',
    });
    expect((err as Error).message).toContain('http 500');
    expect(c.healthy).toBe(false);
    expect(c.retryDelayMs()).toBeGreaterThan(0);
    expect(downs).toHaveLength(1);
    expect(await counter('smpp_core_up', {})).toBe(0);
    respond = (_r, res) => json(res, 200, []);
    await c.poll('x');
    expect(c.healthy).toBe(true);
    expect(c.retryDelayMs()).toBe(0);
    expect(await counter('smpp_core_up', {})).toBe(1);
    expect(
      await counter('smpp_core_api_requests_total', { endpoint: 'mark_sent', outcome: 'server_error' }),
    ).toBe(1);
    expect(await counter('smpp_core_api_requests_total', { endpoint: 'poll', outcome: 'success' })).toBe(1);
  });

  it('4xx is permanent except 408 and 429', async () => {
    const c = make();
    for (const [status, temporary] of [
      [400, false],
      [404, false],
      [422, false],
      [408, true],
      [429, true],
      [503, true],
    ] as const) {
      respond = (_r, res) => json(res, status, { errors: {} });
      const err = await c.markFailed('1', 'r').catch((e: unknown) => e);
      expect(err, String(status)).toMatchObject({ status, temporary });
    }
  });

  it('a core that does not answer is a temporary timeout', async () => {
    respond = () => undefined; // never answers
    const err = await make({ timeoutMs: 200 })
      .status()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ endpoint: 'status', temporary: true, outcome: 'timeout' });
    expect((err as Error).message).toContain('timeout');
    expect(await counter('smpp_core_api_requests_total', { endpoint: 'status', outcome: 'timeout' })).toBe(1);
  });

  it('connection refused is a temporary connection_error', async () => {
    // A port that was just free: listen on 0, note it, close.
    const tmp = createServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    const port = (tmp.address() as AddressInfo).port;
    await new Promise<void>((r) => tmp.close(() => r()));
    const err = await make({ baseUrl: `http://127.0.0.1:${port}` })
      .poll('x')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreError);
    expect(err).toMatchObject({ endpoint: 'poll', temporary: true, outcome: 'connection_error' });
    expect((err as Error).message).toContain('connection refused');
    expect((err as CoreError).status).toBeUndefined();
  });

  it('records a latency observation per endpoint', async () => {
    const c = make();
    await c.status();
    await c.status();
    const text = await metrics.registry.metrics();
    const count = /^smpp_core_api_request_duration_seconds_count\{endpoint="status"\} (\d+)$/m.exec(text);
    expect(count?.[1]).toBe('2');
  });

  it('sends the bearer token and never logs it', async () => {
    respond = (_r, res) => json(res, 500, 'nope');
    const c = make({ bearerToken: 's3cr3t-t0ken' });
    await c.poll('gw').catch(() => undefined);
    respond = (_r, res) => json(res, 401, 'unauthorized');
    await c.markSent('1', 'x').catch(() => undefined);
    respond = (_r, res) => json(res, 200, []);
    await c.poll('gw');
    expect(recorded.every((r) => r.headers.authorization === 'Bearer s3cr3t-t0ken')).toBe(true);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('')).not.toContain('s3cr3t-t0ken');
  });

  it('a steady 4xx is logged as a warning once, not per request', async () => {
    respond = (_r, res) => json(res, 401, { error: 'unauthorized' });
    const c = make();
    for (let i = 0; i < 5; i++) await c.poll('gw').catch(() => undefined);
    const warns = logLines
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.level === 40);
    expect(warns).toHaveLength(1);
    expect(warns[0]?.msg).toContain('http 401');
    expect(await counter('smpp_core_api_requests_total', { endpoint: 'poll', outcome: 'client_error' })).toBe(
      5,
    );
  });

  it('sends no Authorization header without a token', async () => {
    await make().status();
    expect(recorded[0]?.headers.authorization).toBeUndefined();
  });

  it('refuses calls after close', async () => {
    const c = make();
    await c.close();
    await expect(c.status()).rejects.toMatchObject({ temporary: true });
  });
});
