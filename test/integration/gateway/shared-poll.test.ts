// Binds sharing one smscName on one gateway poll the core once per interval between them, not
// once each, and still send every message exactly once; against devcore + the SMSC simulator.
import { afterEach, describe, expect, it } from 'vitest';
import type { DevCore } from '../../../src/devcore/index.js';
import {
  CARRIER_PASSWORD,
  clientBind,
  enqueue,
  rec,
  settledAccounting,
  startStack,
  until,
  type Stack,
} from './harness.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const BINDS = 4;
const INTERVAL_MS = 250;

function pollsSince(core: DevCore, smsc: string, since: number): number {
  return core.requests().filter((r) => r.method === 'GET' && r.smsc === smsc && Date.parse(r.at) >= since)
    .length;
}

describe('core polls shared by the binds of one smscName', () => {
  it('polls once per interval for four binds of one smscName, and each message goes out once', async () => {
    stack = await startStack({
      sim: {
        users: Array.from({ length: BINDS }, (_, i) => ({
          systemId: `carrier${i}`,
          password: CARRIER_PASSWORD,
        })),
      },
    });
    const { core, sim, gateway } = stack;
    gateway.setClientBinds(
      Array.from({ length: BINDS }, (_, i) => ({
        ...clientBind(sim, 'carrier_x', {
          systemId: `carrier${i}`,
          queueCheckInterval: INTERVAL_MS,
          window: 5,
        }),
        name: `tx${i}`,
      })),
    );
    await until('all bound', () =>
      Array.from({ length: BINDS }, (_, i) => gateway.status('default', `tx${i}`, 'SmppClientBind')).every(
        (s) => s?.phase === 'Bound',
      )
        ? true
        : undefined,
    );
    // Idle: count the core's GETs for the smscName over a few intervals.
    const since = Date.now();
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 12));
    const idlePolls = pollsSince(core, 'carrier_x', since);
    const elapsed = Date.now() - since;
    // One poll per interval (plus one at either edge), where four binds on their own made four.
    expect(idlePolls).toBeGreaterThan(0);
    expect(idlePolls).toBeLessThanOrEqual(Math.ceil(elapsed / INTERVAL_MS) + 2);

    // Traffic: every message out exactly once, spread over the binds that had room.
    const ids = enqueue(
      core,
      'carrier_x',
      Array.from({ length: 200 }, (_, i) => `shared ${i}`),
    );
    await until('200 sent', () => (ids.every((id) => rec(core, id).deliver_time) ? true : undefined), 40_000);
    const a = await settledAccounting(gateway);
    expect(a).toMatchObject({ taken: 200, sent: 200, returned: 0, failed: 0 });
    const submits = sim.state.messages(0, 10_000).messages;
    expect(submits).toHaveLength(200);
    expect(new Set(submits.map((s) => s.text)).size).toBe(200);
    expect(core.store.stats().duplicateSends).toBe(0);
  });
});
