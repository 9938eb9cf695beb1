// The gateway on the Redis receipt store (a real redis-server): Redis stopped mid-traffic and
// started again. MT keeps flowing while it is away; receipts that arrive meanwhile are answered
// "retry later" (the simulator resends them, as SMSCs do) and match once Redis is back; nothing
// is lost or sent twice.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis, RedisReceiptStore } from '../../../src/receipt-store/index.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { clientBind, enqueue, rec, settledAccounting, startStack, until, type Stack } from './harness.js';

let redis: TestRedis;
let stack: Stack | undefined;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.cleanup();
});
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function metric(s: Stack, name: string, labels = ''): Promise<number> {
  const text = await s.registry.metrics();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    if (labels !== '' && !line.includes(labels)) continue;
    if (line[name.length] !== '{' && line[name.length] !== ' ') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('gateway on the Redis receipt store', () => {
  it('Redis stopped mid-traffic and started again: MT goes on, receipts match once it is back', async () => {
    stack = await startStack({
      // A report that times out on a busy machine is sent again, which devcore counts as a second send.
      coreTimeoutMs: 5000,
      // Receipts come 2.5 s after the submit: the first batch's arrive while Redis is stopped.
      sim: { receipt: { delayMs: 2500, retryDelayMs: 400, retries: 200 } },
      receiptStore: (metrics, log) =>
        new RedisReceiptStore({
          client: connectRedis({ url: redis.url, commandTimeoutMs: 500 }),
          metrics,
          log,
          prefix: 'gw1:',
          // No local answers: every receipt is looked up in Redis, as on a pod that did not send it.
          recentMax: 0,
          timeoutMs: 500,
          retryMinMs: 50,
          retryMaxMs: 300,
        }),
    });
    const s = stack;
    const { core, sim, gateway } = s;
    gateway.setClientBinds([clientBind(sim, 'carrier1', { window: 20 })]);
    await until('bound', () => gateway.status('default', 'carrier1', 'SmppClientBind')?.phase === 'Bound');
    await until('store up', async () => (await metric(s, 'smpp_receipt_store_up')) === 1);

    const body = (i: number): string => `msg ${i}`;
    const first = enqueue(
      core,
      'carrier1',
      Array.from({ length: 150 }, (_, i) => body(i)),
    );
    await until('first batch sent and written to Redis', async () =>
      first.every((id) => rec(core, id).deliver_time !== null) &&
      (await metric(s, 'smpp_receipt_store_pending_writes')) === 0
        ? true
        : undefined,
    );
    expect(first.some((id) => rec(core, id).status === 'delivered')).toBe(false);

    await redis.stop();
    await until('store down', async () => (await metric(s, 'smpp_receipt_store_up')) === 0);
    // The first batch's receipts arrive now: the store cannot say, so the SMSC is asked to retry
    // (not told "unknown").
    await until('receipts refused while down', () =>
      sim.state.stats().receiptsRejected > 20 ? true : undefined,
    );
    expect(await metric(s, 'smpp_receipt_store_errors_total', 'op="lookup"')).toBeGreaterThan(0);
    expect(await metric(s, 'smpp_unmatched_receipts_total')).toBe(0);
    // MT does not wait for the store: a second batch goes out while Redis is away.
    const second = enqueue(
      core,
      'carrier1',
      Array.from({ length: 150 }, (_, i) => body(1000 + i)),
    );
    await until('second batch sent while Redis is down', () =>
      second.every((id) => rec(core, id).deliver_time !== null) ? true : undefined,
    );
    expect(await metric(s, 'smpp_receipt_store_pending_writes')).toBeGreaterThan(0);
    expect(await metric(s, 'smpp_receipt_store_up')).toBe(0);

    await redis.start();
    await until(
      'every message delivered after Redis is back',
      () => ([...first, ...second].every((id) => rec(core, id).status === 'delivered') ? true : undefined),
      60_000,
    ).catch((err: unknown) => {
      const left = second.filter((id) => rec(core, id).status !== 'delivered');
      console.log({ left: left.length, stats: sim.state.stats() });
      throw err;
    });
    const a = await settledAccounting(gateway);
    expect(a).toMatchObject({ taken: 300, sent: 300, returned: 0, failed: 0, released: 0 });
    expect(core.store.stats().duplicateSends).toBe(0);
    for (const id of [...first, ...second]) expect(core.store.get(id)?.sends).toBe(1);
    expect(sim.state.stats().submits).toBe(300);
    expect(await metric(s, 'smpp_unmatched_receipts_total')).toBe(0);
    expect(await metric(s, 'smpp_receipt_store_lost_total')).toBe(0);
    expect(await metric(s, 'smpp_receipt_store_up')).toBe(1);
  }, 120_000);
});
