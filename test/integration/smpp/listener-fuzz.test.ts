// 100,000 random and mutated PDUs over real sockets against the partner listener: no crash, no
// stall, and every request that has a response in SMPP gets exactly one, with its sequence
// number; the sessions stay bound throughout. Framing is kept intact here (command_length is
// true); streams that lose their framing are the last test.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import smpp from 'smpp';
import { createLogger } from '../../../src/log.js';
import { SmppListener, type ServerBindEntry } from '../../../src/smpp/server-listener.js';
import { CORPUS, mutate, rng } from '../../helpers/pdu-fuzz.js';
import { waitFor } from './peer.js';

const log = createLogger({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const entry: ServerBindEntry = {
  key: 'ns/fuzz',
  namespace: 'ns',
  name: 'fuzz',
  smscName: 'fuzz',
  systemId: 'fuzz',
  password: 'pw',
  allowedBindTypes: ['transceiver'],
  ipAllowlist: [],
  tpsLimit: 0,
  inboundTpsLimit: 0,
  maxSessions: 8,
  suspend: false,
};

const UNBIND = 0x00000006;
const ALERT = 0x00000102;

/** A bound partner socket that records the sequence numbers of the responses it is sent. */
interface Conn {
  socket: Socket;
  answers: Map<number, number>; // seq -> times answered
  ids: Map<number, number>; // seq -> response command_id
  closed: () => boolean;
}

async function boundConn(port: number): Promise<Conn> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  cleanups.push(() => void socket.destroy());
  const answers = new Map<number, number>();
  const ids = new Map<number, number>();
  let closed = false;
  socket.on('close', () => (closed = true));
  let buf: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    let off = 0;
    while (buf.length - off >= 16 && buf.length - off >= buf.readUInt32BE(off)) {
      const len = buf.readUInt32BE(off);
      const id = buf.readUInt32BE(off + 4);
      const seq = buf.readUInt32BE(off + 12);
      if ((id & 0x80000000) !== 0) {
        answers.set(seq, (answers.get(seq) ?? 0) + 1);
        ids.set(seq, id);
      } else if (id === 0x15) {
        // the listener's enquire_link: answer it like a partner would
        const resp = Buffer.alloc(16);
        resp.writeUInt32BE(16, 0);
        resp.writeUInt32BE(0x80000015, 4);
        resp.writeUInt32BE(seq, 12);
        socket.write(resp);
      }
      off += len;
    }
    buf = buf.subarray(off);
  });
  socket.write(
    new smpp.PDU('bind_transceiver', { sequence_number: 1, system_id: 'fuzz', password: 'pw' }).toBuffer(),
  );
  await waitFor(() => answers.has(1), 10_000, 'bind response');
  return { socket, answers, ids, closed: () => closed };
}

