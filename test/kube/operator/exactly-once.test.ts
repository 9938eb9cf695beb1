// Many pods, one delivery: 2 and 3 `smpp-operator run` processes against the real API server,
// devcore as the core, the SMSC simulator as carrier and a plain `smpp` client as the partner.
// Each scenario counts what reached the carrier or the partner per message, devcore's duplicate
// sends (a second "sent" for one message), and that nothing is left queued.
import smpp, { type PDU, type Session } from 'smpp';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDevCore, type DevCore } from '../../../src/devcore/index.js';
import { startSmscSim, type RunningSmscSim } from '../../../src/sim/index.js';
import { eventually, kubectl, useNamespace } from '../helpers.js';
import { apis, clientBind, ensureCrds, GV, putSecret, type BindView, listBindViews } from './harness.js';
import { allRunning, metricSum, scrape, startGatewayProc, type GatewayProc } from './procs.js';

const TIMEOUT = 300_000;

interface Partner {
  sessions: { pod: string; session: Session }[];
  /** deliver_sm received, by destination address */
  got: Map<string, number>;
}

describe('exactly once across gateway processes', () => {
  const ns = useNamespace('once');
  let sim: RunningSmscSim;
  let core: DevCore;
  let procs: GatewayProc[] = [];
  let partner: Partner;
  const { core: coreApi, custom } = apis();

  beforeAll(async () => {
    await ensureCrds();
  });
  beforeEach(async () => {
    sim = await startSmscSim({ httpPort: null, historyLimit: 50_000, receipt: { delayMs: 200 } });
    core = await startDevCore({ port: 0, backoffScale: 0.0005 });
    partner = { sessions: [], got: new Map() };
    await putSecret(coreApi, ns.name, 'creds', 'pw');
  });
  afterEach(async () => {
    for (const s of partner.sessions) s.session.destroy();
    await Promise.all(procs.map((p) => p.terminate()));
    procs = [];
    await sim.close();
    await core.close();
  });

  function start(name: string, leaseSeconds = 4): GatewayProc {
    const p = startGatewayProc(name, { namespace: ns.name, coreUrl: core.url, leaseSeconds });
    procs.push(p);
    return p;
  }

  async function startPods(n: number, leaseSeconds = 4): Promise<GatewayProc[]> {
    const ps = Array.from({ length: n }, (_, i) => start(`gw-${'abc'[i]}`, leaseSeconds));
    await allRunning(ps);
    return ps;
  }

  async function createClient(name: string, spec: Record<string, unknown>): Promise<void> {
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppclientbinds',
      namespace: ns.name,
      body: clientBind(ns.name, name, {
        host: '127.0.0.1',
        port: sim.smppPort,
        passwordSecretRef: { name: 'creds', key: 'password' },
        reconnect: { minDelay: '200ms', maxDelay: '1s' },
        queueCheckInterval: 200,
        ...spec,
      }),
    });
  }

  async function createPartner(name: string, spec: Record<string, unknown> = {}): Promise<void> {
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppserverbinds',
      namespace: ns.name,
      body: {
        apiVersion: `${GV.group}/${GV.version}`,
        kind: 'SmppServerBind',
        metadata: { name, namespace: ns.name },
        spec: {
          smscName: name,
          systemId: name,
          passwordSecretRef: { name: 'creds', key: 'password' },
          ipAllowlist: ['127.0.0.1'],
          allowedBindTypes: ['receiver', 'transceiver', 'transmitter'],
          maxSessions: 8,
          queueCheckInterval: 200,
          tpsLimit: 300,
          ...spec,
        },
      },
    });
  }

  const clientBinds = (): Promise<BindView[]> => listBindViews(custom, ns.name);

  /** Every client bind Bound; returns bind name → pod. */
  async function allBound(count: number, on?: string[]): Promise<Map<string, string>> {
    return eventually(
      async () => {
        const items = await clientBinds();
        if (items.length !== count) return undefined;
        const m = new Map<string, string>();
        for (const b of items) {
          if (b.status?.phase !== 'Bound') return undefined;
          if (on && !on.includes(b.status.gatewayPod ?? '')) return undefined;
          m.set(b.metadata.name, b.status.gatewayPod ?? '');
        }
        return m;
      },
      120_000,
      `${count} client binds Bound`,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${procs.map((p) => p.tail(3000)).join('\n---\n')}`);
    });
  }

  /**
   * A receiver session of the partner on one pod's listener (retried until the pod knows the
   * server bind); counts what it gets.
   */
  async function bindPartner(p: GatewayProc, systemId: string, bindType = 'bind_receiver'): Promise<Session> {
    const { smppPort } = await p.running;
    const session = await eventually(
      () => bindOnce(smppPort, systemId, bindType).catch(() => undefined),
      60_000,
      `partner ${systemId} bound on ${p.name}`,
    );
    session.on('error', () => undefined);
    session.on('deliver_sm', (pdu: PDU) => {
      const dest = String(pdu.destination_addr);
      partner.got.set(dest, (partner.got.get(dest) ?? 0) + 1);
      session.send(pdu.response());
    });
    partner.sessions.push({ pod: p.name, session });
    return session;
  }

  function bindOnce(smppPort: number, systemId: string, bindType: string): Promise<Session> {
    return new Promise<Session>((resolve, reject) => {
      const s = smpp.connect({ host: '127.0.0.1', port: smppPort });
      s.on('error', reject);
      s.on('connect', () => {
        (s as unknown as Record<string, (o: object, cb: (pdu: PDU) => void) => void>)[bindType]!(
          { system_id: systemId, password: 'pw' },
          (pdu: PDU) => {
            if (pdu.command_status === 0) resolve(s);
            else {
              s.destroy();
              reject(new Error(`bind ${pdu.command_status}`));
            }
          },
        );
      });
    });
  }

  /** n messages for dest_smsc, each to its own number (what the counts are keyed on). */
  function enqueue(dest: string, n: number): number[] {
    return Array.from(
      { length: n },
      (_, i) =>
        core.store.create({
          source_msisdn: '+15550001111',
          destination_msisdn: `+44770${String(i).padStart(6, '0')}`,
          message_body: `m ${i}`,
          source_smsc: 'test',
          dest_smsc: dest,
        }).id,
    );
  }

  /** Submits the carrier acknowledged, by destination address. */
  function carrierGot(): Map<string, number> {
    const m = new Map<string, number>();
    for (const s of sim.state.messages(0, 100_000).messages) {
      if (s.outcome !== 'ok') continue;
      m.set(s.destination.addr, (m.get(s.destination.addr) ?? 0) + 1);
    }
    return m;
  }

  function dupes(m: Map<string, number>): number {
    let n = 0;
    for (const v of m.values()) n += v - 1;
    return n;
  }

  async function settled(ids: number[], what: string): Promise<void> {
    await eventually(
      () => {
        const done = ids.every((id) => {
          const r = core.store.get(id)?.rec;
          return r !== undefined && r.deliver_time !== null && r.deliver_time !== undefined;
        });
        return done ? true : undefined;
      },
      180_000,
      what,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}: ${JSON.stringify(core.store.stats())}\n${procs.map((p) => p.tail(3000)).join('\n---\n')}`,
      );
    });
  }

  function assertCore(total: number): void {
    const s = core.store.stats();
    expect(s.duplicateSends, 'devcore duplicate sends').toBe(0);
    expect(s.queued, 'left queued in the core').toBe(0);
    expect(s.sent, 'sent (or delivered)').toBe(total);
  }

  async function assertStoppedBalanced(ps: GatewayProc[]): Promise<void> {
    for (const p of ps) {
      await p.terminate();
      const a = p.stopped;
      expect(a, `${p.name} logged its accounting`).toBeDefined();
      if (!a) continue;
      expect(a.taken, p.name).toBe(a.sent + a.returned + a.failed + a.released);
      expect(a.inFlight, p.name).toBe(0);
      expect(a.reportsAbandoned, p.name).toBe(0);
    }
  }

  async function pollOwners(name: string, ps: GatewayProc[]): Promise<string[]> {
    const out: string[] = [];
    for (const p of ps) {
      if (p.child.exitCode !== null || p.child.signalCode !== null) continue;
      const t = await scrape(p);
      if (metricSum(t, 'smpp_mt_poll_owner', { bind_name: name }) === 1) out.push(p.name);
    }
    return out;
  }

  for (const pods of [2, 3]) {
    it(
      `${pods} pods: a partner with a receiver session on each pod gets every message once`,
      async () => {
        const ps = await startPods(pods);
        await createPartner('acme');
        for (const p of ps) await bindPartner(p, 'acme');
        const ids = enqueue('acme', 1000);
        await settled(ids, 'every message delivered to the partner');
        expect(partner.got.size).toBe(1000);
        expect(dupes(partner.got), 'deliver_sm the partner got twice').toBe(0);
        assertCore(1000);
        const owners = await pollOwners('acme', ps);
        expect(owners).toHaveLength(1);
        // The others saw a receiver session, wanted to poll, and declined (logged).
        for (const p of ps.filter((x) => x.name !== owners[0])) {
          expect(
            p.logged(/^not polling the core for this partner: another pod/).length,
            p.name,
          ).toBeGreaterThan(0);
        }
        await assertStoppedBalanced(ps);
      },
      TIMEOUT,
    );

    it(
      `${pods} pods: two client binds with one smscName run on one pod and send every message once`,
      async () => {
        const ps = await startPods(pods);
        await createClient('x-one', { smscName: 'carrier_x', systemId: 'x1', tpsLimit: 300 });
        await createClient('x-two', { smscName: 'carrier_x', systemId: 'x2', tpsLimit: 300 });
        for (let i = 0; i < 6; i++) await createClient(`other-${i}`, { systemId: `o${i}` });
        const placed = await allBound(8);
        expect(placed.get('x-one')).toBe(placed.get('x-two'));
        const ids = enqueue('carrier_x', 1000);
        await settled(ids, 'every message sent');
        const got = carrierGot();
        expect(got.size).toBe(1000);
        expect(dupes(got), 'submit_sm the carrier got twice').toBe(0);
        // Both binds carried traffic (the group shares one in-flight set, not one session).
        const systems = new Set(sim.state.messages(0, 100_000).messages.map((m) => m.systemId));
        expect(systems).toEqual(new Set(['x1', 'x2']));
        assertCore(1000);
        for (const s of sim.state.binds().systems) expect(s.maxConcurrent, s.systemId).toBeLessThanOrEqual(1);
        await assertStoppedBalanced(ps);
      },
      TIMEOUT,
    );
  }

  it(
    '3 pods: the pod running a group is SIGKILLed mid-traffic; the group moves, nothing is lost or sent twice by the core',
    async () => {
      const ps = await startPods(3);
      await createClient('k-one', { smscName: 'carrier_k', systemId: 'k1', tpsLimit: 100 });
      await createClient('k-two', { smscName: 'carrier_k', systemId: 'k2', tpsLimit: 100 });
      const placed = await allBound(2);
      const victim = ps.find((p) => p.name === placed.get('k-one')) as GatewayProc;
      const ids = enqueue('carrier_k', 1000);
      await eventually(() => (carrierGot().size >= 300 ? true : undefined), 60_000, '300 sent');
      await victim.kill();
      const rest = ps.filter((p) => p !== victim);
      await allBound(
        2,
        rest.map((p) => p.name),
      );
      await settled(ids, 'every message sent after the failover');
      const got = carrierGot();
      expect(got.size).toBe(1000);
      assertCore(1000);
      // What the killed pod had written to the carrier but not yet reported to the core is sent
      // again by its successor (the core's API has no lock): at most each bind's window (10) of
      // unanswered submits plus the "sent" reports still on their way (bounded by about a second
      // of its 100 TPS here).
      const again = dupes(got);
      console.log(`SIGKILL of the group's pod: ${again} carrier-side resends of unreported messages`);
      expect(again).toBeLessThanOrEqual(2 * (10 + 100));
      for (const s of sim.state.binds().systems) expect(s.maxConcurrent, s.systemId).toBeLessThanOrEqual(1);
      await assertStoppedBalanced(rest);
    },
    TIMEOUT,
  );

  it(
    '2 pods: the partner’s polling pod is SIGKILLed mid-traffic; the pod with the other receiver session takes over',
    async () => {
      const ps = await startPods(2);
      await createPartner('kp', { tpsLimit: 100 });
      for (const p of ps) await bindPartner(p, 'kp');
      const ids = enqueue('kp', 1000);
      const owner = await eventually(
        async () => {
          const o = await pollOwners('kp', ps);
          return o.length === 1 ? o[0] : undefined;
        },
        30_000,
        'one poller',
      );
      await eventually(() => (partner.got.size >= 300 ? true : undefined), 60_000, '300 delivered');
      const victim = ps.find((p) => p.name === owner) as GatewayProc;
      await victim.kill();
      const survivor = ps.find((p) => p !== victim) as GatewayProc;
      await settled(ids, 'every message delivered after the takeover');
      expect(await pollOwners('kp', [survivor])).toEqual([survivor.name]);
      expect(partner.got.size).toBe(1000);
      assertCore(1000);
      // As above: what the listener had in hand (a quarter second of its 100 TPS) and the reports
      // still on their way (about a second of it).
      const again = dupes(partner.got);
      console.log(`SIGKILL of the partner's poller: ${again} resends of unreported deliver_sm`);
      expect(again).toBeLessThanOrEqual(25 + 100);
      await assertStoppedBalanced([survivor]);
    },
    TIMEOUT,
  );

  it(
    '2 pods: the partner’s receiver session moves from one pod to the other mid-traffic',
    async () => {
      const ps = await startPods(2);
      const [a, b] = ps as [GatewayProc, GatewayProc];
      await createPartner('mv', { tpsLimit: 100 });
      const first = await bindPartner(a, 'mv');
      const ids = enqueue('mv', 1000);
      await eventually(() => (partner.got.size >= 300 ? true : undefined), 60_000, '300 delivered on a');
      // The partner leaves pod a and binds on pod b (what a LoadBalancer reconnect does).
      await new Promise<void>((r) => first.unbind(() => r()));
      first.destroy();
      await bindPartner(b, 'mv');
      await settled(ids, 'every message delivered after the move');
      expect(partner.got.size).toBe(1000);
      expect(dupes(partner.got), 'deliver_sm the partner got twice').toBe(0);
      assertCore(1000);
      expect(await pollOwners('mv', ps)).toEqual(['gw-b']);
      await assertStoppedBalanced(ps);
    },
    TIMEOUT,
  );

  it(
    '3 pods, rolling restart one at a time with a client group and a partner carrying traffic',
    async () => {
      let ps = await startPods(3);
      await createClient('r-one', { smscName: 'carrier_r', systemId: 'r1', tpsLimit: 50 });
      await createClient('r-two', { smscName: 'carrier_r', systemId: 'r2', tpsLimit: 50 });
      await createPartner('rp', { tpsLimit: 50 });
      for (const p of ps) await bindPartner(p, 'rp');
      await allBound(2);
      const toCarrier = enqueue('carrier_r', 1000);
      const toPartner = enqueue('rp', 1000);
      const stopped: GatewayProc[] = [];
      for (const [i, old] of [...ps].entries()) {
        // maxUnavailable 0: the new pod first, then the old one goes.
        const fresh = start(`gw-new-${i}`);
        await allRunning([fresh]);
        await bindPartner(fresh, 'rp');
        await old.terminate();
        stopped.push(old);
        ps = [...ps.filter((p) => p !== old), fresh];
        await allBound(
          2,
          ps.map((p) => p.name),
        );
      }
      await settled(toCarrier, 'every message sent through the restarts');
      await settled(toPartner, 'every partner message delivered through the restarts');
      const got = carrierGot();
      expect(got.size).toBe(1000);
      expect(dupes(got), 'carrier duplicates').toBe(0);
      expect(partner.got.size).toBe(1000);
      expect(dupes(partner.got), 'partner duplicates').toBe(0);
      assertCore(2000);
      for (const s of sim.state.binds().systems) expect(s.maxConcurrent, s.systemId).toBeLessThanOrEqual(1);
      for (const p of stopped) {
        const a = p.stopped;
        expect(a, `${p.name} stopped cleanly`).toBeDefined();
        if (a) expect(a.taken, p.name).toBe(a.sent + a.returned + a.failed + a.released);
      }
      await assertStoppedBalanced(ps);
    },
    TIMEOUT,
  );

  it(
    '2 pods: a receipt on a receiver bind matches what a transmitter bind of the same smscName sent',
    async () => {
      const ps = await startPods(2);
      await createClient('dl-tx', { smscName: 'carrier_d', systemId: 'd1', bindType: 'transmitter' });
      await createClient('dl-rx', { smscName: 'carrier_d', systemId: 'd1', bindType: 'receiver' });
      for (let i = 0; i < 4; i++) await createClient(`dl-other-${i}`, { systemId: `do${i}` });
      // Until both pods have seen each other's membership a group may still move once; the
      // receipt store here is per process (memory), so wait for a placement that holds for two
      // lease durations before sending: a move mid-test is issue 14's Redis case, not this one.
      let placed = await allBound(6);
      for (;;) {
        await new Promise((r) => setTimeout(r, 8_000));
        const again = await allBound(6);
        const same = [...placed].every(([k, v]) => again.get(k) === v);
        placed = again;
        if (same) break;
      }
      expect(placed.get('dl-tx')).toBe(placed.get('dl-rx'));
      const ids = enqueue('carrier_d', 50);
      await eventually(
        () => (ids.every((id) => core.store.get(id)?.rec.dlr_state === 'DELIVRD') ? true : undefined),
        60_000,
        'every receipt matched',
      );
      for (const id of ids) expect(core.store.get(id)?.rec.status).toBe('delivered');
      let unmatched = 0;
      for (const p of ps) unmatched += metricSum(await scrape(p), 'smpp_unmatched_receipts_total');
      expect(unmatched).toBe(0);
      assertCore(50);
    },
    TIMEOUT,
  );

  it(
    '2 pods at steady state: API writes stay under one per second per pod, whatever the number of binds',
    async () => {
      // The default lease (15 s): the figure is the one a deployment gets.
      const ps = await startPods(2, 15);
      for (let i = 0; i < 40; i++)
        await createClient(`w-${i}`, { smscName: `carrier_w${i % 20}`, systemId: `w${i}` });
      await createPartner('wp');
      for (const p of ps) await bindPartner(p, 'wp');
      await allBound(40);
      // Let status writes and claim moves finish, then count every write the API server serves.
      await new Promise((r) => setTimeout(r, 8000));
      const writes = async (): Promise<number> => {
        const out = await kubectl(['get', '--raw', '/metrics']);
        expect(out.code, out.stderr).toBe(0);
        let n = 0;
        for (const verb of ['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY'])
          n += metricSum(out.stdout, 'apiserver_request_total', { verb });
        return n;
      };
      const before = await writes();
      const t0 = Date.now();
      await new Promise((r) => setTimeout(r, 20_000));
      const after = await writes();
      const perPodPerSecond = (after - before) / ((Date.now() - t0) / 1000) / ps.length;
      console.log(
        `steady state, 40 client binds + 1 partner over 2 pods: ${perPodPerSecond.toFixed(2)} API writes/s per pod`,
      );
      expect(perPodPerSecond).toBeLessThanOrEqual(1);
    },
    TIMEOUT,
  );
});
