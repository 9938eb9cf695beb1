// The table a page is sent with: counters gathered first when none are fresh, but a pod that
// does not answer does not hold the page up.
import { describe, expect, it } from 'vitest';
import { ConsoleHub, type CounterSnapshot } from '../../../src/console/hub.js';
import type { BindRow, ConsoleSource } from '../../../src/console/types.js';
import { createLogger } from '../../../src/log.js';

const row: BindRow = {
  key: 'client/ns/c',
  mode: 'client',
  namespace: 'ns',
  name: 'c',
  smscName: 'c',
  systemId: 's',
  phase: 'Bound',
  bindType: 'transceiver',
  suspended: false,
};

function source(): ConsoleSource {
  return {
    meta: () => ({
      mode: 'cluster',
      servedBy: 'gw-a',
      listener: { host: '0.0.0.0', port: 2775, maxConnections: 10, tls: false },
      actions: 'kubernetes',
    }),
    rows: () => [{ ...row }],
    onChange: () => () => undefined,
    viewer: async () => ({ canPatch: {} }),
    act: async () => ({ status: 403, message: 'no' }),
  };
}

const counters = (sent: number): CounterSnapshot => ({
  byKey: new Map([[row.key, { sent, received: 0, failed: 0, inFlight: 0 }]]),
  unreachable: [],
});

describe('ConsoleHub.pageSnapshot', () => {
  it('gathers counters for the page when none are fresh', async () => {
    let calls = 0;
    const hub = new ConsoleHub({
      source: source(),
      counters: async () => counters(++calls * 10),
      log: createLogger({ level: 'silent' }),
    });
    expect((await hub.pageSnapshot()).binds[0]?.counters?.sent).toBe(10);
    // Fresh (within one interval): not gathered again.
    expect((await hub.pageSnapshot()).binds[0]?.counters?.sent).toBe(10);
    expect(calls).toBe(1);
    hub.close();
  });

  it('sends the page without counters after 300 ms when a pod does not answer, and has them once it does', async () => {
    let answer!: (c: CounterSnapshot) => void;
    const hub = new ConsoleHub({
      source: source(),
      counters: () => new Promise<CounterSnapshot>((r) => (answer = r)),
      log: createLogger({ level: 'silent' }),
    });
    // The counters answer only after the page is out: were the page waiting for them, this
    // would never resolve.
    const snap = await hub.pageSnapshot();
    expect(snap.binds.map((b) => b.key)).toEqual([row.key]);
    expect(snap.binds[0]?.counters).toBeUndefined();
    answer(counters(7));
    await new Promise((r) => setTimeout(r, 0));
    expect(hub.snapshot().binds[0]?.counters?.sent).toBe(7);
    hub.close();
  });
});
