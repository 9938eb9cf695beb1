// Compatibility with a third-party SMPP implementation: Debian's libnet-smpp-perl (Net::SMPP),
// installed by hack/deps.sh, as an ESME against our listener and as an SMSC for our client.
import type { DeliverSm, SubmitSm } from '../../../src/smpp/pdu/pdu.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { ClientSession } from '../../../src/smpp/client-session.js';
import { SmppListener, type ServerBindEntry } from '../../../src/smpp/server-listener.js';
import { once, waitFor } from './peer.js';

const log = createLogger({ level: 'silent' });
const script = (name: string): string => fileURLToPath(new URL(`./compat/${name}`, import.meta.url));
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

beforeAll(() => {
  const probe = spawnSync('perl', ['-MNet::SMPP', '-e', '1']);
  if (probe.status !== 0) {
    throw new Error('Net::SMPP is missing: run hack/deps.sh (Debian package libnet-smpp-perl)');
  }
});

interface Proc {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
}

function run(args: string[]): Proc {
  const child = spawn('perl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (code !== 0 && stderr) lines.push(`stderr: ${stderr.trim()}`);
      resolve(code);
    }),
  );
  cleanups.push(() => {
    if (child.exitCode === null) child.kill();
  });
  return { child, lines, exited };
}

const partnerEntry: ServerBindEntry = {
  key: 'ns/perl',
  namespace: 'ns',
  name: 'perl',
  smscName: 'perl',
  systemId: 'perlesme',
  password: 'pw',
  allowedBindTypes: ['transceiver'],
  ipAllowlist: ['127.0.0.1'],
  tpsLimit: 10,
  inboundTpsLimit: 10,
  maxSessions: 1,
  suspend: false,
};

describe('compatibility with Net::SMPP (libnet-smpp-perl)', () => {
  it('Net::SMPP as an ESME binds to our listener, submits, gets a deliver_sm and unbinds', async () => {
    const l = new SmppListener({ host: '127.0.0.1', port: 0, maxConnections: 4 }, log);
    cleanups.push(() => l.close());
    l.setBinds([partnerEntry]);
    const submitted: SubmitSm[] = [];
    l.setSubmitHandler(async (_b, pdu) => {
      submitted.push(pdu);
      return { status: 0, messageId: 'our-7' };
    });
    const { port } = await l.listen();
    const bound = once(l, 'sessionBound');
    const p = run([script('perl-esme.pl'), '127.0.0.1', String(port), 'perlesme', 'pw']);
    await bound;
    await waitFor(() => p.lines.some((x) => x.startsWith('enquire_link')), 10_000, 'perl enquire_link');
    const resp = await l.deliver('ns/perl', {
      source_addr: '2666',
      destination_addr: '1555',
      short_message: Buffer.from([0x00, 0x1b, 0x65]),
    });
    expect(resp.command_status).toBe(0);
    expect(await p.exited).toBe(0);
    expect(p.lines).toEqual(['bind 0', 'submit 0 our-7', 'enquire_link 0', 'deliver 001b65', 'unbind 0']);
    expect((submitted[0]?.short_message as Buffer).equals(Buffer.from('\x00\x1b\x3c perl', 'latin1'))).toBe(
      true,
    );
  });

  it('a Net::SMPP ESME with a wrong password gets ESME_RINVPASWD (14)', async () => {
    const l = new SmppListener({ host: '127.0.0.1', port: 0, maxConnections: 4 }, log);
    cleanups.push(() => l.close());
    l.setBinds([partnerEntry]);
    const { port } = await l.listen();
    const p = run([script('perl-esme.pl'), '127.0.0.1', String(port), 'perlesme', 'wrong']);
    expect(await p.exited).toBe(0);
    expect(p.lines).toEqual(['bind 14']);
  });

  it('a Net::SMPP ESME with a wrong password sees ESME_RINVPASWD every time in 20 tries', async () => {
    // freeAttempts: this test is about each answer arriving, not the slow-down of guessers.
    const l = new SmppListener(
      { host: '127.0.0.1', port: 0, maxConnections: 4, slowdown: { freeAttempts: 100 } },
      log,
    );
    cleanups.push(() => l.close());
    l.setBinds([partnerEntry]);
    const { port } = await l.listen();
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const p = run([script('perl-esme.pl'), '127.0.0.1', String(port), 'perlesme', `wrong${i}`]);
      expect(await p.exited).toBe(0);
      seen.push(p.lines.join('|'));
    }
    expect(seen).toEqual(Array.from({ length: 20 }, () => 'bind 14'));
  });

  it('our ClientSession binds to Net::SMPP as an SMSC, submits raw bytes, takes an MO and unbinds', async () => {
    const p = run([script('perl-smsc.pl')]);
    await waitFor(() => p.lines.some((x) => x.startsWith('port ')), 10_000, 'perl SMSC port');
    const port = Number(p.lines[0]?.split(' ')[1]);
    const c = new ClientSession(
      {
        host: '127.0.0.1',
        port,
        bindType: 'transceiver',
        systemId: 'ours',
        password: 'secret',
        enquireLinkIntervalMs: 100,
      },
      log,
    );
    cleanups.push(() => c.stop());
    const mo: DeliverSm[] = [];
    c.setInboundHandler(async (pdu) => {
      mo.push(pdu as DeliverSm);
      return { status: 0 };
    });
    c.start();
    await once(c, 'bound');
    const resp = await c.submit({
      source_addr: '1555',
      destination_addr: '2666',
      data_coding: 0x08,
      esm_class: 0x40,
      short_message: Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x02, 0x01, 0xd8, 0x3d, 0xde, 0x00]),
    });
    expect(resp.message_id).toBe('perl-2');
    await waitFor(
      () => mo.length === 1 && p.lines.some((x) => x.startsWith('deliver_resp')),
      10_000,
      'MO round trip',
    );
    expect((mo[0]?.short_message as Buffer).equals(Buffer.from('\x00\x1b\x65 mo', 'latin1'))).toBe(true);
    await waitFor(() => p.lines.includes('enquire_link'), 10_000, 'enquire_link at the perl SMSC');
    await c.stop();
    expect(await p.exited).toBe(0);
    expect(p.lines).toContain('bind ours ok');
    expect(p.lines).toContain('submit dc=8 esm=64 0500032a0201d83dde00');
    expect(p.lines).toContain('deliver_resp 0');
    expect(p.lines[p.lines.length - 1]).toBe('unbind');
  });
});
