import { afterEach, describe, expect, it } from 'vitest';
import type { CoreMessage } from '../../../src/core/index.js';
import { CoreError } from '../../../src/core/index.js';
import { createLogger } from '../../../src/log.js';
import { Accounting } from '../../../src/gateway/accounting.js';
import { gridDelay, MtPump, type Decision, type MtPumpOptions } from '../../../src/gateway/mt-pump.js';
import { Reporter } from '../../../src/gateway/reporter.js';
import { InFlightIds } from '../../../src/gateway/types.js';
import { waitFor } from '../../helpers/wait.js';

const log = createLogger({ level: 'silent' });

/** A core queue with the reference's semantics: GET returns every unsent message, in flight or not. */
class QueueCore {
  readonly queue = new Map<string, CoreMessage>();
  readonly calls: string[] = [];
  polls = 0;
  failNext = 0;
  down = false;
  constructor(messages: CoreMessage[]) {
    for (const m of messages) this.queue.set(m.id, m);
  }
  retryDelayMs(): number {
    return 0;
  }
  /** Answer polls this late, with the queue as it was when asked (a slow core). */
  pollDelayMs = 0;
  async poll(smsc: string): Promise<CoreMessage[]> {
    this.polls++;
    if (this.down)
      throw new CoreError('down', { endpoint: 'poll', temporary: true, outcome: 'connection_error' });
    const snapshot = [...this.queue.values()].filter((m) => m.dest_smsc === smsc);
    if (this.pollDelayMs > 0) await new Promise((r) => setTimeout(r, this.pollDelayMs));
    return snapshot;
  }
  private maybeFail(endpoint: string): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new CoreError('http 503', { endpoint, status: 503, temporary: true, outcome: 'server_error' });
    }
  }
  async markSent(id: string, carrierId: string): Promise<void> {
    this.maybeFail('mark_sent');
    this.calls.push(`sent ${id} ${carrierId}`);
    this.queue.delete(id);
  }
  async returnForRetry(id: string): Promise<void> {
    this.maybeFail('return_for_retry');
    this.calls.push(`retry ${id}`);
  }
  async markFailed(id: string): Promise<void> {
    this.maybeFail('mark_failed');
    this.calls.push(`failed ${id}`);
    this.queue.delete(id);
  }
}

function msg(id: number, dest: string | null): CoreMessage {
  return { id: String(id), source_msisdn: '1', destination_msisdn: '2', message_body: 'x', dest_smsc: dest };
}

const pumps: MtPump[] = [];
afterEach(() => {
  for (const p of pumps.splice(0)) p.stop();
});

/** A pump on `core` with this file's usual settings; stopped after each test. */
function pumpOn(
  core: QueueCore,
  o: Partial<MtPumpOptions> & Pick<MtPumpOptions, 'intervalMs' | 'batch' | 'deliver'>,
): MtPump {
  const pump = new MtPump({
    smscName: 'mine',
    core,
    reporter: new Reporter(core, log),
    acct: new Accounting(),
    inFlightIds: new InFlightIds(),
    log,
    canPoll: () => true,
    ...o,
  });
  pumps.push(pump);
  return pump;
}

const until = (cond: () => boolean, ms = 5000): Promise<void> => waitFor(cond, ms);

