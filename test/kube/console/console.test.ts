// The console in a cluster: two real `run` processes as pods against the real API server. The
// page served by one pod shows every bind with the counters of the pod running it (found
// through the console Service's EndpointSlices), and actions are done with the viewer's own
// token: a ServiceAccount allowed to patch binds can, one that may only read gets read-only
// buttons and 403 from the API, no token gets 401. Chromium drives the page.
import { networkInterfaces } from 'node:os';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevCore, type DevCore } from '../../../src/devcore/index.js';
import { startSmscSim, type RunningSmscSim } from '../../../src/sim/index.js';
import { launchChromium, type Chromium } from '../../helpers/chromium.js';
import { freePort } from '../../helpers/net.js';
import { controlPlane, eventually, kubectl, uniqueName } from '../helpers.js';
import { apis, clientBind, ensureCrds, GV, putSecret, type BindView } from '../operator/harness.js';
import { startGatewayProc, type GatewayProc } from '../operator/procs.js';

const SERVICE = 'smpp-console';
const N = 4;

interface PageElement {
  textContent: string | null;
}
declare const document: { querySelector(selector: string): PageElement | null };

/** EndpointSlices may not hold loopback addresses: the pods are reached on this machine's own. */
function machineIp(): string {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  throw new Error('no non-loopback IPv4 address on this machine for the EndpointSlices');
}

/** A gateway pod and the port of its console. */
interface Proc {
  name: string;
  port: number;
  gw: GatewayProc;
}

interface RowJson {
  key: string;
  phase: string;
  gatewayPod?: string;
  suspended: boolean;
  counters?: { sent: number };
}

const ns = uniqueName('console');
const { core: coreApi, custom } = apis();
let sim: RunningSmscSim;
let core: DevCore;
const procs: Proc[] = [];
let operatorToken: string;
let readerToken: string;
let browser: Chromium;

async function sh(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

function start(name: string, port: number): Proc {
  const gw = startGatewayProc(name, {
    namespace: ns,
    coreUrl: core.url,
    extra: {
      CONSOLE_HOST: '0.0.0.0',
      CONSOLE_PORT: String(port),
      CONSOLE_SERVICE: SERVICE,
      SHUTDOWN_GRACE_SECONDS: '2',
    },
  });
  const p: Proc = { name, port, gw };
  procs.push(p);
  return p;
}

async function rowsOf(p: Proc): Promise<RowJson[]> {
  const r = await request(`http://127.0.0.1:${p.port}/api/v1/binds`);
  return ((await r.body.json()) as { binds: RowJson[] }).binds;
}

async function post(
  p: Proc,
  path: string,
  token?: string,
): Promise<{ status: number; body: { error?: string; message?: string } }> {
  const s = await request(`http://127.0.0.1:${p.port}/api/v1/session`);
  const { csrf } = (await s.body.json()) as { csrf: string };
  const cookie = String(s.headers['set-cookie']).split(';')[0] as string;
  const headers: Record<string, string> = {
    cookie,
    'x-csrf-token': csrf,
    'content-type': 'application/json',
  };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const r = await request(`http://127.0.0.1:${p.port}${path}`, { method: 'POST', headers, body: '{}' });
  return { status: r.statusCode, body: (await r.body.json()) as { error?: string; message?: string } };
}

type FullBind = BindView & {
  spec: { suspend?: boolean };
  metadata: { annotations?: Record<string, string> };
};

async function bind(name: string): Promise<FullBind> {
  const plural = 'smppclientbinds';
  return (await custom.getNamespacedCustomObject({ ...GV, plural, namespace: ns, name })) as FullBind;
}

beforeAll(async () => {
  await ensureCrds();
  await coreApi.createNamespace({ body: { metadata: { name: ns } } });
  sim = await startSmscSim({ httpPort: null });
  core = await startDevCore({ port: 0 });
  // Two ServiceAccounts and their tokens (TokenRequest): one may patch binds, one may only read.
  await sh(['create', 'serviceaccount', 'ops', '-n', ns]);
  await sh(['create', 'serviceaccount', 'viewer', '-n', ns]);
  await sh([
    'create',
    'role',
    'bind-operator',
    '-n',
    ns,
    '--verb=get,list,watch,patch',
    '--resource=smppclientbinds.smpp.omnimessage.io,smppserverbinds.smpp.omnimessage.io',
  ]);
  await sh([
    'create',
    'role',
    'bind-reader',
    '-n',
    ns,
    '--verb=get,list,watch',
    '--resource=smppclientbinds.smpp.omnimessage.io,smppserverbinds.smpp.omnimessage.io',
  ]);
  await sh(['create', 'rolebinding', 'ops', '-n', ns, '--role=bind-operator', `--serviceaccount=${ns}:ops`]);
  await sh([
    'create',
    'rolebinding',
    'viewer',
    '-n',
    ns,
    '--role=bind-reader',
    `--serviceaccount=${ns}:viewer`,
  ]);
  operatorToken = await sh(['create', 'token', 'ops', '-n', ns, '--duration=1h']);
  readerToken = await sh(['create', 'token', 'viewer', '-n', ns, '--duration=1h']);

  await putSecret(coreApi, ns, 'creds', 'pw');
  for (let i = 0; i < N; i++) {
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppclientbinds',
      namespace: ns,
      body: clientBind(ns, `c${i}`, {
        smscName: `sms_c${i}`,
        host: '127.0.0.1',
        port: sim.smppPort,
        systemId: `sys${i}`,
        passwordSecretRef: { name: 'creds', key: 'password' },
        reconnect: { minDelay: '200ms', maxDelay: '1s' },
      }),
    });
  }
  const [pa, pb] = [await freePort('0.0.0.0'), await freePort('0.0.0.0')];
  start('gw-a', pa);
  start('gw-b', pb);
  // What the console Service's EndpointSlice controller would write: one slice per pod here,
  // since both "pods" share one address and differ by port.
  const ip = machineIp();
  for (const p of procs) {
    await sh(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${SERVICE}-${p.name}`,
          namespace: ns,
          labels: { 'kubernetes.io/service-name': SERVICE },
        },
        addressType: 'IPv4',
        endpoints: [
          {
            addresses: [ip],
            conditions: { ready: true },
            targetRef: { kind: 'Pod', name: p.name, namespace: ns },
          },
        ],
        ports: [{ name: 'console', port: p.port, protocol: 'TCP' }],
      }),
    );
  }
  await eventually(
    async () => {
      const items = (await custom.listNamespacedCustomObject({
        ...GV,
        plural: 'smppclientbinds',
        namespace: ns,
      })) as {
        items: BindView[];
      };
      const pods = new Set(items.items.map((b) => b.status?.gatewayPod));
      return items.items.length === N &&
        items.items.every((b) => b.status?.phase === 'Bound') &&
        pods.has('gw-a') &&
        pods.has('gw-b')
        ? true
        : undefined;
    },
    120_000,
    'binds Bound on both pods',
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}\n${procs.map((p) => p.gw.tail(2000)).join('\n---\n')}`);
  });
  browser = await launchChromium();
}, 240_000);

