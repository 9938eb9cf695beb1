import { once } from 'node:events';
import { connect as netConnect, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import smpp from 'smpp';
import { createLogger } from '../../../src/log.js';
import {
  startSmscSim,
  type RunningSmscSim,
  type StartSmscSimOptions,
  type SubmitRecord,
} from '../../../src/sim/index.js';
import { connectRaw, eventually, http, type RawClient } from './raw-client.js';

const log = createLogger({ level: 'silent' });
const USERS = [
  { systemId: 'acme', password: 's3cret' },
  { systemId: 'other', password: 'pw2' },
];

let sim: RunningSmscSim;
const clients: RawClient[] = [];
const sockets: Socket[] = [];

async function start(opts: StartSmscSimOptions = {}): Promise<RunningSmscSim> {
  sim = await startSmscSim({ users: USERS, log, receipt: { delayMs: 20 }, ...opts });
  return sim;
}

async function bound(
  type: 'transmitter' | 'receiver' | 'transceiver' = 'transceiver',
  systemId = 'acme',
): Promise<RawClient> {
  const c = await connectRaw(sim.smppPort);
  clients.push(c);
  const resp = await c.bind(type, systemId, USERS.find((u) => u.systemId === systemId)?.password ?? '');
  expect(resp.command_status).toBe(0);
  return c;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of sockets.splice(0)) s.destroy();
  await sim?.close();
});

describe('smsc-sim binds', () => {
  beforeEach(async () => {
    await start({ systemId: 'SIMSMSC' });
  });

  it('accepts configured credentials and answers with its system_id', async () => {
    const c = await connectRaw(sim.smppPort);
    clients.push(c);
    const resp = await c.bind('transceiver', 'acme', 's3cret');
    expect(resp.command).toBe('bind_transceiver_resp');
    expect(resp.command_status).toBe(0);
    expect(resp.system_id).toBe('SIMSMSC');
  });

  it('answers a wrong password with ESME_RINVPASWD and an unknown system_id with ESME_RINVSYSID', async () => {
    const a = await connectRaw(sim.smppPort);
    clients.push(a);
    expect((await a.bind('transmitter', 'acme', 'wrong')).command_status).toBe(0x0e);
    await a.closed; // the carrier hangs up after a failed bind
    const b = await connectRaw(sim.smppPort);
    clients.push(b);
    expect((await b.bind('receiver', 'nobody', 'x')).command_status).toBe(0x0f);
    const binds = await http<{ systems: { systemId: string; bindsRejected: number }[] }>(
      sim.httpPort!,
      'GET',
      '/binds',
    );
    expect(binds.body.systems.find((s) => s.systemId === 'acme')?.bindsRejected).toBe(1);
    expect(sim.state.stats().bindFailures).toBe(2);
  });

  it('rejects a second bind on a bound session with ESME_RALYBND', async () => {
    const c = await bound();
    expect((await c.bind('transceiver', 'acme', 's3cret')).command_status).toBe(0x05);
  });

  it('tracks concurrent sessions per system_id, the proof of no double bind', async () => {
    const a = await bound('transmitter');
    const b = await bound('receiver');
    let binds = sim.state.binds();
    let acme = binds.systems.find((s) => s.systemId === 'acme');
    expect(acme).toMatchObject({ active: 2, maxConcurrent: 2, bindsOk: 2 });
    expect(acme?.activeByType).toEqual({ transmitter: 1, receiver: 1, transceiver: 0 });
    a.close();
    b.close();
    await eventually(() => (sim.state.binds().systems[0]?.active === 0 ? true : undefined));
    await bound('transceiver');
    binds = sim.state.binds();
    acme = binds.systems.find((s) => s.systemId === 'acme');
    expect(acme).toMatchObject({ active: 1, maxConcurrent: 2, bindsOk: 3 });
    expect(binds.events.map((e) => e.event)).toEqual(['bound', 'bound', 'closed', 'closed', 'bound']);
    expect(binds.sessions).toHaveLength(1);
  });

  it('answers enquire_link and unbind, then closes the connection', async () => {
    const c = await bound();
    expect((await c.request('enquire_link')).command).toBe('enquire_link_resp');
    const resp = await c.request('unbind');
    expect(resp.command).toBe('unbind_resp');
    expect(resp.command_status).toBe(0);
    await c.closed;
    expect(sim.state.stats().unbinds).toBe(1);
  });

  it('answers requests before bind with ESME_RINVBNDSTS and submit_sm from a receiver too', async () => {
    const c = await connectRaw(sim.smppPort);
    clients.push(c);
    expect((await c.submit({})).command_status).toBe(0x04);
    const rx = await bound('receiver');
    expect((await rx.submit({})).command_status).toBe(0x04);
  });
});