describe('MtPump', () => {
  // The core's GET returns every ready message: with a backlog, a pump that takes only its
  // batch per poll has each message carried (and parsed) by many polls.
  async function drainBacklog(
    maxBatch: number | undefined,
  ): Promise<{ returned: number; most: number; limitAfter: number }> {
    const core = new QueueCore(Array.from({ length: 2000 }, (_, i) => msg(i + 1, 'mine')));
    let returned = 0;
    const poll = core.poll.bind(core);
    core.poll = async (smsc: string) => {
      const list = await poll(smsc);
      returned += list.length;
      return list;
    };
    let holding = 0;
    let most = 0;
    const pump = pumpOn(core, {
      intervalMs: 5,
      batch: 20,
      ...(maxBatch === undefined ? {} : { maxBatch }),
      core,
      deliver: async () => {
        most = Math.max(most, ++holding);
        await new Promise((r) => setImmediate(r));
        holding--;
        return { outcome: 'sent', carrierId: 'c' };
      },
    });
    pump.start();
    await until(() => core.queue.size === 0, 20_000);
    await until(() => pump.inFlight === 0);
    // One more poll finds nothing new: the pump is back to its batch.
    await until(() => pump.holdLimit === 20);
    return { returned, most, limitAfter: pump.holdLimit };
  }

  it('holds more per poll while the core shows a backlog, within maxBatch, and goes back after', async () => {
    const fixed = await drainBacklog(undefined);
    const adaptive = await drainBacklog(500);
    // Without it each of the 2,000 messages came back in dozens of polls.
    expect(fixed.returned / 2000).toBeGreaterThan(20);
    expect(adaptive.returned / 2000).toBeLessThan(6);
    expect(fixed.most).toBeLessThanOrEqual(20);
    expect(adaptive.most).toBeLessThanOrEqual(500);
    expect(adaptive.most).toBeGreaterThan(20);
    expect(adaptive.limitAfter).toBe(20);
  });

  it('takes only its own smscName, never a message twice while in flight, and reports each outcome', async () => {
    const msgs = [
      ...Array.from({ length: 30 }, (_, i) => msg(i + 1, 'mine')),
      msg(100, 'other'),
      msg(101, null),
    ];
    const core = new QueueCore(msgs);
    const acct = new Accounting();
    const delivered: string[] = [];
    const pending: ((d: Decision) => void)[] = [];
    const pump = pumpOn(core, {
      intervalMs: 5,
      batch: 8,
      core,
      acct,
      deliver: (m) => {
        delivered.push(m.id);
        return new Promise((r) => pending.push(r));
      },
    });
    pump.start();
    await until(() => delivered.length === 8);
    // Polls keep coming back with the same messages: none may be taken again.
    await new Promise((r) => setTimeout(r, 50));
    expect(delivered).toHaveLength(8);
    expect(pump.inFlight).toBe(8);
    // Resolve as they come: sent, returned or failed by id.
    const decideAll = (): void => {
      while (pending.length > 0) {
        const r = pending.shift() as (d: Decision) => void;
        r({ outcome: 'sent', carrierId: 'c' });
      }
    };
    await until(() => {
      decideAll();
      return core.queue.size === 2;
    });
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(delivered).toHaveLength(30);
    expect(delivered).not.toContain('100');
    expect(delivered).not.toContain('101');
    await until(() => pump.inFlight === 0);
    const s = acct.snapshot();
    expect(s).toMatchObject({ taken: 30, sent: 30, returned: 0, failed: 0, inFlight: 0, reportsPending: 0 });
  });

  it('keeps a message in flight until its report lands, retrying while the core fails', async () => {
    const core = new QueueCore([msg(1, 'mine'), msg(2, 'mine'), msg(3, 'mine')]);
    core.failNext = 4;
    const acct = new Accounting();
    const seen: string[] = [];
    const ids = new InFlightIds();
    const pump = pumpOn(core, {
      intervalMs: 5,
      batch: 10,
      core,
      reporter: new Reporter(core, log, { minDelayMs: 5, maxDelayMs: 20 }),
      acct,
      inFlightIds: ids,
      deliver: async (m) => {
        seen.push(m.id);
        if (m.id === '1') return { outcome: 'sent', carrierId: 'c1' };
        if (m.id === '2') return { outcome: 'failed', reason: 'ESME_RINVDSTADR' };
        return { outcome: 'returned', reason: 'throttled' };
      },
    });
    pump.start();
    await until(() => core.calls.some((c) => c.startsWith('sent 1')) && core.calls.includes('failed 2'));
    pump.stop();
    await pump.idle();
    // 1 and 2 were delivered exactly once although every poll returned them until reported.
    expect(seen.filter((x) => x === '1')).toHaveLength(1);
    expect(seen.filter((x) => x === '2')).toHaveLength(1);
    expect(ids.size).toBe(0);
    const s = acct.snapshot();
    expect(s.taken).toBe(s.sent + s.returned + s.failed + s.released);
    expect(s.sent).toBe(1);
    expect(s.failed).toBe(1);
    expect(s.returned).toBeGreaterThanOrEqual(1);
  });

  it('does not take a message again from a poll answered after the message was reported', async () => {
    const core = new QueueCore([msg(1, 'mine')]);
    core.pollDelayMs = 60;
    const seen: string[] = [];
    const pump = pumpOn(core, {
      intervalMs: 5,
      batch: 10,
      core,
      deliver: async (m) => {
        seen.push(m.id);
        // Reported while the next (slow) poll is already on its way with the old queue.
        await new Promise((r) => setTimeout(r, 30));
        return { outcome: 'sent', carrierId: 'x' };
      },
    });
    pump.start();
    await until(() => core.polls >= 4);
    expect(seen).toEqual(['1']);
    expect(core.calls).toEqual(['sent 1 x']);
  });

  it('tells the core nothing of a released message and takes it again on a later poll', async () => {
    const core = new QueueCore([msg(1, 'mine')]);
    const acct = new Accounting();
    const ids = new InFlightIds();
    let tries = 0;
    const pump = pumpOn(core, {
      intervalMs: 5,
      batch: 10,
      core,
      acct,
      inFlightIds: ids,
      deliver: async () =>
        ++tries === 1
          ? { outcome: 'released', reason: 'SMPP session stopped' }
          : { outcome: 'sent', carrierId: 'x' },
    });
    pump.start();
    await until(() => core.calls.length > 0);
    // No PUT for the release: the only call is the later send.
    expect(core.calls).toEqual(['sent 1 x']);
    await until(() => pump.inFlight === 0);
    expect(acct.snapshot()).toMatchObject({ taken: 2, sent: 1, released: 1, returned: 0, inFlight: 0 });
    expect(ids.size).toBe(0);
  });

  it('does not poll while canPoll() is false and backs off while the core is down', async () => {
    const core = new QueueCore([msg(1, 'mine')]);
    let bound = false;
    const pump = pumpOn(core, {
      intervalMs: 10,
      batch: 10,
      core,
      canPoll: () => bound,
      deliver: async () => ({ outcome: 'sent', carrierId: 'x' }),
    });
    pump.start();
    await new Promise((r) => setTimeout(r, 60));
    expect(core.polls).toBe(0);
    core.down = true;
    bound = true;
    await until(() => core.polls >= 2);
    core.down = false;
    await until(() => core.calls.includes('sent 1 x'));
  });
});