afterAll(async () => {
  await browser?.close();
  for (const p of procs.splice(0)) await p.gw.terminate(15_000);
  await sim?.close();
  await core?.close();
  await coreApi.deleteNamespace({ name: ns }).catch(() => undefined);
}, 60_000);

describe('console in a cluster', () => {
  it('one pod shows every bind, with the counters of whichever pod runs it', async () => {
    const [a, b] = procs as [Proc, Proc];
    const rows = await eventually(
      async () => {
        const r = await rowsOf(a);
        return r.length === N && r.every((x) => x.phase === 'Bound') ? r : undefined;
      },
      30_000,
      'every bind Bound on gw-a’s console',
    );
    // Traffic through every bind: whichever pod runs each one, gw-a's console shows its counters.
    for (const row of rows) {
      const name = row.key.split('/')[2] as string;
      for (let i = 0; i < 5; i++)
        core.store.create({
          source_msisdn: '+15550001111',
          destination_msisdn: `+4477009001${i}`,
          message_body: `hello ${i}`,
          source_smsc: 'console-test',
          dest_smsc: `sms_${name}`,
        });
    }
    await eventually(
      async () => {
        const r = await rowsOf(a);
        return r.length === N && r.every((x) => (x.counters?.sent ?? 0) >= 5) ? true : undefined;
      },
      30_000,
      'gw-a to show every bind’s counters',
    );
    // The numbers come from the pods' own reports, and some of them from gw-b's: the serving pod
    // gathered them from the other pod, not only from itself.
    type Own = { pod: string; binds: { key: string; counters: { sent: number } }[] };
    const reports = await Promise.all(
      [a, b].map(
        async (p) => (await (await request(`http://127.0.0.1:${p.port}/api/v1/pod`)).body.json()) as Own,
      ),
    );
    expect(reports.map((r) => r.pod)).toEqual(['gw-a', 'gw-b']);
    const fromB =
      reports[1]?.binds.filter((x) => rows.some((r) => r.key === x.key) && x.counters.sent >= 5) ?? [];
    expect(fromB.length).toBeGreaterThan(0);
    const shown = await rowsOf(a);
    for (const x of fromB)
      expect(shown.find((r) => r.key === x.key)?.counters?.sent).toBeGreaterThanOrEqual(5);
  });

  it('no token: 401; a read-only token: 403; a token allowed to patch binds: suspends and resumes as that user', async () => {
    const a = procs[0] as Proc;
    const path = `/api/v1/binds/client/${ns}/c0/disconnect`;
    const none = await post(a, path);
    expect(none.status).toBe(401);
    const bogus = await post(a, path, 'not-a-token');
    expect(bogus.status).toBe(401);
    const reader = await post(a, path, readerToken);
    expect(reader.status).toBe(403);
    expect(reader.body.error).toContain(`system:serviceaccount:${ns}:viewer may not patch`);
    expect((await bind('c0')).spec.suspend).not.toBe(true);

    const ok = await post(a, path, operatorToken);
    expect(ok.status).toBe(200);
    expect(ok.body.message).toContain(`system:serviceaccount:${ns}:ops`);
    expect((await bind('c0')).spec.suspend).toBe(true);
    await eventually(
      async () => ((await bind('c0')).status?.phase === 'Suspended' ? true : undefined),
      30_000,
      'c0 Suspended',
    );
    await eventually(
      async () =>
        sim.state.binds().systems.find((s) => s.systemId === 'sys0')?.active === 0 ? true : undefined,
      30_000,
      'the simulator to see sys0 unbind',
    );
    const back = await post(a, `/api/v1/binds/client/${ns}/c0/connect`, operatorToken);
    expect(back.status).toBe(200);
    await eventually(
      async () => ((await bind('c0')).status?.phase === 'Bound' ? true : undefined),
      30_000,
      'c0 Bound again',
    );
    const before = (await bind('c1')).metadata.annotations?.['smpp.omnimessage.io/reconnect'];
    const rc = await post(a, `/api/v1/binds/client/${ns}/c1/reconnect`, operatorToken);
    expect(rc.status).toBe(200);
    expect((await bind('c1')).metadata.annotations?.['smpp.omnimessage.io/reconnect']).not.toBe(before);
    // The patch went to the API server with the viewer's token: the reader's own patch fails there too.
    const direct = await kubectl(
      [
        '--token',
        readerToken,
        'patch',
        'scb',
        'c0',
        '-n',
        ns,
        '--type=merge',
        '-p',
        '{"spec":{"suspend":true}}',
      ],
      {
        kubeconfig: controlPlane().restrictedKubeconfig,
      },
    );
    expect(direct.code).not.toBe(0);
  });

  it('in Chromium: read-only buttons without a token and with a read-only one, working buttons with an operator’s', async () => {
    const a = procs[0] as Proc;
    const page = await browser.context.newPage();
    await page.goto(`http://127.0.0.1:${a.port}/`);
    await page.waitForSelector('body[data-ready="true"]');
    const key = `client/${ns}/c2`;
    const disconnect = `tr[data-key="${key}"] button[data-action="disconnect"]`;
    expect(await page.textContent(`tr[data-key="${key}"] td[data-field="phase"]`)).toBe('Bound');
    expect(await page.isDisabled(disconnect)).toBe(true);
    expect(await page.getAttribute(disconnect, 'title')).toContain('sign in');

    await page.fill('#token', readerToken);
    await page.click('#signin-button');
    await page.waitForFunction(() =>
      (document.querySelector('#who')?.textContent ?? '').includes('Signed in as'),
    );
    expect(await page.textContent('#who')).toContain('read-only');
    expect(await page.isDisabled(disconnect)).toBe(true);
    expect(await page.getAttribute(disconnect, 'title')).toContain('may not patch');
    // The token is not left in the page.
    expect(await page.inputValue('#token')).toBe('');
    expect(await page.content()).not.toContain(readerToken);

    await page.fill('#token', operatorToken);
    await page.click('#signin-button');
    await page.waitForFunction(() => (document.querySelector('#who')?.textContent ?? '').includes(':ops'));
    await page.waitForSelector(`${disconnect}:not([disabled])`);
    await page.click(disconnect);
    await page.waitForFunction(
      (k) =>
        document.querySelector(`tr[data-key="${k}"] td[data-field="phase"]`)?.textContent === 'Suspended',
      key,
      { timeout: 30_000 },
    );
    expect((await bind('c2')).spec.suspend).toBe(true);
    await page.click(`tr[data-key="${key}"] button[data-action="connect"]`);
    await page.waitForFunction(
      (k) => document.querySelector(`tr[data-key="${k}"] td[data-field="phase"]`)?.textContent === 'Bound',
      key,
      { timeout: 30_000 },
    );
    await page.close();
  });
});
