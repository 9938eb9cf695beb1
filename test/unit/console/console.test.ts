import type { IncomingMessage } from 'node:http';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { ResolvedClientBind } from '../../../src/api/index.js';
import { csrfProblem, CSRF_COOKIE } from '../../../src/console/csrf.js';
import { readCounters } from '../../../src/console/local-report.js';
import { isLoopback } from '../../../src/console/net.js';
import { RuntimeOverrides } from '../../../src/console/overrides.js';
import { makeBindLabels, createMetrics } from '../../../src/metrics.js';

function req(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe('csrfProblem', () => {
  const ok = { host: 'console:8087', cookie: `a=1; ${CSRF_COOKIE}=tok123`, 'x-csrf-token': 'tok123' };
  it('accepts the header matching the cookie from the same origin', () => {
    expect(csrfProblem(req(ok))).toBeUndefined();
    expect(
      csrfProblem(req({ ...ok, origin: 'http://console:8087', 'sec-fetch-site': 'same-origin' })),
    ).toBeUndefined();
  });
  it.each([
    [{ ...ok, 'x-csrf-token': 'other' }, 'does not match'],
    [{ host: ok.host, cookie: ok.cookie }, 'missing'],
    [{ host: ok.host, 'x-csrf-token': 'tok123' }, 'missing'],
    [{ ...ok, 'sec-fetch-site': 'cross-site' }, 'cross-site'],
    [{ ...ok, origin: 'https://evil.example' }, 'another origin'],
  ])('refuses %o', (headers, problem) => {
    expect(csrfProblem(req(headers))).toContain(problem);
  });
});

describe('isLoopback', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['[::1]', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['192.0.2.1', false],
    ['evil.example', false],
  ])('%s → %s', (host, expected) => expect(isLoopback(host)).toBe(expected));
});

describe('RuntimeOverrides', () => {
  const bind: ResolvedClientBind = {
    namespace: 'ns',
    name: 'c',
    password: 'pw',
    spec: { smscName: 'c', host: 'h', port: 1, systemId: 's' } as ResolvedClientBind['spec'],
  };
  it('suspends and resumes over the file, and drops an override equal to the file', () => {
    const o = new RuntimeOverrides();
    let changes = 0;
    o.onChange(() => changes++);
    o.setSuspend('client', 'ns', 'c', true, false);
    expect(o.applyClient(bind).spec.suspend).toBe(true);
    expect(bind.spec.suspend).toBeUndefined(); // the file's bind is not modified
    expect(o.describe('client/ns/c')).toContain('runtime override');
    o.setSuspend('client', 'ns', 'c', false, false);
    expect(o.applyClient(bind)).toBe(bind);
    expect(o.describe('client/ns/c')).toBeUndefined();
    expect(changes).toBe(2);
  });
  it('reconnect gives a new token each time, on top of the annotation', () => {
    const o = new RuntimeOverrides();
    o.reconnect('ns', 'c');
    const first = o.applyClient({ ...bind, reconnectToken: 'ann' }).reconnectToken;
    o.reconnect('ns', 'c');
    const second = o.applyClient({ ...bind, reconnectToken: 'ann' }).reconnectToken;
    expect(first).toMatch(/^ann\|console-/);
    expect(second).not.toBe(first);
  });
});

describe('readCounters', () => {
  it('sums the per-bind series by bind, hot-path counts included', async () => {
    const m = createMetrics(new Registry());
    const a = makeBindLabels({
      namespace: 'ns',
      name: 'a',
      mode: 'client',
      systemId: 's',
      host: 'h',
      port: 1,
      bindType: 'transceiver',
    });
    const b = makeBindLabels({ namespace: 'ns', name: 'b', mode: 'server', systemId: 't' });
    m.hotCounter(m.messagesSent, a).inc(5);
    m.messagesReceived.labels(a).inc(2);
    m.deliveryFailures.labels(b).inc(1);
    m.hotGauge(m.inflightMessages, b).set(3);
    const c = await readCounters(m);
    expect(c.get('client/ns/a')).toEqual({ sent: 5, received: 2, failed: 0, inFlight: 0 });
    expect(c.get('server/ns/b')).toEqual({ sent: 0, received: 0, failed: 1, inFlight: 3 });
  });
});