describe('smsc-sim submit_sm and receipts', () => {
  it('acks each submit_sm with a unique decimal id and records the decoded fields and raw body', async () => {
    await start();
    const c = await bound('transmitter');
    const ucs2 = Buffer.from('00480069d83dde00', 'hex'); // "Hi😀" in UCS-2 with a surrogate pair
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      const resp = await c.submit({
        source_addr_ton: 5,
        source_addr_npi: 0,
        source_addr: 'ACME',
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: `4477009000${String(i).padStart(2, '0')}`,
        esm_class: 0x40,
        data_coding: 8,
        registered_delivery: 0,
        short_message: Buffer.concat([Buffer.from('050003070201', 'hex'), ucs2]),
        sar_msg_ref_num: 7,
      });
      expect(resp.command_status).toBe(0);
      ids.push(String(resp.message_id));
    }
    expect(new Set(ids).size).toBe(20);
    for (const id of ids) expect(id).toMatch(/^\d+$/);
    const { messages, last } = sim.state.messages();
    expect(last).toBe(20);
    const m = messages[3] as SubmitRecord;
    expect(m).toMatchObject({
      systemId: 'acme',
      messageId: ids[3],
      commandStatus: 0,
      outcome: 'ok',
      source: { ton: 5, npi: 0, addr: 'ACME' },
      destination: { ton: 1, npi: 1, addr: '447700900003' },
      esmClass: 0x40,
      dataCoding: 8,
      shortMessageHex: '050003070201' + ucs2.toString('hex'),
      text: 'Hi😀',
      tlvs: { sar_msg_ref_num: '0007' },
    });
  });

  it('gives hex message ids when configured', async () => {
    await start({ messageIdFormat: 'hex', messageIdStart: 0xabc000 });
    const c = await bound();
    const a = await c.submit({});
    const b = await c.submit({});
    expect(a.message_id).toBe('00ABC000');
    expect(b.message_id).toBe('00ABC001');
  });

  it('sends a delivery receipt as deliver_sm with text, receipted_message_id and message_state', async () => {
    await start({ receipt: { delayMs: 30 } });
    const c = await bound();
    const none = await c.submit({ registered_delivery: 0, short_message: Buffer.from('no receipt') });
    const resp = await c.submit({
      source_addr: '447700900001',
      destination_addr: '447700900099',
      registered_delivery: 1,
      short_message: Buffer.from('hello receipt world, long text'),
    });
    const [dlr] = await c.waitForDeliver(1);
    expect(dlr?.esm_class).toBe(0x04);
    expect(dlr?.receipted_message_id).toBe(resp.message_id);
    expect(dlr?.message_state).toBe(2);
    expect(dlr?.source_addr).toBe('447700900099');
    expect(dlr?.destination_addr).toBe('447700900001');
    const text = (dlr?.short_message as { message: string }).message;
    expect(text).toMatch(
      new RegExp(
        `^id:${String(resp.message_id)} sub:001 dlvrd:001 submit date:\\d{10} done date:\\d{10} stat:DELIVRD err:000 text:hello receipt world,$`,
      ),
    );
    // Receipts fire in submit order with the same delay, so none for the first one by now.
    expect(c.delivered.some((p) => p.receipted_message_id === none.message_id)).toBe(false);
    await eventually(() => (sim.state.stats().receiptsAcked === 1 ? true : undefined));
    const d = sim.state.deliveries().deliveries[0];
    expect(d).toMatchObject({
      kind: 'receipt',
      receiptedMessageId: resp.message_id,
      stat: 'DELIVRD',
      respStatus: 0,
    });
  });

  it('uses the configured final state, per destination too, and honours failure-only receipts', async () => {
    await start({
      receipt: { delayMs: 10, byDestination: { '447700900666': { stat: 'UNDELIV', err: '034' } } },
    });
    const c = await bound();
    const ok = await c.submit({ destination_addr: '447700900001', registered_delivery: 2 }); // failure only: none
    const bad = await c.submit({ destination_addr: '447700900666', registered_delivery: 2 });
    const [dlr] = await c.waitForDeliver(1);
    expect(dlr?.receipted_message_id).toBe(bad.message_id);
    expect(dlr?.message_state).toBe(5);
    expect((dlr?.short_message as { message: string }).message).toContain('stat:UNDELIV err:034');
    expect((dlr?.short_message as { message: string }).message).toContain('dlvrd:000');
    expect(Buffer.from(dlr?.network_error_code as Buffer).toString('hex')).toBe('030022');
    expect(c.delivered.some((p) => p.receipted_message_id === ok.message_id)).toBe(false);
    // Changed at run time over HTTP: everything expires now.
    const policy = await http<{ stat: string }>(sim.httpPort!, 'POST', '/receipts', {
      stat: 'EXPIRED',
      err: '001',
    });
    expect(policy.body.stat).toBe('EXPIRED');
    const exp = await c.submit({ destination_addr: '447700900002', registered_delivery: 1 });
    const second = (await c.waitForDeliver(2))[1];
    expect(second?.receipted_message_id).toBe(exp.message_id);
    expect(second?.message_state).toBe(3);
  });

  it('sends a receipt again on the next session when its deliver_sm was never answered', async () => {
    await start({ receipt: { delayMs: 0 } });
    const a = await bound();
    a.deliverStatus = null; // takes the receipt and dies without a deliver_sm_resp
    const resp = await a.submit({ registered_delivery: 1 });
    await a.waitForDeliver(1);
    a.close();
    await a.closed;
    await eventually(() => (sim.state.stats().receiptsPending === 1 ? true : undefined));
    const b = await bound();
    const [dlr] = await b.waitForDeliver(1);
    expect(dlr?.receipted_message_id).toBe(resp.message_id);
    await eventually(() => (sim.state.stats().receiptsAcked === 1 ? true : undefined));
    expect(sim.state.stats()).toMatchObject({ receiptsSent: 2, receiptsRequeued: 1, receiptsPending: 0 });
  });

  it('holds receipts for a transmitter-only peer until a receiver of the same system_id binds', async () => {
    await start({ receipt: { delayMs: 0 } });
    const tx = await bound('transmitter');
    const other = await bound('receiver', 'other');
    const resp = await tx.submit({ registered_delivery: 1 });
    await eventually(() => (sim.state.stats().receiptsPending === 1 ? true : undefined));
    const rx = await bound('receiver');
    const [dlr] = await rx.waitForDeliver(1);
    expect(dlr?.receipted_message_id).toBe(resp.message_id);
    expect(other.delivered).toHaveLength(0);
    expect(sim.state.stats().receiptsPending).toBe(0);
  });
});

