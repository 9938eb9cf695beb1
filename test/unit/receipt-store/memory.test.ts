import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../src/metrics.js';
import { MemoryReceiptStore } from '../../../src/receipt-store/memory.js';
import { parseRedisUrl, redactRedisUrl } from '../../../src/receipt-store/redis-url.js';

describe('MemoryReceiptStore', () => {
  it('finds a recorded id in either base, within its scope only', async () => {
    const s = new MemoryReceiptStore();
    s.record('sms/voda', '42', ['1A2B']);
    expect(await s.lookup('sms/voda', String(0x1a2b))).toEqual({ coreId: '42', parts: 1, key: '1a2b' });
    expect(await s.lookup('other/voda', '1a2b')).toBeUndefined();
    expect(s.peek('sms/voda', '1a2b')?.coreId).toBe('42');
  });

  it('reports a long message once all parts are delivered, with every part id', async () => {
    const s = new MemoryReceiptStore();
    s.record('sms/c', '7', ['a', 'b']);
    expect((await s.lookup('sms/c', 'b'))?.parts).toBe(2);
    expect(await s.partOutcome('sms/c', '7', 'a', 'delivered')).toEqual({ verdict: 'wait' });
    expect(await s.partOutcome('sms/c', '7', 'a', 'delivered')).toEqual({ verdict: 'wait' });
    expect(await s.partOutcome('sms/c', '7', 'b', 'delivered')).toEqual({
      verdict: 'report',
      carrierIds: ['a', 'b'],
    });
    expect((await s.partOutcome('sms/c', '7', 'b', 'delivered')).verdict).toBe('finished');
    await s.reopen('sms/c', '7', 'b');
    expect((await s.partOutcome('sms/c', '7', 'b', 'delivered')).verdict).toBe('report');
  });

  it('shows itself up in smpp_receipt_store_up', async () => {
    const m = createMetrics();
    new MemoryReceiptStore({}, m);
    expect((await m.receiptStoreUp.get()).values).toEqual([{ labels: { store: 'memory' }, value: 1 }]);
  });
});

describe('REDIS_URL forms', () => {
  it.each([
    [
      'redis://r.sms.svc:6379/2',
      { topology: 'single', tls: false, nodes: [{ host: 'r.sms.svc', port: 6379 }], db: 2 },
    ],
    [
      'rediss://app@r:6380',
      { topology: 'single', tls: true, nodes: [{ host: 'r', port: 6380 }], username: 'app' },
    ],
    ['redis://[::1]', { nodes: [{ host: '::1', port: 6379 }] }],
    [
      'redis+sentinel://s1,s2:26380/mymaster?db=1',
      {
        topology: 'sentinel',
        nodes: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
        ],
        masterName: 'mymaster',
        db: 1,
      },
    ],
    [
      'rediss+cluster://n1:7000,n2:7001',
      {
        topology: 'cluster',
        tls: true,
        nodes: [
          { host: 'n1', port: 7000 },
          { host: 'n2', port: 7001 },
        ],
      },
    ],
  ])('%s', (url, want) => {
    expect(parseRedisUrl(url)).toMatchObject(want);
  });

  it('a password in the URL is read, and redacted for logs', () => {
    expect(parseRedisUrl('redis://:s3cr%40t@r:6379').password).toBe('s3cr@t');
    expect(redactRedisUrl('redis://u:s3cr%40t@r:6379')).toBe('redis://u:[REDACTED]@r:6379');
    expect(redactRedisUrl('redis://r:6379')).toBe('redis://r:6379');
  });

  it.each(['memcached://x', 'redis://', 'redis+cluster://n1/3', 'redis://r/abc'])('%s is refused', (url) => {
    expect(() => parseRedisUrl(url)).toThrow();
  });
});
