/**
 * Bytes to typed PDUs and back. decodePdu never throws: a request that breaks SMPP 3.4 comes
 * back as a PduRefusal carrying the response that answers it; a response whose body is short
 * still settles its request (status and sequence are in the header). encodePdu throws only
 * SmppEncodeError, for values the types cannot rule out (an octet above 255, a C-string too long).
 */
import { SmppEncodeError, SmppError, Status } from '../errors.js';
import { checkRequest, genericNack, refusalResponse, type CheckOptions, type Refusal } from './check.js';
import { CommandId, commandName } from './header.js';
import { readLayout, layoutSize, writeLayout, type Layout } from './layout.js';
import {
  DATA_SM_LAYOUT,
  messageIdSize,
  readMessageId,
  readShortMessage,
  shortMessageSize,
  writeMessageId,
  writeShortMessage,
} from './message.js';
import type { MessageFields } from './message.js';
import type { Pdu } from './pdu.js';
import type { BindCommand, BindFields } from './session.js';
import { QUERY_SM_LAYOUT, QUERY_SM_RESP_LAYOUT } from './query.js';
import { ALERT_LAYOUT, BIND_LAYOUT, BIND_RESP_LAYOUT, OUTBIND_LAYOUT } from './session.js';
import { Cursor, HEADER, RESPONSE_BIT, sequenceCheck, Truncated, Writer } from './wire.js';

/**
 * A PDU refused as it was read: `response` answers it (null for a response PDU, which is never
 * answered), and the session carries on since the framing is intact.
 */
export class PduRefusal extends SmppError {
  readonly code = 'refused';
  readonly command: string;
  readonly commandId: number;
  readonly sequence: number;
  readonly status: number;
  /** For logs: which field and why; never field contents (a password could be one). */
  readonly reason: string;
  readonly response: Buffer | null;
  constructor(commandId: number, sequence: number, status: number, reason: string, response: Buffer | null) {
    const command = commandName(commandId);
    super(`${command} refused: ${reason}`);
    this.name = 'PduRefusal';
    this.command = command;
    this.commandId = commandId;
    this.sequence = sequence;
    this.status = status;
    this.reason = reason;
    this.response = response;
  }
}

export type Decoded = Pdu | PduRefusal;

function refuse(b: Buffer, r: Refusal): PduRefusal {
  const id = b.readUInt32BE(4);
  const request = (id & RESPONSE_BIT) === 0;
  return new PduRefusal(
    id,
    b.readUInt32BE(12),
    r.status,
    r.reason,
    request ? refusalResponse(b, r.status) : null,
  );
}

// Properties are assigned by the read* functions; each starts from its header so every decoded
// PDU of one command has the same shape (and V8 the same hidden class).
type Draft = Record<string, unknown> & { command: string; command_status: number; sequence_number: number };

/**
 * One framed PDU (header included, `b.length` = command_length) as a typed PDU, or the refusal
 * that answers it. Requests are checked first (pdu/check.ts), so their readers meet only
 * well-formed bodies; responses are read leniently.
 */
export function decodePdu(b: Buffer, check: CheckOptions = { strict: false }): Decoded {
  if (b.length < HEADER || b.readUInt32BE(0) !== b.length) {
    return new PduRefusal(
      b.length >= HEADER ? b.readUInt32BE(4) : 0,
      b.length >= HEADER ? b.readUInt32BE(12) : 0,
      Status.ESME_RINVCMDLEN,
      'command_length does not match the PDU',
      b.length >= HEADER ? genericNack(b.readUInt32BE(12), Status.ESME_RINVCMDLEN) : null,
    );
  }
  const id = b.readUInt32BE(4);
  const request = (id & RESPONSE_BIT) === 0;
  if (request) {
    const refusal = checkRequest(b, check);
    if (refusal !== null) return refuse(b, refusal);
  }
  const d: Draft = { command: '', command_status: b.readUInt32BE(8), sequence_number: b.readUInt32BE(12) };
  const c = new Cursor(b);
  try {
    return read(id, c, d);
  } catch (err) {
    if (!(err instanceof Truncated)) throw err;
    if (request) return refuse(b, { status: Status.ESME_RINVCMDLEN, reason: `PDU ends inside ${err.field}` });
    return headerOnly(id, d);
  }
}