describe('smsc-sim MO', () => {
  beforeEach(async () => {
    await start();
  });

  it('sends MO deliver_sm on request and reports the peer response status', async () => {
    const c = await bound('receiver');
    const res = await http<{ commandStatus: number; systemId: string }>(sim.httpPort!, 'POST', '/mo', {
      source: '447700900123',
      destination: '12345',
      text: 'Olá €5',
      data_coding: 8, // SMPP spelling accepted as well as dataCoding
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ commandStatus: 0, systemId: 'acme' });
    const [mo] = await c.waitForDeliver(1);
    expect(mo?.esm_class).toBe(0);
    expect(mo?.data_coding).toBe(8);
    expect(mo?.source_addr).toBe('447700900123');
    expect((mo?.short_message as { message: string }).message).toBe('Olá €5');

    c.deliverStatus = 0x58;
    const gsm = await sim.state.sendMo({
      source: '447700900124',
      destination: '12345',
      text: 'a@b_{}',
      dataCoding: 0,
    });
    expect(gsm.commandStatus).toBe(0x58);
    const raw = sim.state.deliveries().deliveries[1];
    expect(raw?.shortMessageHex).toBe('61006211' + '1b28' + '1b29'); // GSM 03.38 with escapes
    expect(sim.state.stats()).toMatchObject({ moSent: 2, moAcked: 1, moRejected: 1 });
  });

  it('sends long MO bodies in message_payload and takes raw hex', async () => {
    const c = await bound('transceiver');
    const body = 'ab'.repeat(300);
    const res = await sim.state.sendMo({ source: '4477', destination: '999', hex: body, dataCoding: 4 });
    expect(res.commandStatus).toBe(0);
    const [mo] = await c.waitForDeliver(1);
    expect(Buffer.from((mo?.message_payload as { message: Buffer }).message).toString('hex')).toBe(body);
  });

  it('rejects MO requests it cannot honour with clear errors', async () => {
    const none = await http<{ error: string }>(sim.httpPort!, 'POST', '/mo', {
      source: '1',
      destination: '2',
      text: 'x',
    });
    expect(none.status).toBe(409);
    expect(none.body.error).toMatch(/no receiver/);
    await bound('receiver');
    const both = await http<{ error: string }>(sim.httpPort!, 'POST', '/mo', {
      source: '1',
      destination: '2',
    });
    expect(both.status).toBe(400);
    expect(both.body.error).toMatch(/text or hex/);
    const gsm = await http<{ error: string }>(sim.httpPort!, 'POST', '/mo', {
      source: '1',
      destination: '2',
      text: 'Ж',
    });
    expect(gsm.status).toBe(400);
    expect(gsm.body.error).toMatch(/GSM/);
  });
});

