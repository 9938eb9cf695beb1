import type { DeliverFields } from '../../../src/smpp/pdu/message.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parseReceipt } from '../../../src/codec/index.js';
import { CoreError } from '../../../src/core/index.js';
import {
  finalStateOf,
  PartnerReceipts,
  receiptFields,
  type TrackedSubmit,
} from '../../../src/gateway/partner-receipts.js';
import { createLogger } from '../../../src/log.js';
import { createMetrics, makeBindLabels } from '../../../src/metrics.js';
import { SmppStatusError, SmppUnsentError } from '../../../src/smpp/errors.js';

const log = createLogger({ level: 'silent' });
const now = new Date('2026-11-23T10:00:00Z');
const labels = makeBindLabels({ namespace: 'default', name: 'partner1', mode: 'server', systemId: 'p1' });

function submit(coreId: string, registeredDelivery = 1, submittedAt = new Date()): TrackedSubmit {
  return {
    bindKey: 'default/partner1',
    labels,
    coreId,
    registeredDelivery,
    source: { addr: '447700900777', ton: 1, npi: 1 },
    destination: { addr: '447700900888', ton: 1, npi: 1 },
    text: 'Olá, this is a longer text than twenty',
    submittedAt,
  };
}

describe('finalStateOf', () => {
  const future = '2026-11-24T10:00:00Z';
  const past = '2026-11-23T09:00:00Z';
  it.each([
    ['queued', { deliver_time: null, expires: future }, null],
    ['sent, no receipt yet', { deliver_time: past, status: 'sent', expires: past }, null],
    ['en route', { deliver_time: past, status: 'enroute', dlr_state: 'ENROUTE' }, null],
    ['delivered (our receipt PATCH)', { status: 'delivered', dlr_state: 'DELIVRD' }, 'DELIVRD'],
    ['delivered (the reference spelling)', { status: 'entregue' }, 'DELIVRD'],
    ['refused by the carrier', { status: 'failed', dlr_state: 'REJECTD', dlr_error: '011' }, 'REJECTD'],
    ['failed permanently at submit', { status: 'failed', deadletter: true }, 'UNDELIV'],
    ['dead-lettered after its attempts', { deadletter: true, deliver_time: null }, 'UNDELIV'],
    ['expired before it was sent', { deliver_time: null, expires: past }, 'EXPIRED'],
  ])('%s', (_what, rec, want) => {
    expect(finalStateOf(rec, now)?.state ?? null).toBe(want);
  });

  it('keeps the carrier error and the delivery time', () => {
    const f = finalStateOf(
      { status: 'failed', dlr_state: 'UNDELIV', dlr_error: '034', updated_at: past },
      now,
    );
    expect(f).toEqual({ state: 'UNDELIV', err: '034', doneAt: new Date(past) });
  });
});

describe('receiptFields', () => {
  it('goes back from the destination to the source, with the TLVs and a text that parses back', () => {
    const t = submit('42', 1, new Date('2026-11-23T09:58:00Z'));
    const f = receiptFields(t, { state: 'DELIVRD', err: '000', doneAt: now });
    expect(f).toMatchObject({
      source_addr: '447700900888',
      destination_addr: '447700900777',
      esm_class: 0x04,
      receipted_message_id: '42',
      message_state: 2,
    });
    const r = parseReceipt({ text: (f.short_message as Buffer).toString('latin1') });
    expect(r).toMatchObject({
      messageId: '42',
      state: 'DELIVRD',
      err: '000',
      submitDate: t.submittedAt,
      doneDate: now,
    });
    // Twenty characters, printable ASCII only.
    expect(r?.text).toBe('Ol?, this is a longe');
  });
});

/** A core whose messages the test sets; GET answers from the map. */
class FakeCore {
  readonly messages = new Map<string, Record<string, unknown>>();
  gets = 0;
  down = false;
  retryDelayMs(): number {
    return 0;
  }
  async getMessage(id: string): Promise<Record<string, unknown> | null> {
    this.gets++;
    if (this.down)
      throw new CoreError('down', { endpoint: 'get_message', temporary: true, outcome: 'connection_error' });
    return this.messages.get(id) ?? null;
  }
}

const trackers: PartnerReceipts[] = [];
afterEach(() => {
  for (const t of trackers.splice(0)) t.stop();
});

