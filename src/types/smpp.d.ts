// Type declarations for the `smpp` package (0.5.1), which ships none. Only what this project uses
// is declared; PDUs carry their fields as plain properties, typed loosely on purpose because the
// library adds whatever fields and TLVs a command has.
declare module 'smpp' {
  import type { EventEmitter } from 'node:events';
  import type { Socket, Server as NetServer, TcpSocketConnectOpts } from 'node:net';
  import type { ConnectionOptions as TlsConnectionOptions, TlsOptions } from 'node:tls';

  export type CommandName =
    | 'alert_notification'
    | 'bind_receiver'
    | 'bind_receiver_resp'
    | 'bind_transmitter'
    | 'bind_transmitter_resp'
    | 'bind_transceiver'
    | 'bind_transceiver_resp'
    | 'cancel_sm'
    | 'cancel_sm_resp'
    | 'data_sm'
    | 'data_sm_resp'
    | 'deliver_sm'
    | 'deliver_sm_resp'
    | 'enquire_link'
    | 'enquire_link_resp'
    | 'generic_nack'
    | 'outbind'
    | 'query_sm'
    | 'query_sm_resp'
    | 'replace_sm'
    | 'replace_sm_resp'
    | 'submit_multi'
    | 'submit_multi_resp'
    | 'submit_sm'
    | 'submit_sm_resp'
    | 'unbind'
    | 'unbind_resp'
    | 'unknown';

  /** Field values a PDU may carry: header integers, C strings, raw octets or decoded message objects. */
  export type PduValue =
    | number
    | string
    | Buffer
    | null
    | undefined
    | { message: string | Buffer; udh?: Buffer[] }
    | unknown[];

  export interface PduOptions {
    command_status?: number;
    sequence_number?: number;
    [field: string]: PduValue;
  }

  export class PDU {
    constructor(command: CommandName | Buffer, options?: PduOptions);
    static maxLength: number;
    static fromBuffer(buffer: Buffer): PDU | false;
    command: CommandName;
    command_length: number;
    command_id: number;
    command_status: number;
    sequence_number: number;
    [field: string]: unknown;
    isResponse(): boolean;
    response(options?: PduOptions): PDU;
    toBuffer(): Buffer;
  }

  export interface SessionOptions extends Partial<TcpSocketConnectOpts>, Partial<TlsConnectionOptions> {
    host?: string;
    port?: number;
    tls?: boolean;
    socket?: Socket;
    url?: string;
    auto_enquire_link_period?: number;
  }

  type ResponseCallback = (pdu: PDU) => void;

  export class Session extends EventEmitter {
    constructor(options: SessionOptions);
    socket: Socket;
    sequence: number;
    paused: boolean;
    server?: Server;
    send(pdu: PDU, responseCallback?: ResponseCallback, sendCallback?: ResponseCallback): boolean;
    pause(): void;
    resume(): void;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    // Command shortcuts: build a PDU of that command from options and send it.
    bind_transceiver(options: PduOptions, responseCallback?: ResponseCallback): boolean;
    bind_transmitter(options: PduOptions, responseCallback?: ResponseCallback): boolean;
    bind_receiver(options: PduOptions, responseCallback?: ResponseCallback): boolean;
    submit_sm(options: PduOptions, responseCallback?: ResponseCallback): boolean;
    deliver_sm(options: PduOptions, responseCallback?: ResponseCallback): boolean;
    query_sm(options: PduOptions, responseCallback?: ResponseCallback): boolean;
    enquire_link(options?: PduOptions | ResponseCallback, responseCallback?: ResponseCallback): boolean;
    unbind(options?: PduOptions | ResponseCallback, responseCallback?: ResponseCallback): boolean;
    generic_nack(options?: PduOptions): boolean;
  }

  export class Server extends NetServer {
    sessions: Session[];
    on(event: 'session', listener: (session: Session) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }

  export interface ServerOptions extends Partial<TlsOptions> {
    key?: string | Buffer;
    cert?: string | Buffer;
  }

  export function createServer(options?: ServerOptions, listener?: (session: Session) => void): Server;
  export function createServer(listener: (session: Session) => void): Server;
  export function connect(options: SessionOptions, listener?: () => void): Session;
  export function connect(url: string, listener?: () => void): Session;

  export const errors: Record<string, number>;
  export const consts: Record<string, Record<string, number> | number>;

  interface MessageFilter {
    encode(this: PDU, value: unknown): unknown;
    decode(this: PDU, value: unknown, skipUdh?: boolean): unknown;
  }
  export const filters: { message: MessageFilter } & Record<string, MessageFilter>;

  const smpp: {
    PDU: typeof PDU;
    Session: typeof Session;
    Server: typeof Server;
    createServer: typeof createServer;
    connect: typeof connect;
    errors: typeof errors;
    consts: typeof consts;
    filters: typeof filters;
  };
  export default smpp;
}
