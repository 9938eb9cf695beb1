// Our ClientSession against the SMSC simulator: two implementations that share only the `smpp`
// package's codec (the sim uses the library's server and session objects, the engine its own
// reader and writer), so every field below crosses a real boundary on loopback.
import type { Pdu } from '../../../src/smpp/pdu/pdu.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { PDU } from 'smpp';
import { createLogger } from '../../../src/log.js';
import { ClientSession, type ClientSessionOptions } from '../../../src/smpp/client-session.js';
import { SmppStatusError, SmppTimeoutError } from '../../../src/smpp/errors.js';
import { startSmscSim, type RunningSmscSim, type StartSmscSimOptions } from '../../../src/sim/index.js';
import { waitFor } from '../../helpers/wait.js';

const log = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function sim(opts: StartSmscSimOptions = {}): Promise<RunningSmscSim> {
  const s = await startSmscSim({ users: [{ systemId: 'gw', password: 'pw' }], log, httpPort: null, ...opts });
  cleanups.push(() => s.close());
  return s;
}

function client(port: number, over: Partial<ClientSessionOptions> = {}): ClientSession {
  const c = new ClientSession(
    {
      host: '127.0.0.1',
      port,
      bindType: 'transceiver',
      systemId: 'gw',
      password: 'pw',
      responseTimeoutMs: 2000,
      bindTimeoutMs: 2000,
      reconnect: { minDelayMs: 20, maxDelayMs: 200 },
      ...over,
    },
    log,
  );
  cleanups.push(() => c.stop());
  return c;
}