function setup(opts: { maxTracked?: number; maxAgeMs?: number } = {}) {
  const core = new FakeCore();
  const metrics = createMetrics();
  const sent: DeliverFields[] = [];
  let fail: Error | null = null;
  const receipts = new PartnerReceipts({
    core,
    deliver: async (_key, fields) => {
      if (fail) throw fail;
      sent.push(fields);
      return { command: 'deliver_sm_resp' as const, command_status: 0, sequence_number: 1, message_id: '' };
    },
    metrics,
    log,
    checkDelaysMs: [0],
    tickMs: 3_600_000, // driven by the test
    ...opts,
  });
  trackers.push(receipts);
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 5; i++) {
      receipts.tick(Date.now() + 1);
      await new Promise((r) => setImmediate(r));
    }
  };
  const result = async (r: string): Promise<number> =>
    (await metrics.partnerReceipts.get()).values.find((v) => v.labels.result === r)?.value ?? 0;
  return { core, metrics, sent, receipts, settle, result, failWith: (e: Error | null) => (fail = e) };
}

describe('PartnerReceipts', () => {
  it('checks until the message is final, then sends one receipt', async () => {
    const { core, sent, receipts, settle, result } = setup();
    core.messages.set('1', { deliver_time: null, expires: '2099-01-01T00:00:00Z' });
    receipts.track(submit('1'));
    await settle();
    expect(sent).toHaveLength(0);
    expect(receipts.size).toBe(1);
    core.messages.set('1', { status: 'delivered', dlr_state: 'DELIVRD' });
    await settle();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ receipted_message_id: '1', message_state: 2 });
    expect(receipts.size).toBe(0);
    expect(await result('sent')).toBe(1);
  });

  it('does not track submits without registered_delivery, and honours "failures only"', async () => {
    const { core, sent, receipts, settle, result } = setup();
    receipts.track(submit('1', 0));
    expect(receipts.size).toBe(0);
    core.messages.set('2', { status: 'delivered' });
    core.messages.set('3', { status: 'failed', deadletter: true });
    receipts.track(submit('2', 2));
    receipts.track(submit('3', 2));
    await settle();
    expect(sent.map((f) => f.receipted_message_id)).toEqual(['3']);
    expect(await result('not_requested')).toBe(1);
  });

  it('keeps a receipt while the partner has no session, and sends it when one binds', async () => {
    const { core, sent, receipts, settle, failWith } = setup();
    core.messages.set('1', { status: 'delivered' });
    failWith(new SmppUnsentError('no receiver or transceiver session bound'));
    receipts.track(submit('1'));
    await settle();
    expect(sent).toHaveLength(0);
    const gets = core.gets;
    failWith(null);
    receipts.poke('default/partner1');
    await settle();
    expect(sent).toHaveLength(1);
    expect(core.gets).toBe(gets); // the final state was kept: no new check
  });

  it('retries while the core is down', async () => {
    const { core, sent, receipts, settle } = setup();
    core.messages.set('1', { status: 'delivered' });
    core.down = true;
    receipts.track(submit('1'));
    await settle();
    expect(sent).toHaveLength(0);
    core.down = false;
    await settle();
    expect(sent).toHaveLength(1);
  });

  it('counts a message dropped while its check is on its way once, as dropped', async () => {
    const { core, metrics, sent, receipts, result } = setup();
    let answer: (m: Record<string, unknown>) => void = () => undefined;
    core.getMessage = () => new Promise((r) => (answer = r));
    receipts.track(submit('1'));
    receipts.tick(Date.now() + 1);
    receipts.dropBind('default/partner1');
    await new Promise((r) => setImmediate(r));
    answer({ status: 'delivered' });
    await new Promise((r) => setImmediate(r));
    expect(sent).toHaveLength(0);
    expect(await result('dropped')).toBe(1);
    expect(await result('sent')).toBe(0);
    expect((await metrics.partnerReceiptsPending.get()).values[0]?.value).toBe(0);
  });

  it('counts what it gives up on: refused, unknown to the core, too old, evicted, dropped', async () => {
    const { core, receipts, settle, result, failWith } = setup({ maxTracked: 2, maxAgeMs: 60_000 });
    core.messages.set('1', { status: 'delivered' });
    failWith(new SmppStatusError('deliver_sm', 0x45));
    receipts.track(submit('1'));
    await settle();
    expect(await result('refused')).toBe(1);
    failWith(null);
    receipts.track(submit('gone'));
    await settle();
    expect(await result('unknown_message')).toBe(1);
    core.messages.set('old', { deliver_time: null });
    receipts.track(submit('old', 1, new Date(Date.now() - 120_000)));
    await settle();
    expect(await result('expired')).toBe(1);
    core.messages.set('a', { deliver_time: null });
    core.messages.set('b', { deliver_time: null });
    core.messages.set('c', { deliver_time: null });
    receipts.track(submit('a'));
    receipts.track(submit('b'));
    receipts.track(submit('c'));
    await new Promise((r) => setImmediate(r)); // the queue answers asynchronously (it may be Redis)
    expect(await result('evicted')).toBe(1);
    receipts.dropBind('default/partner1');
    await new Promise((r) => setImmediate(r));
    expect(await result('dropped')).toBe(2);
    expect(receipts.size).toBe(0);
  });
});
