// Server binds: every pod's listener serves every partner; each pod reports its own sessions.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { ClientSession } from '../../../src/smpp/client-session.js';
import { eventually, useNamespace } from '../helpers.js';
import { apis, ensureCrds, getBind, GV, putSecret, ready, startPod, type Pod } from './harness.js';

describe('SmppServerBind reconcile', () => {
  const ns = useNamespace('ssb');
  let pods: Pod[] = [];
  const partners: ClientSession[] = [];
  const { core, custom } = apis();

  beforeAll(async () => {
    await ensureCrds();
  });
  afterEach(async () => {
    await Promise.all(partners.splice(0).map((s) => s.stop()));
    await Promise.all(pods.map((p) => p.stop()));
    pods = [];
  });

  async function pod(name: string): Promise<Pod> {
    const p = await startPod({
      name,
      operatorNamespace: ns.name,
      namespaces: [ns.name],
      leaseDurationMs: 4000,
    });
    pods.push(p);
    return p;
  }

  function partner(port: number, password: string): ClientSession {
    const s = new ClientSession(
      {
        host: '127.0.0.1',
        port,
        bindType: 'transceiver',
        systemId: 'acme',
        password,
        bindTimeoutMs: 3000,
        reconnect: { minDelayMs: 200, maxDelayMs: 1000 },
      },
      createLogger({ level: 'silent' }),
    );
    partners.push(s);
    s.start();
    return s;
  }

  it('a partner binds through each pod’s listener and appears in status, per pod', async () => {
    const a = await pod('gw-a');
    const b = await pod('gw-b');
    await putSecret(core, ns.name, 'acme', 'acme-pw');
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
    const accepting = await eventually(
      async () => {
        const x = await getBind(custom, ns.name, 'acme', 'smppserverbinds');
        return ready(x)?.status === 'True' ? x : undefined;
      },
      20_000,
      'Ready',
    );
    expect(ready(accepting)?.reason).toBe('Accepting');
    expect(accepting.status?.phase).toBe('Pending');

    const pa = partner(a.gateway.port, 'acme-pw');
    partner(b.gateway.port, 'acme-pw');
    const both = await eventually(
      async () => {
        const x = await getBind(custom, ns.name, 'acme', 'smppserverbinds');
        const pods = new Set((x?.status?.sessions ?? []).map((s) => s.pod));
        return pods.has('gw-a') && pods.has('gw-b') ? x : undefined;
      },
      20_000,
      'sessions of both pods in status',
    );
    expect(both.status?.phase).toBe('Bound');
    expect(both.status?.sessionCount).toBe(2);
    for (const s of both.status?.sessions ?? []) {
      expect(s.bindType).toBe('transceiver');
      expect(s.peerAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    }

    // One partner leaves: only that pod's entry goes.
    await pa.stop();
    const one = await eventually(
      async () => {
        const x = await getBind(custom, ns.name, 'acme', 'smppserverbinds');
        return x?.status?.sessions?.length === 1 ? x : undefined;
      },
      20_000,
      'one session left',
    );
    expect(one.status?.sessions?.[0]?.pod, JSON.stringify(one.status)).toBe('gw-b');
  });

  it('a wrong partner password is refused; a missing Secret makes the bind not Ready', async () => {
    const a = await pod('gw-a');
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppserverbinds',
      namespace: ns.name,
      body: {
        apiVersion: `${GV.group}/${GV.version}`,
        kind: 'SmppServerBind',
        metadata: { name: 'acme', namespace: ns.name },
        spec: { systemId: 'acme', passwordSecretRef: { name: 'acme', key: 'password' } },
      },
    });
    const missing = await eventually(
      async () => {
        const x = await getBind(custom, ns.name, 'acme', 'smppserverbinds');
        return ready(x)?.reason === 'SecretNotFound' ? x : undefined;
      },
      20_000,
      'SecretNotFound',
    );
    expect(ready(missing)?.status).toBe('False');
    await putSecret(core, ns.name, 'acme', 'acme-pw');
    await eventually(
      async () => {
        const x = await getBind(custom, ns.name, 'acme', 'smppserverbinds');
        return ready(x)?.status === 'True' ? x : undefined;
      },
      20_000,
      'Ready after the Secret appears',
    );

    // Ready may be written by the other pod before this pod's listener has loaded the entry;
    // until it has, the system_id is unknown here (ESME_RINVSYSID), so wait for that to pass.
    const err = await eventually(
      async () => {
        const wrong = partner(a.gateway.port, 'nope');
        const e = await new Promise<Error>((resolve) => wrong.once('bindFailed', resolve));
        await wrong.stop();
        return /ESME_RINVSYSID/.test(e.message) ? undefined : e;
      },
      20_000,
      'the listener knows the partner',
    );
    expect(err.message).toMatch(/ESME_RINVPASWD|ESME_RBINDFAIL/);
    const x = await getBind(custom, ns.name, 'acme', 'smppserverbinds');
    expect(x?.status?.sessions ?? []).toEqual([]);
  });
});