describe('smsc-sim faults', () => {
  beforeEach(async () => {
    await start();
  });

  it('throttles the next N submit_sm, then accepts again', async () => {
    const c = await bound();
    await http(sim.httpPort!, 'POST', '/faults', { throttleNext: 2 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await c.submit({})).command_status);
    expect(statuses).toEqual([0x58, 0x58, 0, 0]);
    expect(sim.state.stats().faults.throttled).toBe(2);
    expect(sim.state.messages().messages.map((m) => m.outcome)).toEqual([
      'throttled',
      'throttled',
      'ok',
      'ok',
    ]);
  });

  it('throttles a ratio of submit_sm exactly', async () => {
    const c = await bound();
    sim.state.applyFaults({ throttleRatio: 0.25 });
    const statuses = [];
    for (let i = 0; i < 12; i++) statuses.push((await c.submit({})).command_status);
    expect(statuses.filter((s) => s === 0x58)).toHaveLength(3);
  });

  it('answers the next N with given error codes, by number or name, in order', async () => {
    const c = await bound();
    sim.state.applyFaults({ error: { status: 'ESME_RINVDSTADR', count: 2 } });
    sim.state.applyFaults({ error: { status: 0x14, count: 1 } });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await c.submit({})).command_status);
    expect(statuses).toEqual([0x0b, 0x0b, 0x14, 0]);
    const bad = await http<{ error: string }>(sim.httpPort!, 'POST', '/faults', {
      error: { status: 'ESME_NOPE', count: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/unknown command_status/);
  });

  it('delays responses by the given time', async () => {
    const c = await bound();
    sim.state.applyFaults({ delayMs: 300 });
    const t0 = Date.now();
    const resp = await c.submit({});
    expect(resp.command_status).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(sim.state.stats().faults.delayed).toBe(1);
  });

  it('drops the response to the next N submit_sm', async () => {
    const c = await bound();
    sim.state.applyFaults({ dropNext: 1 });
    let firstAnswered = false;
    void c.submit({}).then(() => (firstAnswered = true));
    const second = await c.submit({});
    expect(second.command_status).toBe(0);
    await c.request('enquire_link'); // one more round trip: the first answer would be here by now
    expect(firstAnswered).toBe(false);
    expect(sim.state.stats().faults.dropped).toBe(1);
    expect(sim.state.messages().messages[0]?.outcome).toBe('dropped');
  });

  it('stops answering enquire_link when asked to', async () => {
    const c = await bound();
    sim.state.applyFaults({ dropEnquireLink: true });
    let answered = false;
    void c.request('enquire_link').then(() => (answered = true));
    await c.submit({});
    expect(answered).toBe(false);
    expect(sim.state.stats().faults.enquireLinksDropped).toBe(1);
  });

  it('disconnects every session on request', async () => {
    const a = await bound('transmitter');
    const b = await bound('receiver', 'other');
    const onlyOther = await http<{ closed: number }>(sim.httpPort!, 'POST', '/disconnect', {
      systemId: 'other',
    });
    expect(onlyOther.body.closed).toBe(1);
    await b.closed;
    expect((await a.submit({})).command_status).toBe(0); // acme's session is untouched
    const b2 = await bound('receiver', 'other');
    const res = await http<{ closed: number }>(sim.httpPort!, 'POST', '/disconnect');
    expect(res.body.closed).toBe(2);
    await Promise.all([a.closed, b2.closed]);
    const via = await bound();
    await http(sim.httpPort!, 'POST', '/faults', { disconnect: true });
    await via.closed;
    expect(sim.state.stats().faults.disconnects).toBe(4);
  });

  it('refuses binds while asked to', async () => {
    await http(sim.httpPort!, 'POST', '/faults', { refuseBinds: true });
    const c = await connectRaw(sim.smppPort);
    clients.push(c);
    expect((await c.bind('transceiver', 'acme', 's3cret')).command_status).toBe(0x0d);
    await http(sim.httpPort!, 'POST', '/faults', { refuseBinds: 'ESME_RINVSYSID' });
    const d = await connectRaw(sim.smppPort);
    clients.push(d);
    expect((await d.bind('transceiver', 'acme', 's3cret')).command_status).toBe(0x0f);
    await http(sim.httpPort!, 'DELETE', '/faults');
    await bound();
    expect(sim.state.stats().faults.refusedBinds).toBe(2);
  });

  it('answers with garbage bytes that a client decoder must reject', async () => {
    const c = await bound();
    sim.state.applyFaults({ garbageNext: 1 });
    void c.submit({}).catch(() => undefined);
    await eventually(() => (c.errors.length > 0 ? true : undefined));
    expect(c.errors[0]?.message).toMatch(/too large/);
    expect(sim.state.stats().faults.garbage).toBe(1);

    const d = await bound();
    await http(sim.httpPort!, 'POST', '/faults', { garbageNow: true });
    await eventually(() => (d.errors.length > 0 ? true : undefined));
  });

  it('lists and clears faults', async () => {
    await http(sim.httpPort!, 'POST', '/faults', {
      throttleNext: 3,
      delayMs: 5,
      error: { status: 8, ratio: 0.5 },
    });
    const f = await http<{ throttleNext: number; delayMs: number; errorRatio: unknown }>(
      sim.httpPort!,
      'GET',
      '/faults',
    );
    expect(f.body).toMatchObject({ throttleNext: 3, delayMs: 5, errorRatio: { status: 8, ratio: 0.5 } });
    const cleared = await http<{ throttleNext: number; errorRatio: unknown }>(
      sim.httpPort!,
      'DELETE',
      '/faults',
    );
    expect(cleared.body).toMatchObject({ throttleNext: 0, errorRatio: null });
    const unknown = await http<{ error: string }>(sim.httpPort!, 'POST', '/faults', { explode: true });
    expect(unknown.status).toBe(400);
  });
});

