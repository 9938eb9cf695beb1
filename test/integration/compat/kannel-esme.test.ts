// Compatibility with Kannel (Debian kannel 1.4.5) as a partner ESME bound to our SmppListener:
// Kannel's sendsms becomes submit_sm at our handler, our deliver_sm becomes an MO at Kannel's
// service URL, and our delivery receipts are matched by Kannel to its own message.
import type { SubmitSm } from '../../../src/smpp/pdu/pdu.js';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log.js';
import { SmppListener, type ServerBindEntry } from '../../../src/smpp/server-listener.js';
import { kannelInstalled, startKannelEsme, type KannelEsme } from './kannel.js';
import { poll } from '../../helpers/wait.js';

const log = createLogger({ level: 'silent' });

const entry: ServerBindEntry = {
  key: 'sms/kannel',
  namespace: 'sms',
  name: 'kannel',
  smscName: 'kannel_partner',
  systemId: 'kannel',
  password: 'k-secret',
  allowedBindTypes: ['transceiver'],
  ipAllowlist: ['127.0.0.1'],
  tpsLimit: 100,
  inboundTpsLimit: 100,
  maxSessions: 1,
  suspend: false,
};

let listener: SmppListener;
let kannel: KannelEsme | undefined;
let http: Server;
const submits: SubmitSm[] = [];
const hits: URL[] = [];
let nextId = 4200;

function until<T>(check: () => T | undefined, timeoutMs = 15_000): Promise<T> {
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
  const httpPort = (http.address() as AddressInfo).port;

  listener = new SmppListener({ host: '127.0.0.1', port: 0, maxConnections: 4 }, log);
  listener.setBinds([entry]);
  listener.setSubmitHandler(async (_bind, pdu) => {
    submits.push(pdu);
    return { status: 0, messageId: String(nextId++) };
  });
  const { port } = await listener.listen();
  const bound = once(listener, 'sessionBound');
  kannel = await startKannelEsme({
    smppPort: port,
    systemId: entry.systemId,
    password: entry.password,
    moUrl: `http://127.0.0.1:${httpPort}/mo`,
  });
  await bound;
}, 60_000);

afterAll(async () => {
  await kannel?.stop();
  await listener?.close();
  http?.close();
});

describe('Kannel as a partner ESME on our listener', () => {
  it('binds as a transceiver with its credentials', () => {
    const s = listener.sessions(entry.key);
    expect(s).toHaveLength(1);
    expect(s[0]).toMatchObject({
      bindType: 'transceiver',
      peerAddress: expect.stringMatching(/127\.0\.0\.1$/),
    });
  });

  it("turns Kannel's sendsms into submit_sm with GSM and UCS-2 bodies intact", async () => {
    const before = submits.length;
    const gsm = await kannel!.sendsms({
      from: '5000',
      to: '447700900001',
      text: 'Hello @ 5€',
      charset: 'UTF-8',
    });
    expect(gsm.status).toBe(202);
    const ucs2 = await kannel!.sendsms({
      from: '5000',
      to: '447700900002',
      text: 'Привет 😀',
      charset: 'UTF-8',
      coding: '2',
    });
    expect(ucs2.status).toBe(202);
    await until(() => (submits.length >= before + 2 ? true : undefined));
    const [a, b] = submits
      .slice(before)
      .sort((x, y) => String(x.destination_addr).localeCompare(String(y.destination_addr)));
    expect(a?.source_addr).toBe('5000');
    expect(a?.destination_addr).toBe('447700900001');
    expect(a?.data_coding).toBe(0);
    // GSM 03.38 unpacked: '@' is 0x00 and '€' the escape 0x1B 0x65.
    expect((a?.short_message as Buffer).toString('hex')).toBe(
      Buffer.from('Hello ').toString('hex') + '00' + '2035' + '1b65',
    );
    expect(b?.data_coding).toBe(8);
    expect(
      Buffer.from(b?.short_message as Buffer)
        .swap16()
        .toString('utf16le'),
    ).toBe('Привет 😀');
  });

  it('delivers our deliver_sm to Kannel as an MO it passes to its service', async () => {
    const resp = await listener.deliver(entry.key, {
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900003',
      destination_addr: '5000',
      data_coding: 0,
      short_message: Buffer.from('Hi from the network'),
    });
    expect(resp.command_status).toBe(0);
    const mo = await until(() => hits.find((u) => u.pathname === '/mo'));
    expect(mo.searchParams.get('from')).toMatch(/447700900003$/);
    expect(mo.searchParams.get('to')).toBe('5000');
    expect(mo.searchParams.get('body')).toBe('Hi from the network');
  });

  it('matches our delivery receipt to the message Kannel sent', async () => {
    const before = submits.length;
    const dlrUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}/dlr?state=%d&reply=%A`;
    const r = await kannel!.sendsms({
      from: '5000',
      to: '447700900004',
      text: 'receipt please',
      'dlr-mask': '3',
      'dlr-url': dlrUrl,
    });
    expect(r.status).toBe(202);
    const submit = await until(() => submits[before]);
    expect(Number(submit.registered_delivery) & 0x03).toBe(1);
    const carrierId = String(nextId - 1);
    const text = `id:${carrierId} sub:001 dlvrd:001 submit date:2611230000 done date:2611230001 stat:DELIVRD err:000 text:receipt please`;
    const resp = await listener.deliver(entry.key, {
      source_addr: '447700900004',
      destination_addr: '5000',
      esm_class: 0x04,
      data_coding: 0,
      short_message: Buffer.from(text),
      receipted_message_id: carrierId,
      message_state: 2,
    });
    expect(resp.command_status).toBe(0);
    const dlr = await until(() => hits.find((u) => u.pathname === '/dlr'));
    expect(dlr.searchParams.get('state')).toBe('1'); // Kannel's "delivered to phone"
    expect(dlr.searchParams.get('reply')).toContain(`id:${carrierId}`);
  });
});
