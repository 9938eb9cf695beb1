// Server binds: a partner ESME (the `smpp` package as a plain client, not our engine) binds to
// the gateway's listener, receives the core's messages for its smscName as deliver_sm, and its
// submit_sm become core messages whose id comes back in submit_sm_resp.
import smpp, { type PDU, type Session } from 'smpp';
import { afterEach, describe, expect, it } from 'vitest';
import {
  clientBind,
  enqueue,
  PARTNER_PASSWORD,
  rec,
  serverBind,
  settledAccounting,
  startStack,
  until,
  type Stack,
} from './harness.js';

let stack: Stack | undefined;
const partners: Session[] = [];
afterEach(async () => {
  for (const p of partners.splice(0)) p.destroy();
  await stack?.close();
  stack = undefined;
});

function connectPartner(
  port: number,
  bindType: 'bind_transceiver' | 'bind_receiver' | 'bind_transmitter',
  password = PARTNER_PASSWORD,
): Promise<{ session: Session; status: number }> {
  return new Promise((resolve, reject) => {
    const session = smpp.connect({ host: '127.0.0.1', port });
    partners.push(session);
    session.on('error', reject);
    session.on('connect', () => {
      session[bindType]({ system_id: 'partner1', password }, (pdu: PDU) =>
        resolve({ session, status: pdu.command_status }),
      );
    });
  });
}

function bodies(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `to partner ${i}`);
}