describe('smsc-sim control endpoint', () => {
  beforeEach(async () => {
    await start();
  });

  it('lists messages since a sequence number, stats, and resets', async () => {
    const c = await bound();
    for (let i = 0; i < 5; i++) await c.submit({ destination_addr: `4477${i}` });
    const all = await http<{ messages: SubmitRecord[]; last: number }>(sim.httpPort!, 'GET', '/messages');
    expect(all.body.last).toBe(5);
    const later = await http<{ messages: (SubmitRecord & { seq: number })[] }>(
      sim.httpPort!,
      'GET',
      '/messages?since=3',
    );
    expect(later.body.messages.map((m) => m.destination.addr)).toEqual(['44773', '44774']);
    const filtered = await http<{ messages: unknown[] }>(sim.httpPort!, 'GET', '/messages?systemId=other');
    expect(filtered.body.messages).toHaveLength(0);
    const stats = await http<{ submits: number; submitsAcked: number; binds: number }>(
      sim.httpPort!,
      'GET',
      '/stats',
    );
    expect(stats.body).toMatchObject({ submits: 5, submitsAcked: 5, binds: 1 });
    expect((await http(sim.httpPort!, 'POST', '/reset')).status).toBe(200);
    const after = await http<{ submits: number; boundSessions: number }>(sim.httpPort!, 'GET', '/stats');
    expect(after.body).toMatchObject({ submits: 0, boundSessions: 1 });
    expect((await c.submit({})).command_status).toBe(0); // the session survived the reset
  });

  it('answers unknown routes, wrong methods and bad input with JSON errors', async () => {
    expect((await http(sim.httpPort!, 'GET', '/nope')).status).toBe(404);
    expect((await http(sim.httpPort!, 'GET', '/mo')).status).toBe(405);
    expect((await http(sim.httpPort!, 'POST', '/faults', '{not json')).status).toBe(400);
    expect((await http(sim.httpPort!, 'GET', '/messages?since=-1')).status).toBe(400);
    expect((await http(sim.httpPort!, 'GET', '/healthz')).body).toEqual({ ok: true, sink: false });
  });
});