/** The PDUs off the hot path, read, sized and written from their field layout (layout.ts). */
const LAYOUTS: ReadonlyMap<number, Layout> = new Map([
  [CommandId.bind_transmitter, BIND_LAYOUT],
  [CommandId.bind_receiver, BIND_LAYOUT],
  [CommandId.bind_transceiver, BIND_LAYOUT],
  [CommandId.bind_transmitter_resp, BIND_RESP_LAYOUT],
  [CommandId.bind_receiver_resp, BIND_RESP_LAYOUT],
  [CommandId.bind_transceiver_resp, BIND_RESP_LAYOUT],
  [CommandId.outbind, OUTBIND_LAYOUT],
  [CommandId.alert_notification, ALERT_LAYOUT],
  [CommandId.query_sm, QUERY_SM_LAYOUT],
  [CommandId.query_sm_resp, QUERY_SM_RESP_LAYOUT],
  [CommandId.data_sm, DATA_SM_LAYOUT],
]);

/** Commands with no body at all (§4.2, §4.3, §4.11). */
const HEADER_ONLY: ReadonlySet<number> = new Set([
  CommandId.enquire_link,
  CommandId.enquire_link_resp,
  CommandId.unbind,
  CommandId.unbind_resp,
  CommandId.generic_nack,
]);

function read(id: number, c: Cursor, d: Draft): Decoded {
  const p = d as unknown as Pdu;
  // The hot path (responses to our submits, receipts, partners' submits): names as literals.
  switch (id) {
    case CommandId.submit_sm_resp:
      d.command = 'submit_sm_resp';
      readMessageId(c, p as never);
      return p;
    case CommandId.deliver_sm_resp:
      d.command = 'deliver_sm_resp';
      readMessageId(c, p as never);
      return p;
    case CommandId.data_sm_resp:
      d.command = 'data_sm_resp';
      readMessageId(c, p as never);
      return p;
    case CommandId.submit_sm:
      d.command = 'submit_sm';
      readShortMessage(c, p as never);
      return p;
    case CommandId.deliver_sm:
      d.command = 'deliver_sm';
      readShortMessage(c, p as never);
      return p;
  }
  const layout = LAYOUTS.get(id);
  if (layout !== undefined) {
    // A negative response usually has no body at all: its fields are empty.
    if (c.done && (id & RESPONSE_BIT) !== 0) return headerOnly(id, d);
    d.command = commandName(id);
    readLayout(c, d, layout);
    return p;
  }
  if (HEADER_ONLY.has(id)) {
    d.command = commandName(id);
    return p;
  }
  // §4.3: a command we do not take (cancel_sm, replace_sm, submit_multi, or no command at all)
  // is answered with generic_nack ESME_RINVCMDID; a response we do not know is not answered.
  const seq = c.b.readUInt32BE(12);
  const request = (id & RESPONSE_BIT) === 0;
  return new PduRefusal(
    id,
    seq,
    Status.ESME_RINVCMDID,
    `command ${commandName(id)} is not supported`,
    request ? genericNack(seq, Status.ESME_RINVCMDID) : null,
  );
}

/** A response with its body cut short, as a PDU of that command with empty fields. */
function headerOnly(id: number, d: Draft): Pdu {
  const command = commandName(id);
  d.command = command;
  for (const k of Object.keys(d))
    if (k !== 'command' && k !== 'command_status' && k !== 'sequence_number') delete d[k];
  switch (id) {
    case CommandId.submit_sm_resp:
    case CommandId.deliver_sm_resp:
    case CommandId.data_sm_resp:
      d.message_id = '';
      break;
    case CommandId.bind_transmitter_resp:
    case CommandId.bind_receiver_resp:
    case CommandId.bind_transceiver_resp:
      d.system_id = '';
      break;
    case CommandId.query_sm_resp:
      d.message_id = '';
      d.final_date = '';
      d.message_state = 0;
      d.error_code = 0;
      break;
  }
  return d as unknown as Pdu;
}

