// MT through a client bind (GSM, UCS-2, long) with receipts, dest_smsc filtering, no double
// sends, and MO from the carrier into the core; against devcore + the SMSC simulator on loopback.
import { afterEach, describe, expect, it } from 'vitest';
import { clientBind, enqueue, rec, settledAccounting, startStack, until, type Stack } from './harness.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const LONG =
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et ' +
  'dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ' +
  'ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse.';

describe('gateway MT through a client bind', () => {
  it('sends GSM, UCS-2 and long messages once each and records delivery receipts in the core', async () => {
    stack = await startStack();
    const { core, sim, gateway } = stack;
    gateway.setClientBinds([clientBind(sim)]);
    await until('bound', () => gateway.status('default', 'carrier1', 'SmppClientBind')?.phase === 'Bound');
    const [gsm, ucs, long] = enqueue(core, 'carrier1', ['Hello {world} 10€', 'Olá 👋 Привет', LONG]) as [
      number,
      number,
      number,
    ];
    core.store.patch(ucs, { tp_dcs_character_set: 'ucs2' });
    await until('three receipts', () =>
      [gsm, ucs, long].every((id) => rec(core, id).status === 'delivered') ? true : undefined,
    ).catch((err: unknown) => {
      console.log(
        [gsm, ucs, long].map((id) => rec(core, id)),
        stack?.logs.filter((l) => !l.includes('"level":20')).join(''),
      );
      throw err;
    });
    for (const id of [gsm, ucs, long]) {
      const r = rec(core, id);
      expect(r.deliver_time).not.toBeNull();
      expect(r.delivered_at).toBeTruthy();
      expect(r.dlr_state).toBe('DELIVRD');
      expect(core.store.get(id)?.sends).toBe(1);
    }
    const submits = sim.state.messages(0, 100).messages;
    // Each message went to its own number.
    const byCarrierId = (id: number) =>
      submits.filter((s) => `+${s.destination.addr}` === rec(core, id).destination_msisdn);
    const [g] = byCarrierId(gsm);
    expect(g?.dataCoding).toBe(0);
    expect(g?.text).toContain('Hello {world}');
    expect((g?.registeredDelivery ?? 0) & 1).toBe(1);
    const [u] = byCarrierId(ucs);
    expect(u?.dataCoding).toBe(8);
    // UTF-16BE of the emoji: a surrogate pair, intact.
    expect(u?.shortMessageHex).toContain('d83ddc4b');
    const parts = byCarrierId(long);
    expect(parts.length).toBeGreaterThanOrEqual(2);
    for (const p of parts) expect((p.esmClass & 0x40) !== 0 || 'sar_msg_ref_num' in p.tlvs).toBe(true);
    // The delivered report keeps every part's carrier id, as the sent report wrote them.
    const ids = String(rec(core, long).smsc_message_id).split(',');
    expect(ids.sort()).toEqual(parts.map((p) => String(p.messageId)).sort());
    expect(submits).toHaveLength(2 + parts.length);
    const a = await settledAccounting(gateway);
    expect(a).toMatchObject({ taken: 3, sent: 3, returned: 0, failed: 0 });
    expect(core.store.stats().duplicateSends).toBe(0);
    const text = await stack.registry.metrics();
    expect(text).toMatch(
      /smpp_messages_sent_total\{bind_name="carrier1",mode="client",host="127.0.0.1",port="\d+",bind_type="transceiver",system_id="carrier1",namespace="default"\} 3/,
    );
    expect(text).toMatch(/smpp_connection_status\{[^}]*bind_name="carrier1"[^}]*\} 1/);
    // One receipt per part: the long message's parts each have one.
    const receipts = /smpp_delivery_receipts_total\{[^}]*outcome="delivered"\} (\d+)/.exec(text);
    expect(Number(receipts?.[1])).toBe(2 + parts.length);
  });

  it('takes only messages routed to its smscName and never sends one twice under load', async () => {
    stack = await startStack();
    const { core, sim, gateway } = stack;
    gateway.setClientBinds([clientBind(sim, 'carrier1', { window: 5, queueCheckInterval: 100 })]);
    const mine = enqueue(
      core,
      'carrier1',
      Array.from({ length: 300 }, (_, i) => `message ${i}`),
    );
    const other = enqueue(core, 'carrier2', ['not mine 1', 'not mine 2']);
    const unrouted = enqueue(core, null, ['unrouted']);
    await until(
      '300 sent',
      () => (mine.every((id) => rec(core, id).deliver_time) ? true : undefined),
      40_000,
    );
    const a = await settledAccounting(gateway);
    expect(a).toMatchObject({ taken: 300, sent: 300, returned: 0, failed: 0 });
    for (const id of [...other, ...unrouted]) {
      expect(rec(core, id).deliver_time).toBeNull();
      expect(core.store.get(id)?.sends).toBe(0);
    }
    const submits = sim.state.messages(0, 10_000).messages;
    expect(submits).toHaveLength(300);
    expect(new Set(submits.map((s) => s.text)).size).toBe(300);
    expect(submits.some((s) => s.text.includes('not mine') || s.text === 'unrouted')).toBe(false);
    expect(core.store.stats().duplicateSends).toBe(0);
  });

  it('turns the carrier MO (single and concatenated) into core messages with source_smsc', async () => {
    stack = await startStack();
    const { core, sim, gateway } = stack;
    gateway.setClientBinds([clientBind(sim)]);
    await until('bound', () => gateway.status('default', 'carrier1', 'SmppClientBind')?.phase === 'Bound');
    const r = await sim.state.sendMo({
      source: '+447700900555',
      destination: '12345',
      text: 'Réponse 👍',
      dataCoding: 8,
    });
    expect(r.commandStatus).toBe(0);
    const mo = await until('MO in the core', () =>
      Array.from(core.store.all(), (e) => e.rec).find((m) => m.source_smsc === 'carrier1'),
    );
    expect(mo).toMatchObject({
      source_msisdn: '+447700900555',
      destination_msisdn: '12345',
      message_body: 'Réponse 👍',
      tp_dcs_character_set: 'ucs2',
    });
    const part = await sim.state.sendMo({
      source: '447700900556',
      destination: '12345',
      text: 'first half ',
      sar: { reference: 77, total: 2, part: 1 },
    });
    expect(part.commandStatus).toBe(0);
    const p1 = await until('MO part in the core', () =>
      Array.from(core.store.all(), (e) => e.rec).find((m) => m.source_msisdn === '447700900556'),
    );
    expect(p1).toMatchObject({ message_part_number: 1, message_parts: 2, message_body: 'first half ' });
    const text = await stack.registry.metrics();
    expect(text).toMatch(/smpp_messages_received_total\{[^}]*bind_name="carrier1"[^}]*\} 2/);
  });

  it('matches receipts that arrive on a separate receiver bind of the same smscName', async () => {
    stack = await startStack();
    const { core, sim, gateway } = stack;
    gateway.setClientBinds([
      clientBind(sim, 'carrier1-tx', { smscName: 'carrier1', bindType: 'transmitter' }),
      clientBind(sim, 'carrier1-rx', { smscName: 'carrier1', bindType: 'receiver' }),
    ]);
    await until('both bound', () =>
      ['carrier1-tx', 'carrier1-rx'].every(
        (n) => gateway.status('default', n, 'SmppClientBind')?.phase === 'Bound',
      ),
    );
    const ids = enqueue(core, 'carrier1', ['one', 'two', 'three']);
    await until('delivered', () =>
      ids.every((id) => rec(core, id).status === 'delivered') ? true : undefined,
    );
    const text = await stack.registry.metrics();
    expect(text).toMatch(/smpp_messages_sent_total\{bind_name="carrier1-tx"[^}]*\} 3/);
    expect(text).toMatch(/smpp_delivery_receipts_total\{bind_name="carrier1-rx"[^}]*outcome="delivered"\} 3/);
    expect(text).toMatch(/smpp_unmatched_receipts_total\{bind_name="carrier1-rx"[^}]*\} 0/);
    // The receiver bind never polls: only the transmitter took messages.
    expect(await settledAccounting(gateway)).toMatchObject({ taken: 3, sent: 3 });
  });

  it('counts and acknowledges receipts for unknown message ids', async () => {
    stack = await startStack();
    const { sim, gateway } = stack;
    gateway.setClientBinds([clientBind(sim)]);
    await until('bound', () => gateway.status('default', 'carrier1', 'SmppClientBind')?.phase === 'Bound');
    const r = await sim.state.sendMo({
      source: '447700900123',
      destination: '12345',
      esmClass: 0x04,
      text: 'id:99999999 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:x',
    });
    expect(r.commandStatus).toBe(0);
    // The deliver_sm_resp is sent after the handler finished, so the count is already there.
    const text = await stack.registry.metrics();
    expect(text).toMatch(/smpp_unmatched_receipts_total\{[^}]*bind_name="carrier1"[^}]*\} 1/);
    expect(stack.logs.some((l) => l.includes('unknown message id'))).toBe(true);
  });
});
