// devcore's queue semantics with a controlled clock (no sockets): the reference's GET filter,
// PUT backoff table, expiry, dead-lettering and the stats used by tests and benchmarks.
import { describe, expect, it } from 'vitest';
import { FrontendRegistry, MessageStore, ValidationError } from '../../../src/devcore/index.js';

const MIN = 60_000;

function clock(start = Date.parse('2025-10-20T19:03:00Z')) {
  const c = { t: start, now: () => c.t };
  return c;
}

const mt = (dest: string | null, n = 0) => ({
  source_msisdn: 'Acme',
  destination_msisdn: `+4477009000${n}`,
  message_body: `m${n}`,
  source_smsc: 'web-app',
  dest_smsc: dest,
});

const ids = (list: { id: number }[]) => list.map((m) => m.id);

describe('MessageStore', () => {
  it('PUT backs off 2^attempts minutes: 2, 4, 8, 16, 32, 64', () => {
    const c = clock();
    const s = new MessageStore({ now: c.now, maxAttempts: 100 });
    s.create(mt('gw'));
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const rec = s.retry(1);
      delays.push((Date.parse(String(rec?.deliver_after)) - c.t) / MIN);
      expect(rec?.delivery_attempts).toBe(i + 1);
    }
    expect(delays).toEqual([2, 4, 8, 16, 32, 64]);
  });

  it('a retried message is hidden until its deliver_after, then returned', () => {
    const c = clock();
    const s = new MessageStore({ now: c.now });
    s.create(mt('gw', 1));
    s.create(mt('gw', 2));
    s.retry(1);
    expect(ids(s.pollFor('gw'))).toEqual([2]);
    c.t += 2 * MIN - 1;
    expect(ids(s.pollFor('gw'))).toEqual([2]);
    c.t += 1;
    // Oldest first by insertion, not by when it became ready.
    expect(ids(s.pollFor('gw'))).toEqual([1, 2]);
  });

  it('backoffScale shrinks the delays for tests', () => {
    const c = clock();
    const s = new MessageStore({ now: c.now, backoffScale: 0.001 });
    s.create(mt('gw'));
    const rec = s.retry(1);
    expect(Date.parse(String(rec?.deliver_after)) - c.t).toBe(120);
  });

  it('messages expire after 24 h by default and are never returned again', () => {
    const c = clock();
    const s = new MessageStore({ now: c.now });
    s.create(mt('gw'));
    c.t += 24 * 60 * MIN - 1;
    expect(ids(s.pollFor('gw'))).toEqual([1]);
    c.t += 1;
    expect(ids(s.pollFor('gw'))).toEqual([]);
    expect(s.stats()).toMatchObject({ expired: 1, queued: 0 });
  });

  it('unrouted messages are offered to every SMSc; merged in insertion order', () => {
    const s = new MessageStore();
    s.create(mt(null, 1));
    s.create(mt('a', 2));
    s.create(mt(null, 3));
    s.create(mt('a', 4));
    expect(ids(s.pollFor('a'))).toEqual([1, 2, 3, 4]);
    expect(ids(s.pollFor('b'))).toEqual([1, 3]);
  });

  it('PATCH dest_smsc moves a message to another SMSc queue', () => {
    const s = new MessageStore();
    s.create(mt('a', 1));
    s.patch(1, { dest_smsc: 'b' });
    expect(ids(s.pollFor('a'))).toEqual([]);
    expect(ids(s.pollFor('b'))).toEqual([1]);
  });

  it('pollLimit caps one answer, oldest first', () => {
    const s = new MessageStore({ pollLimit: 2 });
    for (let i = 0; i < 5; i++) s.create(mt(i % 2 ? 'a' : null, i));
    expect(ids(s.pollFor('a'))).toEqual([1, 2]);
  });

  it('tracks in-flight, refetches and duplicate sends', () => {
    const s = new MessageStore();
    s.create(mt('a', 1));
    s.pollFor('a');
    s.pollFor('a');
    expect(s.stats()).toMatchObject({ inFlight: 1, refetches: 1 });
    s.patch(1, { deliver_time: new Date().toISOString() });
    s.patch(1, { deliver_time: new Date().toISOString() });
    expect(s.stats()).toMatchObject({ inFlight: 0, sent: 1, duplicateSends: 1 });
    expect(s.get(1)?.sends).toBe(2);
  });

  it('a sent report repeated with the same carrier id is not a second send', () => {
    const s = new MessageStore();
    s.create(mt('a', 1));
    s.pollFor('a');
    s.patch(1, { status: 'sent', deliver_time: new Date().toISOString(), smsc_message_id: 'c1' });
    s.patch(1, { status: 'sent', deliver_time: new Date().toISOString(), smsc_message_id: 'c1' });
    expect(s.stats()).toMatchObject({ sent: 1, duplicateSends: 0, repeatedReports: 1 });
    expect(s.get(1)?.sends).toBe(1);
    s.patch(1, { status: 'sent', deliver_time: new Date().toISOString(), smsc_message_id: 'c2' });
    expect(s.stats()).toMatchObject({ duplicateSends: 1, repeatedReports: 1 });
    expect(s.get(1)?.sends).toBe(2);
  });

  it('creation validates the required fields and never takes the id from input', () => {
    const s = new MessageStore();
    expect(() => s.create({ message_body: 'x' })).toThrow(ValidationError);
    const rec = s.create({ ...mt('a'), id: 999, inserted_at: 'x' });
    expect(rec.id).toBe(1);
    expect(rec.inserted_at).not.toBe('x');
    expect(s.patch(1, { id: 5 })?.id).toBe(1);
  });

  it('stats per SMSc', () => {
    const s = new MessageStore();
    s.create(mt('a', 1));
    s.create(mt('a', 2));
    s.create(mt('b', 3));
    s.patch(2, { deliver_time: new Date().toISOString() });
    s.patch(3, { status: 'failed', deadletter: true, expires: new Date().toISOString() });
    expect(s.stats().bySmsc).toEqual({
      a: { queued: 1, sent: 1, failed: 0 },
      b: { queued: 0, sent: 0, failed: 1 },
    });
  });
});