describe('gateway server binds', () => {
  it('delivers the core messages for the partner as deliver_sm and posts its submit_sm to the core', async () => {
    stack = await startStack();
    const { core, gateway } = stack;
    gateway.setServerBinds([serverBind('partner1', { tpsLimit: 500 })]);
    const port = gateway.smppPort as number;
    const { session, status } = await connectPartner(port, 'bind_transceiver');
    expect(status).toBe(0);
    await until(
      'bound status',
      () => gateway.status('default', 'partner1', 'SmppServerBind')?.phase === 'Bound',
    );
    expect(gateway.status('default', 'partner1', 'SmppServerBind')?.sessions).toHaveLength(1);

    const received: PDU[] = [];
    session.on('deliver_sm', (pdu: PDU) => {
      received.push(pdu);
      session.send(pdu.response());
    });
    const ids = enqueue(core, 'partner1', ['to partner 1', 'to partner 2 ✓', 'to partner 3']);
    enqueue(core, 'someone_else', ['not for the partner']);
    await until('three deliver_sm', () => (received.length >= 3 ? true : undefined));
    await until('marked sent', () => (ids.every((id) => rec(core, id).deliver_time) ? true : undefined));
    // The partner is the destination: its acknowledgement is the delivery, no receipt follows.
    for (const id of ids) {
      expect(rec(core, id)).toMatchObject({ status: 'delivered' });
      expect(rec(core, id).delivered_at).toBeTruthy();
    }
    const texts = received.map((p) => {
      const sm = p.short_message as { message?: unknown } | Buffer;
      return Buffer.isBuffer(sm) ? sm.toString('latin1') : String(sm.message);
    });
    expect(texts.some((t) => t.includes('to partner 1'))).toBe(true);
    expect(texts.some((t) => t.includes('not for the partner'))).toBe(false);
    expect(received).toHaveLength(3);

    const resp = await new Promise<PDU>((resolve) =>
      session.submit_sm(
        {
          source_addr: '447700900777',
          destination_addr: '447700900888',
          short_message: Buffer.from('from the partner'),
        },
        resolve,
      ),
    );
    expect(resp.command_status).toBe(0);
    const coreId = Number(resp.message_id);
    expect(rec(core, coreId)).toMatchObject({
      source_smsc: 'partner1',
      source_msisdn: '447700900777',
      destination_msisdn: '447700900888',
      message_body: 'from the partner',
    });
    const a = await settledAccounting(gateway);
    expect(a).toMatchObject({ taken: 3, sent: 3, returned: 0, failed: 0 });
    const text = await stack.registry.metrics();
    expect(text).toMatch(
      /smpp_messages_sent_total\{bind_name="partner1",mode="server",host="",port="",bind_type="",system_id="partner1",namespace="default"\} 3/,
    );
    expect(text).toMatch(/smpp_messages_received_total\{bind_name="partner1"[^}]*\} 1/);
    expect(text).toMatch(/smpp_server_sessions\{bind_name="partner1"[^}]*\} 1/);
    expect(text).toMatch(/smpp_uptime_seconds\{bind_name="partner1",mode="server"[^}]*\} \d+/);
    expect(text).toMatch(/smpp_bind_success_total\{bind_name="partner1"[^}]*\} 1/);
  });

  it('returns messages the partner refuses temporarily, fails those refused for good, and keeps them while it is away', async () => {
    stack = await startStack();
    const { core, gateway } = stack;
    gateway.setServerBinds([serverBind('partner1')]);
    // No partner session yet: nothing is taken.
    const [first, second] = enqueue(core, 'partner1', ['temporary', 'permanent']) as [number, number];
    await new Promise((r) => setTimeout(r, 300));
    expect(gateway.accounting().taken).toBe(0);
    expect(core.store.get(first)?.fetches).toBe(0);

    const { session } = await connectPartner(gateway.smppPort as number, 'bind_receiver');
    let refusedOnce = false;
    session.on('deliver_sm', (pdu: PDU) => {
      const sm = pdu.short_message as { message?: unknown } | Buffer;
      const text = Buffer.isBuffer(sm) ? sm.toString('latin1') : String(sm.message);
      if (text.includes('permanent')) session.send(pdu.response({ command_status: 0x0b }));
      else if (!refusedOnce) {
        refusedOnce = true;
        session.send(pdu.response({ command_status: 0x14 }));
      } else session.send(pdu.response());
    });
    await until('first delivered after a retry', () => (rec(core, first).deliver_time ? true : undefined));
    await until('second failed', () => (rec(core, second).status === 'failed' ? true : undefined));
    expect(core.store.get(first)?.retries).toBe(1);
    expect(rec(core, second).deadletter).toBe(true);
    const a = await settledAccounting(gateway);
    expect(a).toMatchObject({ taken: 3, sent: 1, returned: 1, failed: 1 });
  });

  it('when the partner goes away, returns what it was sent and releases what it never saw', async () => {
    stack = await startStack();
    const { core, gateway } = stack;
    gateway.setServerBinds([serverBind('partner1')]);
    const silent = await connectPartner(gateway.smppPort as number, 'bind_receiver');
    const seen: PDU[] = [];
    silent.session.on('deliver_sm', (pdu: PDU) => seen.push(pdu)); // never answered
    silent.session.on('enquire_link', (pdu: PDU) => silent.session.send(pdu.response()));
    const ids = enqueue(core, 'partner1', bodies(25));
    await until('window full', () =>
      seen.length >= 10 && gateway.accounting().taken === 25 ? true : undefined,
    );
    silent.session.socket.destroy();
    const a = await settledAccounting(gateway);
    // What was written may have reached the handset: PUT, one attempt each (normally the window
    // of 10; more if a response timeout freed slots first on a slow machine). The rest were
    // never written: released, no attempt, ready for the next poll.
    const written = seen.length;
    expect(written).toBeLessThan(25);
    expect(a).toMatchObject({ taken: 25, sent: 0, returned: written, failed: 0, released: 25 - written });
    // (devcore scales the core's backoff down to milliseconds, so returned ones come back soon.)
    const untouched = ids.filter(
      (id) => core.store.get(id)?.retries === 0 && rec(core, id).deliver_after == null,
    );
    expect(untouched).toHaveLength(25 - written);
    expect(ids.filter((id) => core.store.get(id)?.retries === 1)).toHaveLength(written);
    expect(await stack.registry.metrics()).toMatch(
      new RegExp(`smpp_messages_released_total\\{bind_name="partner1"[^}]*\\} ${25 - written}\\b`),
    );

    const back = await connectPartner(gateway.smppPort as number, 'bind_receiver');
    back.session.on('deliver_sm', (pdu: PDU) => back.session.send(pdu.response()));
    await until('all delivered', () => (ids.every((id) => rec(core, id).deliver_time) ? true : undefined));
    // The released ones went out without ever being put back: still no attempt on them.
    expect(untouched.filter((id) => core.store.get(id)?.retries === 0)).toHaveLength(25 - written);
    expect(core.store.stats().duplicateSends).toBe(0);
  });

  it('sends the partner a delivery receipt once its message is delivered or has failed, and answers query_sm', async () => {
    stack = await startStack();
    const { core, sim, gateway } = stack;
    // The carrier refuses one number for good in its receipts.
    sim.state.setReceiptPolicy({
      delayMs: 20,
      byDestination: { '447700900999': { stat: 'UNDELIV', err: '011' } },
    });
    gateway.setServerBinds([serverBind('partner1')]);
    gateway.setClientBinds([clientBind(sim)]);
    await until(
      'carrier bound',
      () => gateway.status('default', 'carrier1', 'SmppClientBind')?.phase === 'Bound',
    );
    const { session } = await connectPartner(gateway.smppPort as number, 'bind_transceiver');
    const receipts: PDU[] = [];
    session.on('deliver_sm', (pdu: PDU) => {
      receipts.push(pdu);
      session.send(pdu.response());
    });
    const submit = (destination: string, registered_delivery: number): Promise<string> =>
      new Promise((resolve) =>
        session.submit_sm(
          {
            source_addr: '447700900777',
            destination_addr: destination,
            registered_delivery,
            short_message: Buffer.from(`to ${destination}`),
          },
          (pdu: PDU) => resolve(String(pdu.message_id)),
        ),
      );
    const query = (message_id: string): Promise<PDU> =>
      new Promise((resolve) => session.query_sm({ message_id }, resolve));
    const ok = await submit('447700900888', 1);
    // Still queued in the core: en route, no final date.
    const early = await query(ok);
    expect(early).toMatchObject({ command_status: 0, message_id: ok, message_state: 1 });
    const bad = await submit('447700900999', 1);
    const quiet = await submit('447700900888', 0); // no receipt asked
    const failuresOnly = await submit('447700900888', 2); // delivered: no receipt
    // The core routes the partner's messages to the carrier (devcore has no routing of its own).
    for (const id of [ok, bad, quiet, failuresOnly]) core.store.patch(Number(id), { dest_smsc: 'carrier1' });

    await until('two receipts', () => (receipts.length >= 2 ? true : undefined));
    await until('nothing pending', async () =>
      /smpp_partner_receipts_pending\{bind_name="partner1"[^}]*\} 0/.test(await stack!.registry.metrics())
        ? true
        : undefined,
    );
    expect(receipts).toHaveLength(2);
    const byId = new Map(receipts.map((p) => [String(p.receipted_message_id), p]));
    const delivered = byId.get(ok) as PDU;
    const failed = byId.get(bad) as PDU;
    expect(Number(delivered.esm_class) & 0x3c).toBe(0x04);
    expect(delivered.message_state).toBe(2);
    expect(delivered.source_addr).toBe('447700900888');
    expect(delivered.destination_addr).toBe('447700900777');
    const text = (p: PDU): string => {
      const sm = p.short_message as { message?: unknown } | Buffer;
      return Buffer.isBuffer(sm) ? sm.toString('latin1') : String(sm.message);
    };
    expect(text(delivered)).toMatch(
      new RegExp(`^id:${ok} sub:001 dlvrd:001 .* stat:DELIVRD err:000 text:to 447700900888`),
    );
    expect(failed.message_state).toBe(5);
    expect(text(failed)).toMatch(/stat:UNDELIV err:011/);
    const metrics = await stack.registry.metrics();
    expect(metrics).toMatch(/smpp_partner_receipts_total\{bind_name="partner1"[^}]*result="sent"\} 2/);
    expect(metrics).toMatch(
      /smpp_partner_receipts_total\{bind_name="partner1"[^}]*result="not_requested"\} 1/,
    );

    // query_sm (the "active" way): the same states, and only for the partner's own messages.
    const late = await query(ok);
    expect(late).toMatchObject({ command_status: 0, message_state: 2 });
    expect(late.final_date).toBeInstanceOf(Date);
    expect(await query(bad)).toMatchObject({ command_status: 0, message_state: 5, error_code: 11 });
    const [foreign] = enqueue(core, 'carrier1', ['not submitted by the partner']) as [number];
    expect((await query(String(foreign))).command_status).toBe(0x0c); // ESME_RINVMSGID
    expect((await query('999999')).command_status).toBe(0x0c);
  });

  it('answers a partner submit_sm with a temporary error while the core is down', async () => {
    stack = await startStack();
    const { core, gateway } = stack;
    gateway.setServerBinds([serverBind('partner1')]);
    const { session } = await connectPartner(gateway.smppPort as number, 'bind_transmitter');
    core.unavailable = true;
    const submit = (): Promise<PDU> =>
      new Promise((resolve) =>
        session.submit_sm(
          { source_addr: '111', destination_addr: '222', short_message: Buffer.from('hi') },
          resolve,
        ),
      );
    const down = await submit();
    expect(down.command_status).toBe(0x14); // ESME_RMSGQFUL: try again later
    core.unavailable = false;
    const up = await submit();
    expect(up.command_status).toBe(0);
    expect(rec(core, Number(up.message_id)).source_smsc).toBe('partner1');
  });

  it('counts refused partner binds by cause, and against the bind they named', async () => {
    stack = await startStack();
    const { gateway } = stack;
    gateway.setServerBinds([serverBind('partner1', { allowedBindTypes: ['transmitter'] })]);
    const port = gateway.smppPort as number;
    expect((await connectPartner(port, 'bind_transmitter', 'not-the-password')).status).toBe(0x0e);
    expect((await connectPartner(port, 'bind_receiver')).status).toBe(0x04);
    const text = await stack.registry.metrics();
    expect(text).toMatch(/smpp_listener_rejections_total\{reason="wrong_password"\} 1/);
    expect(text).toMatch(/smpp_listener_rejections_total\{reason="bind_type_not_allowed"\} 1/);
    expect(text).toMatch(/smpp_bind_failures_total\{bind_name="partner1"[^}]*\} 2/);
    expect(text).not.toContain('not-the-password');
  });
});