function bodySize(p: Pdu): number {
  switch (p.command) {
    case 'submit_sm':
    case 'deliver_sm':
      return shortMessageSize(p.command, p);
    case 'submit_sm_resp':
    case 'deliver_sm_resp':
    case 'data_sm_resp':
      return messageIdSize(p);
  }
  const layout = LAYOUTS.get(CommandId[p.command]);
  return layout === undefined ? 0 : layoutSize(p.command, p, layout);
}

function writeBody(w: Writer, p: Pdu): void {
  switch (p.command) {
    case 'submit_sm':
    case 'deliver_sm':
      return writeShortMessage(w, p);
    case 'submit_sm_resp':
    case 'deliver_sm_resp':
    case 'data_sm_resp':
      return writeMessageId(w, p);
  }
  const layout = LAYOUTS.get(CommandId[p.command]);
  if (layout !== undefined) writeLayout(w, p, layout);
}

/**
 * The bytes of `p`. A response with a non-zero command_status goes out as its header alone
 * (§3.3), as does every PDU without a body. Throws SmppEncodeError only.
 */
export function encodePdu(p: Pdu): Buffer {
  const command = p.command;
  try {
    const id = CommandId[command] as number | undefined;
    if (id === undefined) throw new SmppEncodeError(String(command), 'not a command this engine encodes');
    sequenceCheck(command, p.sequence_number);
    const status = p.command_status;
    if (!Number.isInteger(status) || status < 0 || status > 0xffffffff) {
      throw new SmppEncodeError(command, `command_status ${status} is not a 32-bit unsigned integer`);
    }
    const headerOnlyPdu = status !== 0 && (id & RESPONSE_BIT) !== 0;
    const length = HEADER + (headerOnlyPdu ? 0 : bodySize(p));
    const w = new Writer(length, id, status, p.sequence_number, command);
    if (!headerOnlyPdu) writeBody(w, p);
    return w.b;
  } catch (err) {
    if (err instanceof SmppEncodeError) throw err;
    // A value of the wrong type slipped past the compiler (an untyped caller): still ours.
    throw new SmppEncodeError(String(command), err);
  }
}

/**
 * submit_sm / deliver_sm with `fields` (mandatory fields left out take their defaults), numbered
 * `seq`. Throws SmppEncodeError only.
 */
export function encodeMessageRequest(
  command: 'submit_sm' | 'deliver_sm',
  fields: MessageFields,
  seq: number,
): Buffer {
  // Straight from the caller's object: merging it into a full PDU first cost more than the rest
  // of the encoding (a copy per message, and an object V8 keeps in slow mode).
  try {
    sequenceCheck(command, seq);
    const w = new Writer(HEADER + shortMessageSize(command, fields), CommandId[command], 0, seq, command);
    writeShortMessage(w, fields);
    return w.b;
  } catch (err) {
    if (err instanceof SmppEncodeError) throw err;
    throw new SmppEncodeError(command, err);
  }
}

const BIND_DEFAULTS: Readonly<BindFields> = {
  system_id: '',
  password: '',
  system_type: '',
  interface_version: 0x34,
  addr_ton: 0,
  addr_npi: 0,
  address_range: '',
};

/** A bind of ours, numbered `seq`; fields left out take their defaults (interface_version 3.4). */
export function encodeBind(command: BindCommand, fields: Partial<BindFields>, seq: number): Buffer {
  return encodePdu({ command, command_status: 0, sequence_number: seq, ...BIND_DEFAULTS, ...fields });
}
