// The closest to real pods this machine allows: two `smpp-operator run` processes (the real
// Gateway behind the in-cluster controller, POD_NAME / POD_NAMESPACE / WATCH_NAMESPACES from the
// environment, as the downward API gives them) against the real API server, with the SMSC
// simulator as carrier and devcore as the SMS core. One is killed with SIGKILL.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDevCore, type DevCore } from '../../../src/devcore/index.js';
import { startSmscSim, type RunningSmscSim } from '../../../src/sim/index.js';
import { eventually, useNamespace } from '../helpers.js';
import { apis, clientBind, ensureCrds, GV, putSecret, type BindView, listBindViews } from './harness.js';
import { startGatewayProc, type GatewayProc } from './procs.js';

const N = 6;

describe('gateway processes as pods', () => {
  const ns = useNamespace('proc');
  let sim: RunningSmscSim;
  let core: DevCore;
  const procs: GatewayProc[] = [];
  const { core: coreApi, custom } = apis();

  beforeAll(async () => {
    await ensureCrds();
  });
  beforeEach(async () => {
    sim = await startSmscSim({ httpPort: null });
    core = await startDevCore({ port: 0 });
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.terminate(15_000);
    await sim.close();
    await core.close();
  });

  function start(name: string, leaseSeconds?: number): GatewayProc {
    const p = startGatewayProc(name, {
      namespace: ns.name,
      coreUrl: core.url,
      ...(leaseSeconds !== undefined ? { leaseSeconds } : {}),
      extra: { SHUTDOWN_GRACE_SECONDS: '2' },
    });
    procs.push(p);
    return p;
  }

  /** N client binds c0..c(N-1), each its own carrier system_id, and their Secret. */
  async function createBinds(): Promise<void> {
    await putSecret(coreApi, ns.name, 'creds', 'pw');
    for (let i = 0; i < N; i++) {
      await custom.createNamespacedCustomObject({
        ...GV,
        plural: 'smppclientbinds',
        namespace: ns.name,
        body: clientBind(ns.name, `c${i}`, {
          host: '127.0.0.1',
          port: sim.smppPort,
          systemId: `sys${i}`,
          passwordSecretRef: { name: 'creds', key: 'password' },
          reconnect: { minDelay: '200ms', maxDelay: '1s' },
        }),
      });
    }
  }

  const binds = (): Promise<BindView[]> => listBindViews(custom, ns.name);

  it('two processes share the binds, carry traffic, and a SIGKILLed one’s binds move', async () => {
    const a = start('gw-a');
    const b = start('gw-b');
    await createBinds();
    const boundOn = async (pods: string[]): Promise<Record<string, number> | undefined> => {
      const items = await binds();
      const counts: Record<string, number> = {};
      for (const x of items) {
        const pod = x.status?.gatewayPod ?? '';
        if (x.status?.phase !== 'Bound' || !pods.includes(pod)) return undefined;
        counts[pod] = (counts[pod] ?? 0) + 1;
      }
      return items.length === N && sim.state.binds().systems.filter((s) => s.active === 1).length === N
        ? counts
        : undefined;
    };
    const debug = (): string => [...a.output, ...b.output].join('').slice(-4000);
    const both = await eventually(
      async () => {
        const c = await boundOn(['gw-a', 'gw-b']);
        return c && (c['gw-a'] ?? 0) > 0 && (c['gw-b'] ?? 0) > 0 ? c : undefined;
      },
      120_000,
      'binds Bound on both processes',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${debug()}`);
    });
    expect((both['gw-a'] ?? 0) + (both['gw-b'] ?? 0)).toBe(N);

    // Traffic through the real Gateway: a message for c0's smscName reaches the carrier.
    core.store.create({
      source_msisdn: '100',
      destination_msisdn: '447700900001',
      message_body: 'hello',
      dest_smsc: 'c0',
      source_smsc: 'devcore',
    });
    await eventually(
      () => (sim.state.stats().submits >= 1 ? true : undefined),
      30_000,
      'submit_sm at the carrier',
    );

    a.child.kill('SIGKILL');
    await eventually(() => boundOn(['gw-b']), 90_000, 'every bind Bound on gw-b after gw-a was killed').catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${b.output.join('').slice(-4000)}`);
      },
    );
    for (const s of sim.state.binds().systems) expect(s.maxConcurrent, s.systemId).toBeLessThanOrEqual(1);
  }, 360_000);

  it('a SIGKILLed process started again under its pod name (a container restart) takes its binds back mid-traffic: nothing lost, nothing sent twice by the core', async () => {
    // A container restart (OOMKilled, a failed liveness probe) keeps the pod's name: the new
    // process finds its own member Lease and shard claims, held by that name, not yet expired.
    const lease = 15;
    let a = start('gw-a', lease);
    await createBinds();
    const allBoundSince = async (after: number): Promise<true | undefined> => {
      const items = await binds();
      const ok = items.every(
        (x) =>
          x.status?.phase === 'Bound' &&
          x.status.gatewayPod === 'gw-a' &&
          Date.parse(x.status.boundSince ?? '') >= after,
      );
      return items.length === N && ok && sim.state.binds().systems.filter((s) => s.active === 1).length === N
        ? true
        : undefined;
    };
    await eventually(() => allBoundSince(0), 120_000, 'binds Bound on gw-a').catch((err: Error) => {
      throw new Error(`${err.message}\n${a.tail(4000)}`);
    });

    // Traffic on every bind, still flowing when the process dies.
    const ids: number[] = [];
    for (let k = 0; k < 60; k++)
      ids.push(
        core.store.create({
          source_msisdn: '100',
          destination_msisdn: `4477009${String(k).padStart(5, '0')}`,
          message_body: `m${k}`,
          dest_smsc: `c${k % N}`,
          source_smsc: 'devcore',
        }).id,
      );
    await eventually(
      () => (sim.state.stats().submits >= 10 ? true : undefined),
      30_000,
      'traffic at the carrier',
    );
    await a.kill();
    // boundSince has 1 s resolution: a rebind is a session bound after the second of the kill.
    const killedAt = Math.floor(Date.now() / 1000) * 1000;
    const restarted = Date.now();
    a = start('gw-a', lease);
    await eventually(
      () => allBoundSince(killedAt),
      90_000,
      'every bind Bound again on the restarted gw-a',
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${a.tail(4000)}`);
    });
    const backMs = Date.now() - restarted;
    await eventually(
      () =>
        ids.every((id) => {
          const r = core.store.get(id)?.rec;
          return r?.deliver_time !== null && r?.deliver_time !== undefined;
        })
          ? true
          : undefined,
      120_000,
      'every message delivered',
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(core.store.stats())}\n${a.tail(4000)}`);
    });
    const st = core.store.stats();
    const perDest = new Map<string, number>();
    for (const m of sim.state.messages(0, 100_000).messages)
      if (m.outcome === 'ok') perDest.set(m.destination.addr, (perDest.get(m.destination.addr) ?? 0) + 1);
    const resent = [...perDest.values()].reduce((n, v) => n + v - 1, 0);
    console.log(
      `container restart: binds Bound again ${backMs} ms after the new process started (lease ${lease} s); ` +
        `carrier resends of unreported messages ${resent}, core duplicate sends ${st.duplicateSends}`,
    );
    expect(st.duplicateSends, 'devcore duplicate sends').toBe(0);
    expect(st.queued, 'left queued in the core').toBe(0);
    expect(perDest.size, 'every message reached the carrier').toBe(ids.length);
    for (const s of sim.state.binds().systems) expect(s.maxConcurrent, s.systemId).toBeLessThanOrEqual(1);
  }, 360_000);
});
