// A raw `smpp` library server standing in for an SMSC in client-session tests. Deliberately built
// on the bare library (not on our engine or the simulator) so the tests check us against it.
import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import type { PDU, Session, Server, ServerOptions } from 'smpp';

export interface PeerPdu {
  session: Session;
  pdu: PDU;
  at: number;
}

export interface PeerOptions {
  password?: string;
  tls?: ServerOptions;
  /** Return true when the PDU was handled; otherwise the default behaviour applies. */
  handle?: (session: Session, pdu: PDU) => boolean;
}

export class Peer {
  readonly server: Server;
  readonly sessions: Session[] = [];
  readonly received: PeerPdu[] = [];
  outstanding = 0;
  maxOutstanding = 0;
  port = 0;
  private nextId = 1;
  private readonly opts: PeerOptions;

  constructor(opts: PeerOptions = {}) {
    this.opts = opts;
    const onSession = (session: Session): void => {
      this.sessions.push(session);
      session.on('error', () => undefined);
      session.on('pdu', (pdu: PDU) => this.onPdu(session, pdu));
    };
    this.server = opts.tls ? smpp.createServer(opts.tls, onSession) : smpp.createServer(onSession);
  }

  async listen(host = '127.0.0.1'): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, host, () => resolve()));
    this.port = (this.server.address() as AddressInfo).port;
    return this.port;
  }

  of(command: string): PeerPdu[] {
    return this.received.filter((r) => r.pdu.command === command);
  }

  /** Acknowledge a held submit_sm (used by tests that hold responses). */
  ack(entry: PeerPdu, status = 0): void {
    this.outstanding--;
    entry.session.send(
      entry.pdu.response(status ? { command_status: status } : { message_id: `m${this.nextId++}` }),
    );
  }

  private onPdu(session: Session, pdu: PDU): void {
    const entry = { session, pdu, at: performance.now() };
    this.received.push(entry);
    if (pdu.command === 'submit_sm') {
      this.outstanding++;
      if (this.outstanding > this.maxOutstanding) this.maxOutstanding = this.outstanding;
    }
    if (this.opts.handle?.(session, pdu)) return;
    switch (pdu.command) {
      case 'bind_transceiver':
      case 'bind_transmitter':
      case 'bind_receiver': {
        const ok = pdu.password === (this.opts.password ?? 'secret');
        session.send(
          pdu.response(ok ? { system_id: 'peer' } : { command_status: smpp.errors.ESME_RINVPASWD as number }),
        );
        return;
      }
      case 'submit_sm':
        this.ack(entry);
        return;
      case 'enquire_link':
      case 'unbind':
        session.send(pdu.response());
        if (pdu.command === 'unbind') session.close();
        return;
      default:
    }
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export { waitFor } from '../../helpers/wait.js';

export function once<T = unknown>(
  emitter: NodeJS.EventEmitter,
  event: string,
  timeoutMs = 10_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for '${event}'`)), timeoutMs);
    emitter.once(event, (v: T) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}