describe('Reporter', () => {
  it('gives up on a 4xx, and abandons what still fails at the drain deadline', async () => {
    let calls = 0;
    const reporter = new Reporter({ retryDelayMs: () => 0 }, log, { minDelayMs: 5, maxDelayMs: 10 });
    const acct = new Accounting();
    const done: string[] = [];
    reporter.report(
      'mark_failed',
      'a',
      async () => {
        calls++;
        throw new CoreError('http 404', {
          endpoint: 'mark_failed',
          status: 404,
          temporary: false,
          outcome: 'client_error',
        });
      },
      () => done.push('a'),
      acct,
    );
    reporter.report(
      'mark_sent',
      'b',
      async () => {
        throw new CoreError('refused', {
          endpoint: 'mark_sent',
          temporary: true,
          outcome: 'connection_error',
        });
      },
      () => done.push('b'),
      acct,
    );
    await until(() => done.includes('a'));
    expect(calls).toBe(1);
    await reporter.drain(Date.now() + 50);
    expect(done).toEqual(['a', 'b']);
    expect(acct.snapshot()).toMatchObject({ reportsPending: 0, reportsAbandoned: 1 });
  });
});

describe('gridDelay', () => {
  it('ends every wait on one shared grid, on average intervalMs away', () => {
    const ends = new Set<number>();
    let sum = 0;
    const n = 1000;
    for (let i = 0; i < n; i++) {
      const now = 10_000 + i * 1.37; // pumps whose last polls ended at scattered moments
      const d = gridDelay(1000, now);
      sum += d;
      ends.add(now + d);
      expect(Math.abs(d - 1000)).toBeLessThanOrEqual(25);
    }
    // 1,000 waits over 1.37 s end on about 1.37 s / 50 ms slots, not on 1,000 moments.
    expect(ends.size).toBeLessThanOrEqual(30);
    expect(Math.abs(sum / n - 1000)).toBeLessThan(2);
    // The 100 ms default: 5 ms slots.
    expect(gridDelay(100, 12_341) + 12_341).toBe(12_440);
  });
});

describe('MtPump idle polls', () => {
  it('polls on the shared grid: pumps started apart poll in the same turns', async () => {
    const core = new QueueCore([]);
    const at: number[] = [];
    const poll = core.poll.bind(core);
    core.poll = (smsc: string) => {
      at.push(performance.now());
      return poll(smsc);
    };
    for (let i = 0; i < 10; i++) {
      pumpOn(core, {
        intervalMs: 1000,
        batch: 10,
        deliver: () => Promise.resolve({ outcome: 'released', reason: 'x' }),
      }).start();
      await new Promise((r) => setTimeout(r, 7));
    }
    await until(() => at.length >= 20);
    // The first poll of each is at once; every later one near a point of the 50 ms grid (a timer
    // fires a millisecond or two early, and late under load), where ten timers
    // of their own, started 7 ms apart, would be spread over the whole slot.
    const later = at.slice(10);
    const off = later.map((t) => Math.min(t % 50, 50 - (t % 50)));
    expect(Math.max(...off), off.map((x) => x.toFixed(1)).join(' ')).toBeLessThan(20);
  });
});
