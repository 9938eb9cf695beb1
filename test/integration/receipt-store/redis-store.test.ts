/**
 * The Redis receipt store against a real redis-server: two store instances stand for two pods.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { createMetrics, type Metrics } from '../../../src/metrics.js';
import {
  connectRedis,
  ReceiptStoreUnavailable,
  RedisReceiptStore,
  type QueuedReceipt,
  type RedisReceiptStoreOptions,
} from '../../../src/receipt-store/index.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { waitFor } from '../../helpers/wait.js';
import { makeBindLabels } from '../../../src/metrics.js';

const log = createLogger({ level: 'silent' });
let redis: TestRedis;
const stores: RedisReceiptStore[] = [];
let prefixN = 0;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.cleanup();
});
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close(200);
});

/** A store with its own metrics; `prefix` keeps tests apart in one server. */
function store(
  prefix: string,
  opts: Partial<RedisReceiptStoreOptions> = {},
): { s: RedisReceiptStore; m: Metrics } {
  const m = createMetrics();
  const s = new RedisReceiptStore({
    client: connectRedis({ url: redis.url, commandTimeoutMs: 500 }),
    metrics: m,
    log,
    prefix,
    retryMinMs: 50,
    retryMaxMs: 200,
    timeoutMs: 500,
    ...opts,
  });
  stores.push(s);
  return { s, m };
}

const prefix = (): string => `t${++prefixN}:`;

async function value(
  m: Metrics,
  name: 'receiptStoreOps' | 'receiptStoreErrors',
  op: string,
): Promise<number> {
  return (await m[name].get()).values.find((v) => v.labels.op === op)?.value ?? 0;
}

