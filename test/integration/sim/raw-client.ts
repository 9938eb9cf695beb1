// A bare `smpp` package client for driving the simulator in tests: no engine of ours in between.
import { once } from 'node:events';
import smpp, { type PDU, type PduOptions, type Session } from 'smpp';
import { poll } from '../../helpers/wait.js';

export interface RawClient {
  session: Session;
  /** Every deliver_sm received, in order. */
  delivered: PDU[];
  errors: Error[];
  closed: Promise<void>;
  /** command_status the client answers deliver_sm with (default 0); null: no answer at all. */
  deliverStatus: number | null;
  bind(type: 'transmitter' | 'receiver' | 'transceiver', systemId: string, password: string): Promise<PDU>;
  request(command: string, fields?: PduOptions): Promise<PDU>;
  submit(fields: PduOptions): Promise<PDU>;
  waitForDeliver(count: number, timeoutMs?: number): Promise<PDU[]>;
  close(): void;
}

export async function connectRaw(port: number): Promise<RawClient> {
  const session = smpp.connect({ host: '127.0.0.1', port });
  const delivered: PDU[] = [];
  const errors: Error[] = [];
  const waiters: (() => void)[] = [];
  const closed = new Promise<void>((resolve) => session.on('close', () => resolve()));
  session.on('error', (err: Error) => errors.push(err));
  const client: RawClient = {
    session,
    delivered,
    errors,
    closed,
    deliverStatus: 0 as number | null,
    bind: (type, systemId, password) =>
      client.request(`bind_${type}`, { system_id: systemId, password, system_type: '' }),
    request: (command, fields = {}) =>
      new Promise<PDU>((resolve, reject) => {
        const pdu = new smpp.PDU(command as never, fields);
        if (!session.send(pdu, resolve)) reject(new Error('socket not writable'));
      }),
    submit: (fields) =>
      client.request('submit_sm', {
        source_addr: '447700900001',
        destination_addr: '447700900002',
        short_message: Buffer.from('hello'),
        data_coding: 0,
        ...fields,
      }),
    waitForDeliver: async (count, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      while (delivered.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`only ${delivered.length}/${count} deliver_sm within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return delivered.slice(0, count);
    },
    close: () => session.destroy(),
  };
  session.on('deliver_sm', (pdu: PDU) => {
    delivered.push(pdu);
    if (client.deliverStatus !== null) session.send(pdu.response({ command_status: client.deliverStatus }));
    for (const w of waiters.splice(0)) w();
  });
  session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
  await once(session, 'connect');
  return client;
}

export async function http<T = unknown>(
  port: number,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    ...(body !== undefined
      ? {
          body: typeof body === 'string' ? body : JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        }
      : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** Polls `check` until it returns a value other than undefined. */
export function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 10_000,
): Promise<T> {
  return poll(check, { timeoutMs, intervalMs: 20 });
}