describe('listener fuzz over sockets', () => {
  it('answers 100,000 random and mutated PDUs on 4 sessions: none lost, none twice, no stall', async () => {
    const l = new SmppListener({ host: '127.0.0.1', port: 0, maxConnections: 16 }, log);
    l.setBinds([entry]);
    let posted = 0;
    l.setSubmitHandler(async () => {
      posted++;
      return { status: 0, messageId: String(posted) };
    });
    const decodeErrors: Error[] = [];
    l.on('decodeError', (e: Error) => decodeErrors.push(e));
    let refused = 0;
    l.on('pduRefused', () => refused++);
    const { port } = await l.listen();
    cleanups.push(() => l.close());

    const TOTAL = 100_000;
    const SESSIONS = 4;
    const BATCH = 500;
    const conns = await Promise.all(Array.from({ length: SESSIONS }, () => boundConn(port)));
    const r = rng(0xf022);
    let sent = 0;
    let expected = 0;
    const nextSeq = [2, 2, 2, 2];
    const allOwed = conns.map(() => new Map<number, number>());
    const sentIds = conns.map(() => new Map<number, number>());
    while (sent < TOTAL) {
      // One batch per session, written at once, then wait for every answer owed (stall = timeout).
      const owed: number[][] = conns.map(() => []);
      for (let s = 0; s < SESSIONS && sent < TOTAL; s++) {
        const parts: Buffer[] = [];
        for (let i = 0; i < BATCH && sent < TOTAL; i++, sent++) {
          const base = CORPUS[Math.floor(r() * CORPUS.length)] as Buffer;
          let b = r() < 0.25 ? Buffer.from(base) : mutate(r, base);
          const id = b.readUInt32BE(4);
          // An unbind ends the session; the fuzz wants it to live. Send enquire_link instead.
          if (id === UNBIND) b = new smpp.PDU('enquire_link', {}).toBuffer();
          const seq = nextSeq[s] as number;
          nextSeq[s] = seq + 1;
          b.writeUInt32BE(seq, 12);
          const finalId = b.readUInt32BE(4);
          sentIds[s]?.set(seq, finalId);
          // Requests are answered; responses and alert_notification are not (SMPP defines none).
          if ((finalId & 0x80000000) === 0 && finalId !== ALERT) {
            (owed[s] as number[]).push(seq);
            allOwed[s]?.set(seq, finalId);
            expected++;
          }
          parts.push(b);
        }
        (conns[s] as Conn).socket.write(Buffer.concat(parts));
      }
      await waitFor(
        () => conns.every((c, s) => (owed[s] as number[]).every((seq) => c.answers.has(seq))),
        30_000,
        `answers after ${sent} PDUs`,
      );
    }
    let answered = 0;
    let twice = 0;
    for (const c of conns) {
      for (const n of c.answers.values()) {
        answered += 1;
        if (n > 1) twice++;
      }
    }
    const stray: string[] = [];
    let alertNacks = 0;
    conns.forEach((c, s) => {
      for (const seq of c.answers.keys()) {
        // A well-formed alert_notification has no response; one that does not decode gets generic_nack.
        if (sentIds[s]?.get(seq) === ALERT && c.ids.get(seq) === 0x80000000) {
          alertNacks++;
          continue;
        }
        if (seq !== 1 && !(allOwed[s] as Map<number, number>).has(seq))
          stray.push(
            `${seq}: sent 0x${sentIds[s]?.get(seq)?.toString(16)} got 0x${c.ids.get(seq)?.toString(16)}`,
          );
      }
    });
    expect(stray.slice(0, 10)).toEqual([]);
    // Answers include the 4 bind responses.
    expect(answered - SESSIONS - alertNacks).toBe(expected);
    expect(twice).toBe(0);
    expect(decodeErrors).toHaveLength(0);
    expect(conns.every((c) => !c.closed())).toBe(true);
    expect(l.sessions('ns/fuzz')).toHaveLength(SESSIONS);
    expect(refused).toBeGreaterThan(TOTAL / 10);
    expect(posted).toBeGreaterThan(TOTAL / 40);
  }, 300_000);

  it('streams that lose their framing: the requests before the break are answered, then the socket closes', async () => {
    const l = new SmppListener({ host: '127.0.0.1', port: 0, maxConnections: 64 }, log);
    l.setBinds([entry]);
    l.setSubmitHandler(async () => ({ status: 0, messageId: 'x' }));
    const { port } = await l.listen();
    cleanups.push(() => l.close());
    const r = rng(0xb4d);
    for (let round = 0; round < 100; round++) {
      const c = await boundConn(port);
      const good = 1 + Math.floor(r() * 20);
      const parts: Buffer[] = [];
      for (let i = 0; i < good; i++) {
        parts.push(
          new smpp.PDU('submit_sm', {
            sequence_number: 10 + i,
            source_addr: '1',
            destination_addr: '2',
            short_message: Buffer.from('x'),
          }).toBuffer(),
        );
      }
      const broken = Buffer.alloc(16 + Math.floor(r() * 16));
      for (let i = 0; i < broken.length; i++) broken[i] = Math.floor(r() * 256);
      // command_length under 16 or over the maximum: no way to find the next PDU
      broken.writeUInt32BE(r() < 0.5 ? Math.floor(r() * 16) : 0x10000 + Math.floor(r() * 0xfffff), 0);
      parts.push(broken);
      c.socket.write(Buffer.concat(parts));
      await waitFor(c.closed, 10_000, 'close after a framing error');
      for (let i = 0; i < good; i++) expect(c.answers.get(10 + i)).toBe(1);
    }
  }, 300_000);
});