describe('smsc-sim on garbage input', () => {
  beforeEach(async () => {
    await start();
  });

  async function rawSocket(): Promise<Socket> {
    const s = netConnect({ host: '127.0.0.1', port: sim.smppPort });
    sockets.push(s);
    s.on('error', () => undefined);
    await once(s, 'connect');
    return s;
  }

  const garbage: Record<string, Buffer> = {
    'an oversized command_length': Buffer.from('ffffffff00000004000000000000000100', 'hex'),
    'a command_length below the header size': Buffer.from('0000000500000004000000000000000100', 'hex'),
    'a zero command_length': Buffer.from('00000000000000000000000000000000', 'hex'),
  };

  for (const [name, bytes] of Object.entries(garbage)) {
    it(`closes the session on ${name}, counts it and keeps serving others`, async () => {
      const s = await rawSocket();
      s.resume();
      const closed = once(s, 'close');
      s.write(bytes);
      await closed;
      expect(sim.state.stats().decodeErrors).toBe(1);
      const c = await bound();
      expect((await c.submit({})).command_status).toBe(0);
    });
  }

  it('treats a bind with a truncated body as a failed bind', async () => {
    const s = await rawSocket();
    const b = Buffer.alloc(20);
    b.writeUInt32BE(20, 0);
    b.writeUInt32BE(0x09, 4);
    b.fill(0x41, 16); // system_id without its NUL, and nothing after it
    const reply = once(s, 'data');
    const closed = once(s, 'close');
    s.write(b);
    const [resp] = (await reply) as [Buffer];
    expect(resp.readUInt32BE(4)).toBe(0x80000009);
    expect(resp.readUInt32BE(8)).not.toBe(0);
    s.resume();
    await closed;
  });

  it('answers a submit_sm whose short_message overruns the PDU with ESME_RINVCMDLEN', async () => {
    const c = await bound();
    const pdu = Buffer.from(
      '00000000' +
        '00000004' +
        '00000000' +
        '00000063' + // header, length patched below
        '00' +
        '0101' +
        '3100' +
        '0101' +
        '3200' +
        '000000' +
        '00' +
        '00' +
        '000000' +
        '64' +
        '6869',
      'hex',
    );
    pdu.writeUInt32BE(pdu.length, 0);
    c.session.socket.write(pdu); // hand-made bytes on the bound session
    await eventually(() => (sim.state.stats().decodeErrors === 1 ? true : undefined));
    const m = sim.state.messages().messages[0];
    expect(m).toMatchObject({ outcome: 'invalid', commandStatus: 0x02 });
    expect(m?.error).toMatch(/short_message runs past the PDU end/);
    expect((await c.submit({})).command_status).toBe(0);
  });

  it('answers an unknown command id with generic_nack ESME_RINVCMDID', async () => {
    const c = await bound();
    const s = await rawSocket();
    const pdu = Buffer.alloc(16);
    pdu.writeUInt32BE(16, 0);
    pdu.writeUInt32BE(0x000000ee, 4);
    pdu.writeUInt32BE(77, 12);
    s.write(pdu);
    const [resp] = (await once(s, 'data')) as [Buffer];
    expect(resp.readUInt32BE(4)).toBe(0x80000000);
    expect(resp.readUInt32BE(8)).toBe(0x03);
    expect(resp.readUInt32BE(12)).toBe(77);
    expect((await c.submit({})).command_status).toBe(0);
  });
});