function next<T>(emitter: ClientSession, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${event}' within ${timeoutMs} ms`)), timeoutMs);
    emitter.once(event, (v: T) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  return waitFor(check, timeoutMs);
}

describe('ClientSession against smsc-sim', () => {
  it('submits exact bytes and TLVs, gets carrier ids, and receives receipts as raw bodies', async () => {
    const s = await sim({ receipt: { delayMs: 10 } });
    const c = client(s.smppPort);
    const inbound: Pdu[] = [];
    c.setInboundHandler(async (pdu) => {
      inbound.push(pdu);
      return { status: 0 };
    });
    c.start();
    await next(c, 'bound');
    const gsm = Buffer.from([0x48, 0x00, 0x1b, 0x65, 0x11]); // "H@€_" in GSM 03.38, escape included
    const resp = await c.submit({
      source_addr_ton: 5,
      source_addr: 'Brand',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '447700900123',
      registered_delivery: 1,
      data_coding: 0,
      short_message: gsm,
      sar_msg_ref_num: 0x1234,
      sar_total_segments: 2,
      sar_segment_seqnum: 1,
    });
    const id = String(resp.message_id);
    expect(id).toMatch(/^\d+$/);
    const rec = s.state.messages().messages[0];
    expect(rec).toMatchObject({
      systemId: 'gw',
      messageId: id,
      source: { ton: 5, npi: 0, addr: 'Brand' },
      destination: { ton: 1, npi: 1, addr: '447700900123' },
      shortMessageHex: '48001b6511',
      text: 'H@€_',
      tlvs: { sar_msg_ref_num: '1234', sar_total_segments: '02', sar_segment_seqnum: '01' },
    });
    await until(() => inbound.length === 1);
    const dlr = inbound[0] as PDU;
    expect(dlr.esm_class).toBe(0x04);
    expect(dlr.receipted_message_id).toBe(id);
    expect(Buffer.isBuffer(dlr.short_message)).toBe(true);
    expect((dlr.short_message as Buffer).toString('latin1')).toMatch(
      new RegExp(`^id:${id} sub:001 dlvrd:001 .* stat:DELIVRD err:000`),
    );
    await until(() => s.state.stats().receiptsAcked === 1);
  });

  it('hands MO bodies over raw and answers with the handler status', async () => {
    const s = await sim();
    const c = client(s.smppPort, { bindType: 'receiver' });
    let status = 0;
    const bodies: Buffer[] = [];
    c.setInboundHandler(async (pdu) => {
      if (pdu.command === 'deliver_sm') bodies.push(pdu.short_message);
      return { status };
    });
    c.start();
    await next(c, 'bound');
    const ok = await s.state.sendMo({
      source: '447700900555',
      destination: '4000',
      text: 'Привет 😀',
      dataCoding: 8,
    });
    expect(ok.commandStatus).toBe(0);
    expect(
      Buffer.from(bodies[0] as Buffer)
        .swap16()
        .toString('utf16le'),
    ).toBe('Привет 😀');
    status = 0x58;
    const refused = await s.state.sendMo({
      source: '447700900555',
      destination: '4000',
      hex: 'c0ffee',
      dataCoding: 4,
    });
    expect(refused.commandStatus).toBe(0x58);
    expect((bodies[1] as Buffer).toString('hex')).toBe('c0ffee');
  });

  it('reports a wrong password as a typed bind failure', async () => {
    const s = await sim();
    const c = client(s.smppPort, { password: 'nope' });
    c.start();
    const err = await next<Error>(c, 'bindFailed');
    expect(err).toBeInstanceOf(SmppStatusError);
    expect(err.message).toBe('bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)');
    expect(s.state.binds().systems[0]).toMatchObject({
      systemId: 'gw',
      bindsRejected: expect.any(Number),
      active: 0,
    });
  });

  it('surfaces throttling and carrier error codes as typed errors', async () => {
    const s = await sim();
    const c = client(s.smppPort, { throttlePauseMs: 10, maxThrottlePauseMs: 50 });
    c.start();
    await next(c, 'bound');
    s.state.applyFaults({ throttleNext: 1 });
    const throttled = next(c, 'throttled');
    const t = await c
      .submit({ destination_addr: '1', short_message: Buffer.from('x') })
      .catch((e: unknown) => e);
    await throttled;
    expect(t).toBeInstanceOf(SmppStatusError);
    expect((t as SmppStatusError).status).toBe(0x58);
    expect((t as SmppStatusError).temporary).toBe(true);
    s.state.applyFaults({ error: { status: 'ESME_RINVDSTADR', count: 1 } });
    const bad = await c
      .submit({ destination_addr: '1', short_message: Buffer.from('x') })
      .catch((e: unknown) => e);
    expect((bad as SmppStatusError).status).toBe(0x0b);
    expect((bad as SmppStatusError).temporary).toBe(false);
    expect((await c.submit({ destination_addr: '1', short_message: Buffer.from('x') })).command_status).toBe(
      0,
    );
  });

  it('times out a dropped response and keeps the session usable', async () => {
    const s = await sim();
    const c = client(s.smppPort, { responseTimeoutMs: 300 });
    c.start();
    await next(c, 'bound');
    s.state.applyFaults({ dropNext: 1 });
    const lost = await c
      .submit({ destination_addr: '1', short_message: Buffer.from('x') })
      .catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(SmppTimeoutError);
    expect((await c.submit({ destination_addr: '1', short_message: Buffer.from('y') })).command_status).toBe(
      0,
    );
  });

  it('reconnects after carrier disconnects and garbage, never holding two binds at once', async () => {
    const s = await sim();
    const c = client(s.smppPort);
    c.start();
    await next(c, 'bound');
    for (let i = 0; i < 3; i++) {
      const rebound = next(c, 'bound');
      s.state.disconnectAll();
      await rebound;
    }
    const decodeError = next<Error>(c, 'decodeError');
    const rebound = next(c, 'bound');
    s.state.applyFaults({ garbageNext: 1 });
    await c.submit({ destination_addr: '1', short_message: Buffer.from('x') }).catch(() => undefined);
    await decodeError;
    await rebound;
    expect((await c.submit({ destination_addr: '1', short_message: Buffer.from('z') })).command_status).toBe(
      0,
    );
    const gw = s.state.binds().systems.find((b) => b.systemId === 'gw');
    expect(gw).toMatchObject({ active: 1, maxConcurrent: 1 });
    expect(gw?.bindsOk).toBeGreaterThanOrEqual(5); // more only if a loaded machine made a bind time out
  });

  it('detects a dead peer when enquire_link goes unanswered and binds again', async () => {
    const s = await sim();
    const c = client(s.smppPort, { enquireLinkIntervalMs: 100, enquireLinkTimeoutMs: 200 });
    c.start();
    await next(c, 'bound');
    s.state.applyFaults({ dropEnquireLink: true });
    const reason = await next<string>(c, 'disconnected');
    expect(reason).toMatch(/enquire_link/i);
    s.state.applyFaults({ dropEnquireLink: false });
    await next(c, 'bound');
    expect(s.state.stats().faults.enquireLinksDropped).toBeGreaterThanOrEqual(1);
    expect(s.state.binds().systems[0]?.maxConcurrent).toBe(1);
  });

  it('unbinds cleanly on stop', async () => {
    const s = await sim();
    const c = client(s.smppPort);
    c.start();
    await next(c, 'bound');
    await c.stop();
    await until(() => s.state.stats().activeSessions === 0);
    expect(s.state.stats().unbinds).toBe(1);
    expect(s.state.binds().events.map((e) => e.event)).toEqual(['bound', 'unbound', 'closed']);
  });
});