describe('FrontendRegistry', () => {
  it('extends an active registration, starts a new period after 90 s of silence', () => {
    const c = clock();
    const r = new FrontendRegistry(c.now);
    const hb = { frontend_name: 'gw', frontend_type: 'SMPP' };
    expect(r.register(hb, '10.0.0.1')).toMatchObject({ id: 1, ip_address: '10.0.0.1', status: 'active' });
    c.t += 89_000;
    expect(r.register({ ...hb, ip_address: '10.0.0.9' }, '10.0.0.1')).toMatchObject({
      id: 1,
      ip_address: '10.0.0.9',
    });
    c.t += 90_000;
    expect(r.stats()).toEqual({ active: 0, expired: 1, unique_frontends: 1 });
    expect(r.register(hb, '10.0.0.1')).toMatchObject({ id: 2, status: 'active' });
    expect(r.history('gw').map((x) => x.id)).toEqual([2, 1]);
    expect(r.register({ frontend_type: 'SMPP' }, '')).toBeInstanceOf(ValidationError);
  });

  it('the JSON poll always equals the records as they are now (its per-record cache follows PATCH and PUT)', () => {
    const c = clock();
    const s = new MessageStore({ now: c.now, backoffScale: 0 });
    for (let n = 0; n < 3; n++) s.create(mt('gw', n));
    expect(JSON.parse(s.pollForJson('gw'))).toEqual(s.pollFor('gw'));
    s.patch(2, { message_body: 'changed', smsc_message_id: 'x1' });
    s.retry(3);
    const now = JSON.parse(s.pollForJson('gw')) as {
      id: number;
      message_body: string;
      delivery_attempts?: number;
    }[];
    expect(now).toEqual(s.pollFor('gw'));
    expect(now.find((m) => m.id === 2)?.message_body).toBe('changed');
    expect(now.find((m) => m.id === 3)?.delivery_attempts).toBe(1);
    s.patch(1, { deliver_time: new Date(c.t).toISOString() });
    expect(ids(JSON.parse(s.pollForJson('gw')) as { id: number }[])).toEqual([2, 3]);
  });
});
