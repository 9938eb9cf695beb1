import { STATUS_NAMES } from './status-names.js';

export type BindType = 'transmitter' | 'receiver' | 'transceiver';

function hex(code: number): string {
  return '0x' + (code >>> 0).toString(16).toUpperCase().padStart(8, '0');
}

/** 0x0E -> "ESME_RINVPASWD"; a code the SMPP 3.4 table does not name -> "0x000000FF". */
export function statusName(code: number): string {
  return STATUS_NAMES.get(code) ?? hex(code);
}

/** Well-known status codes the engine itself reacts to. */
export const Status = {
  ESME_ROK: 0x00,
  ESME_RINVMSGLEN: 0x01,
  ESME_RINVCMDLEN: 0x02,
  ESME_RINVCMDID: 0x03,
  ESME_RINVBNDSTS: 0x04,
  ESME_RALYBND: 0x05,
  ESME_RSYSERR: 0x08,
  ESME_RINVSRCADR: 0x0a,
  ESME_RINVDSTADR: 0x0b,
  ESME_RBINDFAIL: 0x0d,
  ESME_RINVPASWD: 0x0e,
  ESME_RINVSYSID: 0x0f,
  ESME_RINVMSGID: 0x0c,
  ESME_RMSGQFUL: 0x14,
  ESME_RINVSERTYP: 0x15,
  ESME_RINVSYSTYP: 0x53,
  ESME_RTHROTTLED: 0x58,
  ESME_RINVSCHED: 0x61,
  ESME_RINVEXPIRY: 0x62,
  ESME_RX_T_APPN: 0x64,
  ESME_RQUERYFAIL: 0x67,
  /** SMPP 3.4's name; SMPP 5.0 (and the `smpp` package) call it ESME_RINVTLVSTREAM. */
  ESME_RINVOPTPARSTREAM: 0xc0,
  /** SMPP 3.4: ESME_RINVPARLEN. */
  ESME_RINVTLVLEN: 0xc2,
  /** SMPP 3.4: ESME_RMISSINGOPTPARAM. */
  ESME_RMISSINGTLV: 0xc3,
} as const;

// Codes meaning "the request was fine, the peer could not take it now": the caller should
// retry later rather than fail the message.
const TEMPORARY = new Set<number>([
  Status.ESME_RSYSERR,
  Status.ESME_RMSGQFUL,
  Status.ESME_RTHROTTLED,
  Status.ESME_RX_T_APPN,
]);

/** True for statuses where the message should be retried later (throttled, queue full, system error, ...). */
export function isTemporaryStatus(code: number): boolean {
  return TEMPORARY.has(code);
}

/** What went wrong, stable across releases: match on this, not on messages or class names. */
export type SmppErrorCode = 'status' | 'timeout' | 'closed' | 'unsent' | 'decode' | 'encode' | 'refused';

/** The base of every error the SMPP engine raises; `code` says which kind it is. */
export abstract class SmppError extends Error {
  abstract readonly code: SmppErrorCode;
}

/** A non-zero command_status in a response, e.g. "bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)". */
export class SmppStatusError extends SmppError {
  readonly code = 'status';
  readonly status: number;
  readonly statusName: string;
  readonly command: string;
  constructor(command: string, status: number) {
    const name = statusName(status);
    super(`${command}: ${name} (${hex(status)})`);
    this.name = 'SmppStatusError';
    this.status = status;
    this.statusName = name;
    this.command = command;
  }
  get temporary(): boolean {
    return isTemporaryStatus(this.status);
  }
}

/** No response to `command` within the configured time. */
export class SmppTimeoutError extends SmppError {
  readonly code = 'timeout';
  readonly command: string;
  constructor(command: string, ms: number) {
    super(`${command}: no response within ${ms} ms`);
    this.name = 'SmppTimeoutError';
    this.command = command;
  }
}

/** The session closed (or never bound) before the request could complete. */
export class SmppClosedError extends SmppError {
  readonly code: 'closed' | 'unsent' = 'closed';
  constructor(message = 'SMPP session closed') {
    super(message);
    this.name = 'SmppClosedError';
  }
}

/**
 * The request was never written to the peer: it was still waiting for a window slot (or a
 * session) when the session stopped or closed. Sending it again later cannot duplicate it.
 */
export class SmppUnsentError extends SmppClosedError {
  override readonly code = 'unsent';
  constructor(message: string) {
    super(message);
    this.name = 'SmppUnsentError';
  }
}

/** The peer sent bytes that cannot be framed as PDUs; the connection carrying them closes. */
export class SmppDecodeError extends SmppError {
  readonly code = 'decode';
  constructor(message: string) {
    super(message);
    this.name = 'SmppDecodeError';
  }
}

/**
 * The fields given for a PDU cannot be encoded (an address or body the PDU cannot carry).
 * Sending the same fields again fails the same way, so the message fails for good.
 */
export class SmppEncodeError extends SmppError {
  readonly code = 'encode';
  readonly command: string;
  constructor(command: string, cause: unknown) {
    super(`${command} could not be encoded: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.name = 'SmppEncodeError';
    this.command = command;
  }
}
