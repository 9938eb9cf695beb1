import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  BIND_LABEL_NAMES,
  createMetrics,
  makeBindLabels,
  removeBindSeries,
  type BindLabels,
} from '../../src/metrics.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A small parser of the Prometheus text exposition format: TYPE lines and samples. */
function parseExposition(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name ?? '', type ?? '');
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`unparsable exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[lm[1] ?? ''] = lm[2] ?? '';
    }
    samples.push({ name: m[1] ?? '', labels, value: Number(m[3]) });
  }
  return { types, samples };
}

const client: BindLabels = makeBindLabels({
  namespace: 'sms',
  name: 'vodafone_uk',
  mode: 'client',
  host: 'smpp.vodafone.co.uk',
  port: 2775,
  bindType: 'transceiver',
  systemId: 'user1',
});

const SEEDS: [string, string][] = [
  ['smpp_connection_status', 'gauge'],
  ['smpp_uptime_seconds', 'gauge'],
  ['smpp_messages_sent_total', 'counter'],
  ['smpp_messages_received_total', 'counter'],
  ['smpp_delivery_failures_total', 'counter'],
  ['smpp_bind_success_total', 'counter'],
  ['smpp_bind_failures_total', 'counter'],
  ['smpp_connection_attempts_total', 'counter'],
  ['smpp_disconnection_total', 'counter'],
];

describe('metrics', () => {
  it("exposes the seeds' metrics with exact names, types and bind labels", async () => {
    const m = createMetrics(new Registry());
    m.connectionStatus.labels(client).set(1);
    m.uptimeSeconds.labels(client).set(86400);
    m.messagesSent.labels(client).inc(3);
    m.messagesReceived.labels(client).inc();
    m.deliveryFailures.labels(client).inc();
    m.bindSuccess.labels(client).inc();
    m.bindFailures.labels(client).inc(2);
    m.connectionAttempts.labels(client).inc(3);
    m.disconnections.labels(client).inc();
    const { types, samples } = parseExposition(await m.registry.metrics());

    for (const [name, type] of SEEDS) {
      // prom-client prints a counter's TYPE under its full name ending in _total.
      expect(types.get(name), name).toBe(type);
      const s = samples.filter((x) => x.name === name);
      expect(s, name).toHaveLength(1);
      expect(Object.keys(s[0]?.labels ?? {}).sort(), name).toEqual([...BIND_LABEL_NAMES].sort());
      expect(s[0]?.labels, name).toEqual({
        bind_name: 'vodafone_uk',
        mode: 'client',
        host: 'smpp.vodafone.co.uk',
        port: '2775',
        bind_type: 'transceiver',
        system_id: 'user1',
        namespace: 'sms',
      });
    }
    const value = (name: string) => samples.find((x) => x.name === name)?.value;
    expect(value('smpp_connection_status')).toBe(1);
    expect(value('smpp_uptime_seconds')).toBe(86400);
    expect(value('smpp_messages_sent_total')).toBe(3);
    expect(value('smpp_bind_failures_total')).toBe(2);
  });

  it('exposes the additions with their types and labels', async () => {
    const m = createMetrics();
    m.submitLatency.labels(client).observe(0.02);
    m.inflightMessages.labels(client).set(7);
    m.throttled.labels(client).inc();
    m.messagesReturned.labels(client).inc();
    m.messagesReleased.labels(client).inc();
    m.partnerReceipts.labels({ ...client, result: 'sent' }).inc();
    m.partnerReceiptsPending.labels(client).set(1);
    m.decodeErrors.labels(client).inc();
    m.unmatchedReceipts.labels(client).inc();
    m.deliveryReceipts.labels({ ...client, outcome: 'delivered' }).inc();
    m.serverSessions.labels(client).set(2);
    m.coreApiRequests.labels({ endpoint: 'poll', outcome: 'success' }).inc();
    m.coreApiDuration.labels({ endpoint: 'poll' }).observe(0.003);
    m.coreUp.set(1);
    m.coreInvalidMessages.inc();
    m.reconcile.labels({ kind: 'SmppClientBind', result: 'success' }).inc();
    m.reconcileDuration.labels({ kind: 'SmppClientBind' }).observe(0.01);
    m.leasesHeld.set(3);
    m.listenerRejections.labels({ reason: 'bad_password' }).inc();
    const { types, samples } = parseExposition(await m.registry.metrics());

    const expected: [string, string, string[]][] = [
      ['smpp_submit_latency_seconds', 'histogram', [...BIND_LABEL_NAMES]],
      ['smpp_inflight_messages', 'gauge', [...BIND_LABEL_NAMES]],
      ['smpp_throttled_total', 'counter', [...BIND_LABEL_NAMES]],
      ['smpp_messages_returned_total', 'counter', [...BIND_LABEL_NAMES]],
      ['smpp_messages_released_total', 'counter', [...BIND_LABEL_NAMES]],
      ['smpp_partner_receipts_total', 'counter', [...BIND_LABEL_NAMES, 'result']],
      ['smpp_partner_receipts_pending', 'gauge', [...BIND_LABEL_NAMES]],
      ['smpp_decode_errors_total', 'counter', [...BIND_LABEL_NAMES]],
      ['smpp_unmatched_receipts_total', 'counter', [...BIND_LABEL_NAMES]],
      ['smpp_delivery_receipts_total', 'counter', [...BIND_LABEL_NAMES, 'outcome']],
      ['smpp_server_sessions', 'gauge', [...BIND_LABEL_NAMES]],
      ['smpp_core_api_requests_total', 'counter', ['endpoint', 'outcome']],
      ['smpp_core_api_request_duration_seconds', 'histogram', ['endpoint']],
      ['smpp_core_up', 'gauge', []],
      ['smpp_core_invalid_messages_total', 'counter', []],
      ['smpp_reconcile_total', 'counter', ['kind', 'result']],
      ['smpp_reconcile_duration_seconds', 'histogram', ['kind']],
      ['smpp_leases_held', 'gauge', []],
      ['smpp_listener_rejections_total', 'counter', ['reason']],
    ];
    for (const [name, type, labels] of expected) {
      expect(types.get(name), name).toBe(type);
      const sampleName = type === 'histogram' ? `${name}_count` : name;
      const s = samples.find((x) => x.name === sampleName);
      expect(s, name).toBeDefined();
      expect(Object.keys(s?.labels ?? {}).sort(), name).toEqual([...labels].sort());
      expect(s?.value, name).toBeGreaterThan(0);
    }
    // Every metric of ours is smpp_-prefixed (the seeds' guide misprints some as smpm_).
    for (const name of types.keys()) expect(name.startsWith('smpp_'), name).toBe(true);
  });

  it('server binds carry empty host, port and bind_type, as the seeds give them for client mode only', () => {
    expect(
      makeBindLabels({
        namespace: 'sms',
        name: 'partner_acme',
        mode: 'server',
        systemId: 'acme',
        host: 'x',
        port: 1,
        bindType: 'receiver',
      }),
    ).toEqual({
      bind_name: 'partner_acme',
      mode: 'server',
      host: '',
      port: '',
      bind_type: '',
      system_id: 'acme',
      namespace: 'sms',
    });
  });

  it('trackUptime computes smpp_uptime_seconds at scrape time; stop removes the series', async () => {
    const m = createMetrics();
    let since: Date | undefined = new Date(Date.now() - 90_500);
    const stop = m.trackUptime(client, () => since);
    const value = async () =>
      parseExposition(await m.registry.metrics()).samples.find((s) => s.name === 'smpp_uptime_seconds')
        ?.value;
    expect(await value()).toBeGreaterThanOrEqual(90);
    expect(await value()).toBeLessThan(90 + 60);
    since = undefined;
    expect(await value()).toBe(0);
    stop();
    expect(await value()).toBeUndefined();
  });

  it('removeBindSeries drops one bind and keeps the others', async () => {
    const m = createMetrics();
    const other = { ...client, bind_name: 'att_us' };
    m.connectionStatus.labels(client).set(1);
    m.connectionStatus.labels(other).set(1);
    m.messagesSent.labels(client).inc();
    m.deliveryReceipts.labels({ ...client, outcome: 'failed' }).inc();
    m.trackUptime(client, () => new Date());
    removeBindSeries(m, client);
    const { samples } = parseExposition(await m.registry.metrics());
    expect(samples.filter((s) => s.labels.bind_name === 'vodafone_uk')).toEqual([]);
    expect(samples.filter((s) => s.labels.bind_name === 'att_us')).toHaveLength(1);
  });

  it('hot-path handles add up between scrapes and reach the exposition, as direct updates do', async () => {
    const m = createMetrics();
    const sent = m.hotCounter(m.messagesSent, client);
    expect(m.hotCounter(m.messagesSent, { ...client })).toBe(sent);
    for (let i = 0; i < 5; i++) sent.inc();
    m.messagesSent.labels(client).inc(2); // a direct update to the same series is kept too
    const inflight = m.hotGauge(m.inflightMessages, client);
    inflight.set(7);
    inflight.set(3);
    const api = m.hotCounter(m.coreApiRequests, { endpoint: 'mark_sent', outcome: 'success' });
    api.inc();
    const value = (text: string, name: string): number | undefined =>
      parseExposition(text).samples.find((x) => x.name === name && x.labels.bind_name !== 'att_us')?.value;
    let text = await m.registry.metrics();
    expect(value(text, 'smpp_messages_sent_total')).toBe(7);
    expect(value(text, 'smpp_inflight_messages')).toBe(3);
    expect(value(text, 'smpp_core_api_requests_total')).toBe(1);
    sent.inc(3);
    inflight.set(0);
    text = await m.registry.metrics();
    expect(value(text, 'smpp_messages_sent_total')).toBe(10); // counted once, not again at each scrape
    expect(value(text, 'smpp_inflight_messages')).toBe(0);
  });

  it('removeBindSeries forgets the hot handles of that bind; a metric without them refuses one', async () => {
    const m = createMetrics();
    const sent = m.hotCounter(m.messagesSent, client);
    sent.inc();
    removeBindSeries(m, client);
    expect(m.hotCounter(m.messagesSent, client)).not.toBe(sent);
    const { samples } = parseExposition(await m.registry.metrics());
    expect(samples.filter((x) => x.labels.bind_name === 'vodafone_uk')).toEqual([]);
    expect(() => m.hotCounter(m.bindSuccess, client)).toThrow(/no hot-path handles/);
  });

  it('two registries do not collide; defaultMetrics adds process metrics only when asked', async () => {
    const a = createMetrics();
    const b = createMetrics(new Registry(), { defaultMetrics: true });
    expect(await a.registry.metrics()).not.toContain('process_cpu');
    expect(await b.registry.metrics()).toContain('process_cpu');
  });
});