describe('smsc-sim sink mode', () => {
  it('acks fast without keeping history and signals when N submit_sm arrived', async () => {
    await start({ sink: true });
    const c = await bound('transmitter');
    const done = sim.state.waitForSubmits(200, 10_000);
    const resps = await Promise.all(Array.from({ length: 200 }, () => c.submit({ registered_delivery: 1 })));
    await done;
    expect(resps.every((r) => r.command_status === 0)).toBe(true);
    expect(new Set(resps.map((r) => r.message_id)).size).toBe(200);
    expect(sim.state.stats()).toMatchObject({ submits: 200, submitsAcked: 200, receiptsSent: 0 });
    expect(sim.state.messages().messages).toHaveLength(0);
    await expect(sim.state.waitForSubmits(1000, 50)).rejects.toThrow(/200\/1000/);
  });

  it('still binds, answers enquire_link, rejects unbound submits and closes on garbage', async () => {
    await start({ sink: true });
    const unbound = await connectRaw(sim.smppPort);
    clients.push(unbound);
    expect((await unbound.submit({})).command_status).toBe(0x04);
    const bad = await connectRaw(sim.smppPort);
    clients.push(bad);
    expect((await bad.bind('transceiver', 'acme', 'nope')).command_status).toBe(0x0e);
    const c = await bound();
    expect((await c.request('enquire_link')).command).toBe('enquire_link_resp');
    // Two PDUs in one write, split mid-frame across writes: framing must hold.
    const twoSubmits = Buffer.concat([
      new smpp.PDU('submit_sm', {
        sequence_number: 901,
        destination_addr: '1',
        short_message: Buffer.from('a'),
      }).toBuffer(),
      new smpp.PDU('submit_sm', {
        sequence_number: 902,
        destination_addr: '2',
        short_message: Buffer.from('b'),
      }).toBuffer(),
    ]);
    c.session.socket.write(twoSubmits.subarray(0, 30));
    await new Promise((r) => setTimeout(r, 20));
    c.session.socket.write(twoSubmits.subarray(30));
    await sim.state.waitForSubmits(3, 10_000);
    expect((await c.request('unbind')).command).toBe('unbind_resp');
    await c.closed;
    const g = await connectRaw(sim.smppPort);
    clients.push(g);
    g.session.socket.write(Buffer.from('ffffffff0000000400000000', 'hex'));
    await g.closed;
    expect(sim.state.stats()).toMatchObject({
      decodeErrors: 1,
      submits: 3,
      submitsAcked: 2,
      bindFailures: 1,
    });
  });
});
