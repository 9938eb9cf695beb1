// Faults on either side of the gateway, each followed by the accounting invariant:
// taken == sent + returned + failed + released, nothing left in flight, every report landed, no double send.
import { afterEach, describe, expect, it } from 'vitest';
import type { BindRuntimeStatus } from '../../../src/gateway/index.js';
import { clientBind, enqueue, rec, settledAccounting, startStack, until, type Stack } from './harness.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

function bodies(n: number, prefix = 'm'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix} ${i}`);
}

function allSent(s: Stack, ids: number[]): true | undefined {
  return ids.every((id) => rec(s.core, id).deliver_time) ? true : undefined;
}

async function bound(s: Stack, name = 'carrier1'): Promise<void> {
  await until(`${name} bound`, () => s.gateway.status('default', name, 'SmppClientBind')?.phase === 'Bound');
}

describe('gateway under faults', () => {
  it('returns throttled messages to the core and sends them on a later poll', async () => {
    stack = await startStack();
    const { core, sim, gateway } = stack;
    gateway.setClientBinds([clientBind(sim)]);
    await bound(stack);
    sim.state.applyFaults({ throttleNext: 3 });
    const ids = enqueue(core, 'carrier1', bodies(10));
    await until('all sent', () => allSent(stack!, ids));
    const a = await settledAccounting(gateway);
    expect(a.returned).toBe(3);
    expect(a.sent).toBe(10);
    expect(a.failed).toBe(0);
    expect(a.taken).toBe(a.sent + a.returned + a.failed + a.released);
    expect(core.store.stats().retries).toBe(3);
    expect(core.store.stats().duplicateSends).toBe(0);
    expect(await stack.registry.metrics()).toMatch(
      /smpp_throttled_total\{[^}]*bind_name="carrier1"[^}]*\} 3/,
    );
  });

  it('retries a refused part of a long message in the session instead of resending the accepted parts', async () => {
    stack = await startStack();
    const { core, sim, gateway } = stack;
    gateway.setClientBinds([clientBind(sim)]);
    await bound(stack);
    const since = sim.state.messages(0, 1).last;
    sim.state.applyFaults({ throttleNext: 1 });
    const [id] = enqueue(core, 'carrier1', ['x'.repeat(400)]) as [number];
    await until('sent', () => (rec(core, id).deliver_time ? true : undefined));
    const submits = sim.state.messages(since, 100).messages;
    expect(submits.filter((m) => m.commandStatus === 0x58)).toHaveLength(1);
    const accepted = submits.filter((m) => m.commandStatus === 0);
    expect(accepted).toHaveLength(3);
    // One concatenated message: the same reference, parts 1..3 each once.
    const udhs = accepted.map((m) => m.shortMessageHex.slice(0, 12));
    expect(new Set(udhs.map((u) => u.slice(0, 8))).size).toBe(1);
    expect(udhs.map((u) => u.slice(10, 12)).sort()).toEqual(['01', '02', '03']);
    expect(core.store.get(id)?.retries).toBe(0);
    expect(core.store.stats().duplicateSends).toBe(0);
    const a = await settledAccounting(gateway);
    expect(a).toMatchObject({ taken: 1, sent: 1, returned: 0, failed: 0 });
  });

  it('fails a message the carrier refuses for good (bad destination) without retrying it', async () => {
    stack = await startStack();
    const { core, sim, gateway } = stack;
    gateway.setClientBinds([clientBind(sim)]);
    await bound(stack);
    sim.state.applyFaults({ error: { status: 'ESME_RINVDSTADR', count: 1 } });
    const [bad, good] = enqueue(core, 'carrier1', ['first', 'second']) as [number, number];
    await until('settled', () =>
      rec(core, bad).status === 'failed' && rec(core, good).deliver_time ? true : undefined,
    );
    expect(rec(core, bad)).toMatchObject({ status: 'failed', deadletter: true });
    expect(String(rec(core, bad).failure_reason)).toContain('ESME_RINVDSTADR');
    expect(core.store.get(bad)?.retries).toBe(0);
    const a = await settledAccounting(gateway);
    expect(a).toMatchObject({ taken: 2, sent: 1, returned: 0, failed: 1 });
  });

  it('survives a carrier disconnect mid-traffic: reconnects, loses nothing, marks nothing sent twice', async () => {
    stack = await startStack();
    const { core, sim, gateway } = stack;
    const phases: string[] = [];
    gateway.on('status', (_k: string, _ns: string, name: string, s: BindRuntimeStatus) => {
      if (name === 'carrier1') phases.push(s.phase);
    });
    gateway.setClientBinds([clientBind(sim, 'carrier1', { tpsLimit: 300, window: 20 })]);
    await bound(stack);
    const ids = enqueue(core, 'carrier1', bodies(400));
    await until('some submitted', () => (sim.state.stats().submits >= 60 ? true : undefined));
    sim.state.disconnectAll();
    await until('all sent', () => allSent(stack!, ids), 40_000);
    const a = await settledAccounting(gateway);
    expect(a.sent).toBe(400);
    expect(a.taken).toBe(a.sent + a.returned + a.failed + a.released);
    expect(a.failed).toBe(0);
    expect(core.store.stats().duplicateSends).toBe(0);
    expect(phases).toContain('Reconnecting');
    expect(phases.at(-1)).toBe('Bound');
    expect(gateway.status('default', 'carrier1', 'SmppClientBind')?.lastError).toMatch(/connection lost/);
    const metrics = await stack.registry.metrics();
    expect(metrics).toMatch(/smpp_disconnection_total\{[^}]*bind_name="carrier1"[^}]*\} 1/);
    expect(metrics).toMatch(/smpp_bind_success_total\{[^}]*bind_name="carrier1"[^}]*\} 2/);
  });

  it('keeps sessions up while the core fails (500s, hangs, 503): peers get temporary errors, then it recovers', async () => {
    stack = await startStack({ coreTimeoutMs: 400 });
    const { core, sim, gateway } = stack;
    gateway.setClientBinds([clientBind(sim)]);
    await bound(stack);
    // Polls fail with 500, then hang past the client timeout.
    core.injectFault({ mode: 'error', status: 500, count: 5, method: 'GET', path: '/api/messages' });
    core.injectFault({ mode: 'hang', count: 3, method: 'GET', path: '/api/messages' });
    const ids = enqueue(core, 'carrier1', bodies(20));
    // The "sent" reports fail for a while too: the messages must stay ours, not be sent again.
    core.injectFault({ mode: 'error', status: 503, count: 10, method: 'PATCH' });
    await until('all sent', () => allSent(stack!, ids), 30_000);
    // The core goes away completely: MO gets a temporary error, the session stays bound.
    core.unavailable = true;
    const mo = await sim.state.sendMo({ source: '447700900001', destination: '123', text: 'while down' });
    expect(mo.commandStatus).toBe(0x64); // ESME_RX_T_APPN: the SMSC keeps it and retries
    const duringOutage = enqueue(core, 'carrier1', bodies(5, 'outage'));
    await new Promise((r) => setTimeout(r, 300));
    expect(gateway.status('default', 'carrier1', 'SmppClientBind')?.phase).toBe('Bound');
    core.unavailable = false;
    const mo2 = await sim.state.sendMo({ source: '447700900001', destination: '123', text: 'after' });
    expect(mo2.commandStatus).toBe(0);
    await until('outage messages sent', () => allSent(stack!, duringOutage), 30_000);
    const a = await settledAccounting(gateway);
    expect(a.sent).toBe(25);
    expect(a.taken).toBe(a.sent + a.returned + a.failed + a.released);
    expect(core.store.stats().duplicateSends).toBe(0);
    expect(sim.state.stats().submits).toBe(25); // nothing submitted twice to the carrier
    const metrics = await stack.registry.metrics();
    expect(metrics).toMatch(/smpp_disconnection_total\{[^}]*\} 0/);
    expect(metrics).toMatch(/smpp_core_api_requests_total\{endpoint="poll",outcome="server_error"\} [1-9]/);
  });

  it('drains on stop mid-traffic: every taken message is sent, returned or released, none left in flight', async () => {
    stack = await startStack();
    const { core, sim, gateway } = stack;
    gateway.setClientBinds([clientBind(sim, 'carrier1', { tpsLimit: 100, window: 10 })]);
    await bound(stack);
    sim.state.applyFaults({ delayMs: 30 });
    const ids = enqueue(core, 'carrier1', bodies(500));
    await until('some submitted', () => (sim.state.stats().submits >= 50 ? true : undefined));
    await gateway.stop(3000);
    const a = gateway.accounting();
    expect(a.inFlight).toBe(0);
    expect(a.reportsPending).toBe(0);
    expect(a.reportsAbandoned).toBe(0);
    expect(a.taken).toBe(a.sent + a.returned + a.failed + a.released);
    expect(a.held).toBe(0);
    const st = core.store.stats();
    // Every decided message reached the core: as many PUTs as returns, as many sends as sent.
    expect(st.retries).toBe(a.returned);
    expect(st.duplicateSends).toBe(0);
    const sentInCore = ids.filter((id) => rec(core, id).deliver_time).length;
    expect(sentInCore).toBe(a.sent);
    expect(sentInCore).toBeLessThan(500);
    // Messages still waiting for the TPS limit were never written: released, not PUT, so they
    // keep their attempts and are ready for the next poll at once. Only the window can be PUT.
    expect(a.released).toBeGreaterThan(0);
    expect(a.returned).toBeLessThanOrEqual(10);
    const untouched = ids.filter((id) => core.store.get(id)?.retries === 0 && !rec(core, id).deliver_time);
    expect(untouched).toHaveLength(500 - a.sent - a.returned);
    expect(await stack.registry.metrics()).toMatch(
      new RegExp(`smpp_messages_released_total\\{[^}]*bind_name="carrier1"[^}]*\\} ${a.released}\\b`),
    );
    await until('unbound', () => (sim.state.stats().boundSessions === 0 ? true : undefined));
  });

  it('reports a refused bind as Error with the SMPP status, and rebinds after the password is fixed', async () => {
    stack = await startStack();
    const { sim, gateway } = stack;
    gateway.setClientBinds([clientBind(sim, 'carrier1', {}, 'wrong-password')]);
    const s = await until('Error phase', () => {
      const st = gateway.status('default', 'carrier1', 'SmppClientBind');
      return st?.phase === 'Error' ? st : undefined;
    });
    expect(s.lastError).toMatch(/bind_transceiver_resp: ESME_RINVPASWD \(0x0000000E\)/);
    gateway.setClientBinds([clientBind(sim)]);
    await bound(stack);
  });

  it('suspends, resumes, rebinds on a reconnect token and removes binds (level-triggered)', async () => {
    stack = await startStack();
    const { sim, gateway } = stack;
    gateway.setClientBinds([clientBind(sim)]);
    await bound(stack);
    gateway.setClientBinds([clientBind(sim, 'carrier1', { suspend: true })]);
    await until(
      'suspended',
      () => gateway.status('default', 'carrier1', 'SmppClientBind')?.phase === 'Suspended',
    );
    await until('unbound at the carrier', () => (sim.state.stats().boundSessions === 0 ? true : undefined));
    gateway.setClientBinds([clientBind(sim)]);
    await bound(stack);
    const before = sim.state.stats().binds;
    // Same desired state again: nothing happens.
    gateway.setClientBinds([clientBind(sim)]);
    await new Promise((r) => setTimeout(r, 200));
    expect(sim.state.stats().binds).toBe(before);
    gateway.setClientBinds([{ ...clientBind(sim), reconnectToken: '2026-01-01T00:00:00Z' }]);
    await until('rebound', () => (sim.state.stats().binds === before + 1 ? true : undefined));
    await bound(stack);
    const unbindsBefore = sim.state.stats().unbinds;
    gateway.setClientBinds([]);
    // What a Lease hand-off waits for: resolved only once the carrier has had the unbind.
    await gateway.clientStopped('default', 'carrier1');
    expect(sim.state.stats().unbinds).toBe(unbindsBefore + 1);
    expect(gateway.status('default', 'carrier1', 'SmppClientBind')).toBeUndefined();
    await until('unbound', () => (sim.state.stats().boundSessions === 0 ? true : undefined));
    expect(await stack.registry.metrics()).not.toMatch(/bind_name="carrier1"/);
  });
});
