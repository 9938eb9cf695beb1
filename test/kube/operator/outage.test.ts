// Fencing through an API server outage, with gateway pods as real `smpp-operator run` processes:
// the kube-apiserver of a dedicated control plane is frozen (SIGSTOP: requests hang, nothing is
// refused) for longer than the lease while client binds on two processes carry traffic. A pod
// that cannot renew must stop its sessions on its own before anyone could take its binds over;
// after the API server is back (SIGCONT) every bind is Bound again exactly once, and every
// message queued before and during the outage reaches the carrier with nothing lost and the
// duplicates counted.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDevCore, type DevCore } from '../../../src/devcore/index.js';
import { startSmscSim, type RunningSmscSim } from '../../../src/sim/index.js';
import { startControlPlane, stopControlPlane, type ControlPlaneInfo } from '../control-plane.js';
import { adminKubeConfig, eventually } from '../helpers.js';
import { apis, clientBind, ensureCrds, GV, putSecret, type BindView } from './harness.js';
import { allRunning, startGatewayProc, type GatewayProc } from './procs.js';

const TIMEOUT = 300_000;
const LEASE_S = 4;
const GROUPS = 8;
const PER_GROUP = 200;

describe('API server outage with gateway processes', () => {
  let info: ControlPlaneInfo | undefined;
  let apiserverPid = 0;
  let frozen = false;
  let sim: RunningSmscSim | undefined;
  let core: DevCore | undefined;
  const procs: GatewayProc[] = [];

  afterEach(async () => {
    if (frozen) process.kill(apiserverPid, 'SIGCONT');
    frozen = false;
    for (const p of procs.splice(0)) await p.terminate(15_000);
    await sim?.close();
    await core?.close();
    if (info) await stopControlPlane(info);
    info = undefined;
  });

  it(
    'two pods fence themselves while the API server is frozen beyond the lease, then every bind is Bound once and every message sent once',
    async () => {
      info = await startControlPlane();
      apiserverPid = Number((await readFile(join(info.stateDir, 'apiserver.pid'), 'utf8')).trim());
      await ensureCrds(info);
      const { core: coreApi, custom } = apis(adminKubeConfig(info));
      const ns = 'outage';
      await coreApi.createNamespace({ body: { metadata: { name: ns } } });
      await putSecret(coreApi, ns, 'creds', 'pw');
      sim = await startSmscSim({ httpPort: null, historyLimit: 50_000 });
      core = await startDevCore({ port: 0, backoffScale: 0.0005 });
      const simRef = sim;
      const coreRef = core;
      for (const name of ['gw-a', 'gw-b']) {
        procs.push(
          startGatewayProc(name, {
            namespace: ns,
            coreUrl: core.url,
            leaseSeconds: LEASE_S,
            extra: { KUBECONFIG: info.adminKubeconfig, SHUTDOWN_GRACE_SECONDS: '2' },
          }),
        );
      }
      await allRunning(procs);
      for (let i = 0; i < GROUPS; i++) {
        await custom.createNamespacedCustomObject({
          ...GV,
          plural: 'smppclientbinds',
          namespace: ns,
          body: clientBind(ns, `o-${i}`, {
            host: '127.0.0.1',
            port: sim.smppPort,
            smscName: `carrier_o${i}`,
            systemId: `o${i}`,
            passwordSecretRef: { name: 'creds', key: 'password' },
            reconnect: { minDelay: '200ms', maxDelay: '1s' },
            queueCheckInterval: 200,
            tpsLimit: 25,
          }),
        });
      }
      const listBinds = async (): Promise<BindView[]> =>
        (
          (await custom.listNamespacedCustomObject({
            ...GV,
            plural: 'smppclientbinds',
            namespace: ns,
          })) as { items: BindView[] }
        ).items;
      // Which pod runs each bind, once every bind is Bound.
      const placement = (items: BindView[]): Map<string, string> | undefined => {
        if (items.length !== GROUPS) return undefined;
        const m = new Map<string, string>();
        for (const b of items) {
          if (b.status?.phase !== 'Bound') return undefined;
          m.set(b.metadata.name, b.status.gatewayPod ?? '');
        }
        return m;
      };
      const tails = (): string => procs.map((p) => p.tail(3000)).join('\n---\n');
      const before = await eventually(
        async () => {
          const m = placement(await listBinds());
          // Both pods run binds (the rendezvous spreads 8 groups over 2 pods).
          return m && new Set(m.values()).size === 2 ? m : undefined;
        },
        60_000,
        'every bind Bound, on both pods',
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${tails()}`);
      });

      const ids: number[] = [];
      for (let g = 0; g < GROUPS; g++)
        for (let i = 0; i < PER_GROUP; i++)
          ids.push(
            coreRef.store.create({
              source_msisdn: '+15550001111',
              destination_msisdn: `+4477${String(g)}${String(i).padStart(6, '0')}`,
              message_body: `m ${g}/${i}`,
              source_smsc: 'test',
              dest_smsc: `carrier_o${g}`,
            }).id,
          );
      const okSubmits = (): { addr: string }[] =>
        simRef.state
          .messages(0, 100_000)
          .messages.filter((m) => m.outcome === 'ok')
          .map((m) => ({ addr: m.destination.addr }));
      await eventually(
        () => (okSubmits().length >= 200 ? true : undefined),
        60_000,
        '200 sent before the outage',
      );
      const active = (): number => simRef.state.binds().systems.reduce((n, s) => n + s.active, 0);
      expect(active()).toBe(GROUPS);

      // Freeze the API server for three lease durations: no pod can renew, and no pod learns
      // anything from the API server either.
      process.kill(apiserverPid, 'SIGSTOP');
      frozen = true;
      const frozenAt = Date.now();
      const sentAtFreeze = okSubmits().length;
      // Each pod fences itself within its renew deadline (2/3 of the lease after its last
      // renewal): by one lease duration into the outage no session is left at the carrier.
      const fencedAfterMs = await eventually(
        () => (active() === 0 ? Date.now() - frozenAt : undefined),
        LEASE_S * 1000 + 2000,
        'every session stopped by fencing while the API server is frozen',
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${active()} sessions up\n${tails()}`);
      });
      // And none comes back while the API server stays frozen (nobody can take a claim over).
      let upDuringOutage = 0;
      while (Date.now() - frozenAt < 3 * LEASE_S * 1000) {
        upDuringOutage = Math.max(upDuringOutage, active());
        await new Promise((r) => setTimeout(r, 100));
      }
      const sentDuringOutage = okSubmits().length - sentAtFreeze;
      process.kill(apiserverPid, 'SIGCONT');
      frozen = false;
      const resumedAt = Date.now();
      expect(upDuringOutage, 'sessions at the carrier while fenced').toBe(0);
      for (const p of procs) expect(p.logged(/member lease lost: fencing/).length, p.name).toBeGreaterThan(0);

      // Bound again: a new session for every bind (boundSince after the freeze; the status from
      // before it says Bound too), one each at the carrier.
      const after = await eventually(
        async () => {
          const items = await listBinds();
          const m = placement(items);
          if (!m) return undefined;
          if (!items.every((b) => Date.parse(b.status?.boundSince ?? '') >= frozenAt - 1000))
            return undefined;
          const systems = simRef.state.binds().systems.filter((x) => x.systemId.startsWith('o'));
          return systems.length === GROUPS && systems.every((x) => x.active === 1) ? m : undefined;
        },
        120_000,
        'every bind Bound again after the outage',
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${tails()}`);
      });
      const rebound = Date.now() - resumedAt;
      await eventually(
        () =>
          ids.every((id) => {
            const r = coreRef.store.get(id)?.rec;
            return r !== undefined && r.deliver_time !== null && r.deliver_time !== undefined;
          })
            ? true
            : undefined,
        180_000,
        'every message sent after the outage',
      ).catch((err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(coreRef.store.stats())}\n${tails()}`);
      });

      const got = new Map<string, number>();
      for (const m of okSubmits()) got.set(m.addr, (got.get(m.addr) ?? 0) + 1);
      let dupes = 0;
      for (const v of got.values()) dupes += v - 1;
      const moved = [...after].filter(([k, v]) => before.get(k) !== v).length;
      console.log(
        `API server frozen ${3 * LEASE_S} s (lease ${LEASE_S} s): all sessions stopped ${fencedAfterMs} ms in, ` +
          `${sentDuringOutage} messages sent before that; all Bound ${rebound} ms after the thaw ` +
          `(${moved}/${GROUPS} on another pod; ${simRef.state.binds().systems.reduce((n, x) => n + x.bindsOk, 0)} binds at the carrier in all); carrier duplicates ${dupes}, ` +
          `core duplicate sends ${coreRef.store.stats().duplicateSends}`,
      );
      // Every bind once: Bound, one session each at the carrier, never two at once.
      expect(active()).toBe(GROUPS);
      for (const s of simRef.state.binds().systems)
        expect(s.maxConcurrent, s.systemId).toBeLessThanOrEqual(1);
      // Every message once: none lost, none sent twice by the core, none twice at the carrier
      // (fencing unbinds cleanly: what was submitted was answered and reported first).
      expect(got.size, 'distinct messages at the carrier').toBe(GROUPS * PER_GROUP);
      expect(dupes, 'submit_sm the carrier got twice').toBe(0);
      const stats = coreRef.store.stats();
      expect(stats.duplicateSends, 'devcore duplicate sends').toBe(0);
      expect(stats.queued, 'left queued in the core').toBe(0);
      expect(stats.sent, 'sent').toBe(GROUPS * PER_GROUP);
    },
    TIMEOUT,
  );
});
