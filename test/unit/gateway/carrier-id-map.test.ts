import { describe, expect, it } from 'vitest';
import { CarrierIdMap, variants } from '../../../src/gateway/carrier-id-map.js';

describe('CarrierIdMap', () => {
  it('maps a carrier id to the core id within its smscName scope only', () => {
    const m = new CarrierIdMap();
    m.set('vodafone', 'abc123', '42');
    expect(m.lookup('vodafone', 'abc123')?.coreId).toBe('42');
    expect(m.lookup('orange', 'abc123')).toBeUndefined();
  });

  it('matches ids written in the other base, case or with leading zeros', () => {
    const m = new CarrierIdMap();
    m.set('c', '1A2B', '1'); // hex in submit_sm_resp
    m.set('c', '0000123', '2'); // zero-padded decimal
    expect(m.lookup('c', String(0x1a2b))?.coreId).toBe('1'); // decimal in the receipt text
    expect(m.lookup('c', '1a2b')?.coreId).toBe('1');
    expect(m.lookup('c', '123')?.coreId).toBe('2');
    expect(m.lookup('c', (123).toString(16))?.coreId).toBe('2');
    expect(m.lookup('c', 'ffff')).toBeUndefined();
  });

  it('prefers the exact id over a base conversion', () => {
    const m = new CarrierIdMap();
    m.set('c', '10', 'decimal-ten');
    m.set('c', 'a', 'hex-a');
    expect(m.lookup('c', '10')?.coreId).toBe('decimal-ten');
    expect(m.lookup('c', 'a')?.coreId).toBe('hex-a');
    expect(variants('10')).toEqual(['10', 'a', '16']);
  });

  it('forgets entries after the TTL', () => {
    let now = 1000;
    const m = new CarrierIdMap({ ttlMs: 500, now: () => now });
    m.set('c', 'x1', '1');
    now += 499;
    expect(m.lookup('c', 'x1')?.coreId).toBe('1');
    now += 2;
    expect(m.lookup('c', 'x1')).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it('stays within maxEntries, dropping the oldest', () => {
    const m = new CarrierIdMap({ maxEntries: 100 });
    for (let i = 0; i < 1000; i++) m.set('c', `id${i}`, String(i));
    expect(m.size).toBe(100);
    expect(m.evicted).toBe(900);
    expect(m.lookup('c', 'id0')).toBeUndefined();
    expect(m.lookup('c', 'id999')?.coreId).toBe('999');
  });

  it('expired entries are pruned as new ones arrive', () => {
    let now = 0;
    const m = new CarrierIdMap({ ttlMs: 10, now: () => now });
    for (let i = 0; i < 50; i++) m.set('c', `old${i}`, String(i));
    now = 100;
    m.set('c', 'new', 'n');
    expect(m.size).toBe(1);
    expect(m.expired).toBe(50);
  });
});