const until = (cond: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> => waitFor(cond, ms);

describe('Redis receipt store: carrier ids', () => {
  it('an id recorded on one pod is found on another, in either base, and only in its scope', async () => {
    const p = prefix();
    const a = store(p).s;
    const b = store(p).s;
    a.record('sms/vodafone', '101', ['1A2B']);
    expect(await a.flushed(5000)).toBe(true);
    expect(await b.lookup('sms/vodafone', '1a2b')).toEqual({ coreId: '101', parts: 1, key: '1a2b' });
    expect((await b.lookup('sms/vodafone', String(0x1a2b)))?.coreId).toBe('101');
    expect(await b.lookup('sms/orange', '1a2b')).toBeUndefined();
    expect(await b.lookup('other/vodafone', '1a2b')).toBeUndefined();
  });

  it('writes a burst of submit_sm_resps in a few round trips, each with the TTL', async () => {
    const p = prefix();
    const { s, m } = store(p, { ttlMs: 3_600_000 });
    await until(async () => (await m.receiptStoreUp.get()).values[0]?.value === 1);
    for (let i = 0; i < 2000; i++) s.record('sms/c', String(i), [`c${i}`]);
    expect(await s.flushed(10_000)).toBe(true);
    const trips = await value(m, 'receiptStoreOps', 'write');
    // 2000 entries at 1000 per pipeline: two round trips (not one per message).
    expect(trips).toBe(2);
    const admin = redis.admin();
    const keys = await admin.keys(`${p}c:*`);
    expect(keys).toHaveLength(2000);
    const ttl = await admin.pttl(`${p}c:{sms/c}:c7`);
    expect(ttl).toBeGreaterThan(3_500_000);
    expect(ttl).toBeLessThanOrEqual(3_600_000);
  });

  it('answers receipts for its own recent ids without a round trip', async () => {
    const { s, m } = store(prefix());
    s.record('sms/c', '5', ['abc']);
    expect(s.peek('sms/c', 'ABC')?.coreId).toBe('5');
    expect((await s.lookup('sms/c', 'abc'))?.coreId).toBe('5');
    expect(await value(m, 'receiptStoreOps', 'lookup')).toBe(0);
  });

  it('a long message: one report once every part is delivered, whichever pod gets which part', async () => {
    const p = prefix();
    const a = store(p).s;
    const b = store(p).s;
    a.record('sms/c', '77', ['p1', 'p2', 'p3']);
    expect(await a.flushed(5000)).toBe(true);
    const r1 = await b.lookup('sms/c', 'p1');
    expect(r1).toEqual({ coreId: '77', parts: 3, key: 'p1' });
    expect(await b.partOutcome('sms/c', '77', 'p1', 'delivered')).toEqual({ verdict: 'wait' });
    expect(await a.partOutcome('sms/c', '77', 'p1', 'delivered')).toEqual({ verdict: 'wait' }); // a repeat
    expect(await a.partOutcome('sms/c', '77', 'p2', 'delivered')).toEqual({ verdict: 'wait' });
    expect(await b.partOutcome('sms/c', '77', 'p3', 'delivered')).toEqual({
      verdict: 'report',
      carrierIds: ['p1', 'p2', 'p3'],
    });
    expect(await a.partOutcome('sms/c', '77', 'p3', 'delivered')).toEqual({ verdict: 'finished' });
    // The core did not take the report: the carrier's retry finishes it again.
    await a.reopen('sms/c', '77', 'p3');
    expect((await b.partOutcome('sms/c', '77', 'p3', 'delivered')).verdict).toBe('report');
  });

  it('a failed part settles the long message at once', async () => {
    const { s } = store(prefix());
    s.record('sms/c', '78', ['q1', 'q2']);
    expect(await s.partOutcome('sms/c', '78', 'q2', 'failed')).toEqual({
      verdict: 'report',
      carrierIds: ['q1', 'q2'],
    });
    expect((await s.partOutcome('sms/c', '78', 'q1', 'delivered')).verdict).toBe('finished');
  });
});

describe('Redis receipt store: Redis away', () => {
  it('buffers writes while Redis is down, retries, and writes them once it is back', async () => {
    const p = prefix();
    const { s, m } = store(p);
    const other = store(p).s;
    s.record('sms/c', '1', ['before']);
    expect(await s.flushed(5000)).toBe(true);
    await redis.stop();
    try {
      await until(async () => (await m.receiptStoreUp.get()).values[0]?.value === 0);
      for (let i = 0; i < 100; i++) s.record('sms/c', String(100 + i), [`down${i}`]);
      // Traffic does not wait: record() returned, the entries are buffered and still found locally.
      expect(s.pendingWrites).toBeGreaterThan(0);
      expect(s.peek('sms/c', 'down5')?.coreId).toBe('105');
      // Another pod cannot know, and says so instead of "unknown".
      await expect(other.lookup('sms/c', 'before')).rejects.toBeInstanceOf(ReceiptStoreUnavailable);
      await until(async () => (await value(m, 'receiptStoreErrors', 'write')) >= 2);
    } finally {
      await redis.start();
    }
    expect(await s.flushed(15_000)).toBe(true);
    await until(async () => (await m.receiptStoreUp.get()).values[0]?.value === 1);
    expect((await other.lookup('sms/c', 'before'))?.coreId).toBe('1'); // AOF kept it
    for (const i of [0, 50, 99])
      expect((await other.lookup('sms/c', `down${i}`))?.coreId).toBe(String(100 + i));
    expect((await m.receiptStoreLost.get()).values.reduce((n, v) => n + v.value, 0)).toBe(0);
  });

  it('counts what its bounded buffer cannot hold as lost', async () => {
    const { s, m } = store(prefix(), { maxBuffered: 10 });
    await redis.stop();
    try {
      for (let i = 0; i < 25; i++) s.record('sms/c', String(i), [`x${i}`]);
      expect(s.pendingWrites).toBe(10);
      const lost = (await m.receiptStoreLost.get()).values.find((v) => v.labels.kind === 'carrier_id');
      expect(lost?.value).toBe(15);
    } finally {
      await redis.start();
    }
    expect(await s.flushed(15_000)).toBe(true);
  });
});

describe('Redis receipt store: partner receipts', () => {
  const labels = makeBindLabels({ namespace: 'sms', name: 'acme', mode: 'server', systemId: 'acme' });
  const entry = (coreId: string, submittedAt = new Date()): QueuedReceipt => ({
    bindKey: 'sms/acme',
    labels,
    coreId,
    registeredDelivery: 1,
    source: { addr: '447700900001', ton: 1, npi: 1 },
    destination: { addr: '447700900002', ton: 1, npi: 1 },
    text: 'hello',
    submittedAt,
    due: Date.now(),
    checks: 0,
  });

  it('an entry queued on one pod is claimed on another, leased, and ended once', async () => {
    const p = prefix();
    const a = store(p).s.partnerReceipts;
    const b = store(p).s.partnerReceipts;
    expect(await a.add(entry('9'), 100)).toEqual([]);
    const claimed = await b.claim('sms/acme', Date.now() + 1, 10, 60_000);
    expect(claimed.map((e) => e.coreId)).toEqual(['9']);
    expect(claimed[0]?.submittedAt).toBeInstanceOf(Date);
    expect(claimed[0]?.labels).toEqual(labels);
    // Leased: nobody else gets it until the lease runs out.
    expect(await a.claim('sms/acme', Date.now() + 1, 10, 60_000)).toEqual([]);
    const e = claimed[0] as QueuedReceipt;
    e.final = { state: 'DELIVRD', err: '000', doneAt: new Date('2026-12-01T10:00:00Z') };
    e.due = Date.now() - 1;
    expect(await b.update(e)).toBe(true);
    const again = await a.claim('sms/acme', Date.now(), 10, 60_000);
    expect(again[0]?.final?.doneAt).toEqual(new Date('2026-12-01T10:00:00Z'));
    expect(await a.remove('sms/acme', '9')).toBe(true);
    expect(await b.remove('sms/acme', '9')).toBe(false);
    expect(await b.update(e)).toBe(false);
    expect(await a.count('sms/acme')).toBe(0);
  });

  it('keeps each bind within its limit, expires old entries, drops a removed bind', async () => {
    const q = store(prefix()).s.partnerReceipts;
    await q.add(entry('old', new Date(Date.now() - 3_600_000)), 3);
    await q.add(entry('a'), 3);
    await q.add(entry('b'), 3);
    const evicted = await q.add(entry('c'), 3);
    expect(evicted.map((e) => e.coreId)).toEqual(['old']);
    await q.add(entry('d', new Date(Date.now() - 7_200_000)), 10);
    expect((await q.expire('sms/acme', Date.now() - 60_000)).map((e) => e.coreId)).toEqual(['d']);
    expect(await q.count('sms/acme')).toBe(3);
    expect((await q.dropBind('sms/acme')).map((e) => e.coreId).sort()).toEqual(['a', 'b', 'c']);
    expect(await q.count('sms/acme')).toBe(0);
  });
});
