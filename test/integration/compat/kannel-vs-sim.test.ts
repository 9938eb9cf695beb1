// The SMSC simulator against a third-party ESME, Kannel 1.4.5: proves the sim's bind handling,
// message ids, receipt format and MO are what a real gateway understands, and that Kannel
// copes with the sim's throttling the way it copes with a carrier's.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { startSmscSim, type RunningSmscSim } from '../../../src/sim/index.js';
import { kannelInstalled, startKannelEsme, type KannelEsme } from './kannel.js';
import { poll } from '../../helpers/wait.js';

const log = createLogger({ level: 'silent' });
let sim: RunningSmscSim;
let kannel: KannelEsme | undefined;
let http: Server;
let httpPort = 0;
const hits: URL[] = [];

function until<T>(check: () => T | undefined, timeoutMs = 20_000): Promise<T> {
  return poll(check, { timeoutMs, intervalMs: 25 });
}

beforeAll(async () => {
  if (!kannelInstalled()) throw new Error('kannel is missing: run hack/deps.sh (Debian package kannel)');
  http = createServer((req, res) => {
    hits.push(new URL(req.url ?? '/', 'http://127.0.0.1'));
    res.end('');
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  httpPort = (http.address() as AddressInfo).port;
  sim = await startSmscSim({
    users: [{ systemId: 'kannel', password: 'kpw' }],
    log,
    httpPort: null,
    receipt: { delayMs: 20 },
  });
  kannel = await startKannelEsme({
    smppPort: sim.smppPort,
    systemId: 'kannel',
    password: 'kpw',
    moUrl: `http://127.0.0.1:${httpPort}/mo`,
  });
  await until(() => (sim.state.stats().boundSessions === 1 ? true : undefined));
}, 60_000);

afterAll(async () => {
  await kannel?.stop();
  await sim?.close();
  http?.close();
});

describe('Kannel as an ESME on smsc-sim', () => {
  it('binds once as a transceiver', () => {
    expect(sim.state.binds().systems).toEqual([
      expect.objectContaining({
        systemId: 'kannel',
        active: 1,
        maxConcurrent: 1,
        activeByType: expect.objectContaining({ transceiver: 1 }),
      }),
    ]);
  });

  it("matches the sim's delivery receipts to its messages, delivered and failed", async () => {
    const dlrUrl = (tag: string): string => `http://127.0.0.1:${httpPort}/dlr?tag=${tag}&state=%d&reply=%A`;
    const ok = await kannel!.sendsms({
      from: '5000',
      to: '447700900010',
      text: 'to deliver',
      'dlr-mask': '3',
      'dlr-url': dlrUrl('ok'),
    });
    expect(ok.status).toBe(202);
    const delivered = await until(() =>
      hits.find((u) => u.pathname === '/dlr' && u.searchParams.get('tag') === 'ok'),
    );
    expect(delivered.searchParams.get('state')).toBe('1');
    const rec = sim.state.messages().messages.find((m) => m.destination.addr === '447700900010');
    expect(rec?.registeredDelivery).toBe(1);
    expect(delivered.searchParams.get('reply')).toContain(`id:${rec?.messageId ?? '?'}`);

    sim.state.setReceiptPolicy({ byDestination: { '447700900011': { stat: 'UNDELIV', err: '001' } } });
    await kannel!.sendsms({
      from: '5000',
      to: '447700900011',
      text: 'to fail',
      'dlr-mask': '3',
      'dlr-url': dlrUrl('bad'),
    });
    const failed = await until(() =>
      hits.find((u) => u.pathname === '/dlr' && u.searchParams.get('tag') === 'bad'),
    );
    expect(failed.searchParams.get('state')).toBe('2'); // Kannel's "delivery failure"
    await until(() => (sim.state.stats().receiptsAcked === 2 ? true : undefined));
  });

  it("passes the sim's MO to Kannel's service with its text", async () => {
    const r = await sim.state.sendMo({
      source: '447700900020',
      destination: '5000',
      text: 'MO from the sim',
    });
    expect(r.commandStatus).toBe(0);
    const mo = await until(() => hits.find((u) => u.pathname === '/mo'));
    expect(mo.searchParams.get('body')).toBe('MO from the sim');
    expect(mo.searchParams.get('to')).toBe('5000');
  });

  it('retries a throttled message until the sim accepts it', async () => {
    sim.state.applyFaults({ throttleNext: 2 });
    await kannel!.sendsms({ from: '5000', to: '447700900030', text: 'throttled first' });
    const accepted = await until(() =>
      sim.state.messages().messages.find((m) => m.destination.addr === '447700900030' && m.outcome === 'ok'),
    );
    expect(accepted.text).toBe('throttled first');
    const attempts = sim.state.messages().messages.filter((m) => m.destination.addr === '447700900030');
    expect(attempts.map((m) => m.outcome)).toEqual(['throttled', 'throttled', 'ok']);
  });
});
