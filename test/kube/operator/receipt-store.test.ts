// Receipts across pods: two `smpp-operator run` processes (the real Gateway behind the in-cluster
// controller) share one real redis-server as their receipt store. The pod that sent the
// messages is SIGKILLed, or both pods are restarted one after the other, before the carrier's
// receipts are due: every message still ends delivered in the core. A partner's receipt goes out
// on whichever pod holds its receiver session.
import smpp, { type PDU, type Session } from 'smpp';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startDevCore, type DevCore } from '../../../src/devcore/index.js';
import { startSmscSim, type RunningSmscSim } from '../../../src/sim/index.js';
import { startRedis, type TestRedis } from '../../helpers/redis-server.js';
import { eventually, useNamespace } from '../helpers.js';
import { apis, clientBind, ensureCrds, GV, putSecret, type BindView } from './harness.js';
import { startGatewayProc, type GatewayProc } from './procs.js';

const MESSAGES = 200;

describe('receipt store shared by gateway processes', () => {
  const ns = useNamespace('rstore');
  let sim: RunningSmscSim;
  let core: DevCore;
  let redis: TestRedis;
  let prefixN = 0;
  let prefix = '';
  const procs: GatewayProc[] = [];
  const partners: Session[] = [];
  const { core: coreApi, custom } = apis();

  beforeAll(async () => {
    await ensureCrds();
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.cleanup();
  });
  beforeEach(async () => {
    prefix = `k${++prefixN}:`;
    core = await startDevCore({ port: 0 });
  });
  afterEach(async () => {
    for (const p of partners.splice(0)) p.destroy();
    await Promise.all(procs.splice(0).map((p) => p.terminate(20_000)));
    await sim?.close();
    await core.close();
  });

  function start(name: string): GatewayProc {
    const p = startGatewayProc(name, {
      namespace: ns.name,
      coreUrl: core.url,
      extra: {
        SHUTDOWN_GRACE_SECONDS: '5',
        RECEIPT_STORE: 'redis',
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: prefix,
      },
    });
    procs.push(p);
    return p;
  }

  const debug = (): string =>
    procs
      .map((p) => `--- ${p.name}\n${p.output.join('').slice(-3000)}`)
      .join('\n')
      .slice(-9000);

  async function carrierBind(): Promise<void> {
    await putSecret(coreApi, ns.name, 'creds', 'pw');
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppclientbinds',
      namespace: ns.name,
      body: clientBind(ns.name, 'carrier', {
        host: '127.0.0.1',
        port: sim.smppPort,
        systemId: 'carrier',
        passwordSecretRef: { name: 'creds', key: 'password' },
        reconnect: { minDelay: '200ms', maxDelay: '1s' },
        window: 50,
      }),
    });
  }

  async function boundOn(pods: string[]): Promise<string | undefined> {
    const x = (await custom.getNamespacedCustomObject({
      ...GV,
      plural: 'smppclientbinds',
      namespace: ns.name,
      name: 'carrier',
    })) as BindView;
    const pod = x.status?.gatewayPod ?? '';
    const live = sim.state.binds().systems.find((s) => s.systemId === 'carrier')?.active ?? 0;
    return x.status?.phase === 'Bound' && pods.includes(pod) && live === 1 ? pod : undefined;
  }

  function enqueue(n: number): number[] {
    return Array.from(
      { length: n },
      (_, i) =>
        core.store.create({
          source_msisdn: '100',
          destination_msisdn: `4477009${String(i).padStart(5, '0')}`,
          message_body: `message ${i}`,
          dest_smsc: 'carrier',
          source_smsc: 'devcore',
        }).id,
    );
  }

  const sentAll = (ids: number[]): true | undefined =>
    ids.every((id) => core.store.get(id)?.rec.deliver_time != null) ? true : undefined;
  const deliveredAll = (ids: number[]): true | undefined =>
    ids.every((id) => core.store.get(id)?.rec.status === 'delivered') ? true : undefined;
  const delivered = (ids: number[]): number =>
    ids.filter((id) => core.store.get(id)?.rec.status === 'delivered').length;

  it('receipts due after the sending pod is SIGKILLed all match on the new owner', async () => {
    // Receipts 15 s after each submit: the sending pod is gone by then.
    sim = await startSmscSim({ httpPort: null, receipt: { delayMs: 15_000 } });
    const a = start('gw-a');
    const b = start('gw-b');
    await carrierBind();
    const owner = await eventually(() => boundOn(['gw-a', 'gw-b']), 120_000, 'carrier Bound').catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${debug()}`);
      },
    );
    const ids = enqueue(MESSAGES);
    await eventually(() => sentAll(ids), 60_000, 'every message sent');
    expect(delivered(ids)).toBe(0);
    // Let the last batch of carrier ids reach Redis (written within milliseconds of the submit_sm_resp).
    await eventually(
      async () => ((await redis.admin().dbsize()) >= MESSAGES ? true : undefined),
      10_000,
      'carrier ids in Redis',
    );
    const [killed, survivor] = owner === 'gw-a' ? [a, b] : [b, a];
    killed.child.kill('SIGKILL');
    await eventually(() => boundOn([survivor.name]), 60_000, `carrier Bound on ${survivor.name}`).catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${debug()}`);
      },
    );
    await eventually(() => deliveredAll(ids), 90_000, 'every message delivered').catch((err: Error) => {
      throw new Error(`${err.message}: ${delivered(ids)} of ${ids.length}\n${debug()}`);
    });
    expect(core.store.stats().duplicateSends).toBe(0);
    expect(sim.state.stats().submits).toBe(MESSAGES);
    expect(survivor.output.join('')).not.toContain('delivery receipt for an unknown message id');
  }, 360_000);

  it('the same across a rolling restart of both pods', async () => {
    sim = await startSmscSim({ httpPort: null, receipt: { delayMs: 25_000 } });
    const a = start('gw-a');
    const b = start('gw-b');
    await carrierBind();
    await eventually(() => boundOn(['gw-a', 'gw-b']), 120_000, 'carrier Bound');
    const ids = enqueue(MESSAGES);
    await eventually(() => sentAll(ids), 60_000, 'every message sent');
    expect(delivered(ids)).toBe(0);
    // helm upgrade: one pod after the other is replaced (SIGTERM, drain, a new pod).
    await a.terminate(20_000);
    const a2 = start('gw-a2');
    await a2.running;
    await b.terminate(20_000);
    start('gw-b2');
    await eventually(() => boundOn(['gw-a2', 'gw-b2']), 90_000, 'carrier Bound on a new pod').catch(
      (err: Error) => {
        throw new Error(`${err.message}\n${debug()}`);
      },
    );
    await eventually(() => deliveredAll(ids), 90_000, 'every message delivered').catch((err: Error) => {
      throw new Error(`${err.message}: ${delivered(ids)} of ${ids.length}\n${debug()}`);
    });
    expect(core.store.stats().duplicateSends).toBe(0);
    expect(sim.state.stats().submits).toBe(MESSAGES);
  }, 360_000);

  function partner(port: number, bindType: 'bind_transmitter' | 'bind_receiver'): Promise<Session> {
    return new Promise((resolvePartner, reject) => {
      const session = smpp.connect({ host: '127.0.0.1', port });
      partners.push(session);
      session.on('error', reject);
      session.on('connect', () =>
        session[bindType]({ system_id: 'acme', password: 'acme-pw' }, (pdu: PDU) =>
          pdu.command_status === 0
            ? resolvePartner(session)
            : reject(new Error(`bind refused: ${pdu.command_status}`)),
        ),
      );
    });
  }

  it("a partner's receipts reach it on another pod's session", async () => {
    sim = await startSmscSim({ httpPort: null });
    const a = start('gw-a');
    const b = start('gw-b');
    await putSecret(coreApi, ns.name, 'acme', 'acme-pw');
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppserverbinds',
      namespace: ns.name,
      body: {
        apiVersion: `${GV.group}/${GV.version}`,
        kind: 'SmppServerBind',
        metadata: { name: 'acme', namespace: ns.name },
        spec: { systemId: 'acme', passwordSecretRef: { name: 'acme', key: 'password' }, maxSessions: 4 },
      },
    });
    const [{ smppPort: portA }, { smppPort: portB }] = await Promise.all([a.running, b.running]);
    // Submits on pod A (transmitter), the receiver session on pod B.
    const tx = await eventually(
      () => partner(portA, 'bind_transmitter').catch(() => undefined),
      60_000,
      'partner bound on gw-a',
    );
    const rx = await eventually(
      () => partner(portB, 'bind_receiver').catch(() => undefined),
      60_000,
      'partner receiver bound on gw-b',
    );
    const receipts: string[] = [];
    rx.on('deliver_sm', (pdu: PDU) => {
      rx.send(pdu.response());
      if (typeof pdu.receipted_message_id === 'string') receipts.push(pdu.receipted_message_id);
    });
    const coreIds: string[] = [];
    for (let i = 0; i < 20; i++) {
      const id = await new Promise<string>((ok, fail) =>
        tx.submit_sm(
          {
            source_addr: '447700900111',
            destination_addr: `4477009002${String(i).padStart(2, '0')}`,
            short_message: `partner ${i}`,
            registered_delivery: 1,
          },
          (pdu: PDU) =>
            pdu.command_status === 0 ? ok(String(pdu.message_id)) : fail(new Error(`${pdu.command_status}`)),
        ),
      );
      coreIds.push(id);
    }
    // The core settles the messages (as the carrier's receipts would).
    for (const id of coreIds)
      core.store.patch(Number(id), {
        status: 'delivered',
        dlr_state: 'DELIVRD',
        delivered_at: new Date().toISOString(),
      });
    await eventually(
      () => (new Set(receipts).size === coreIds.length ? true : undefined),
      90_000,
      'every partner receipt on the gw-b session',
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${receipts.length}\n${debug()}`);
    });
    expect([...new Set(receipts)].sort()).toEqual([...coreIds].sort());
    // Each once: the store's lease and removal end a receipt on one pod only.
    await new Promise((r) => setTimeout(r, 2000));
    expect(receipts).toHaveLength(coreIds.length);
  }, 240_000);
});
