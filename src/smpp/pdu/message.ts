/**
 * Message PDUs (SMPP 3.4 §4.4, §4.6, §4.7): submit_sm and deliver_sm (one body layout), data_sm,
 * and their responses.
 */
import { SmppEncodeError } from '../errors.js';
import type { Header } from './header.js';
import { readTlvs, tlvsSize, writeTlvs, type Tlvs } from './tlv.js';
import { cstring, layoutOf, octet, timeSize, type Layout } from './layout.js';
import { cstringSize, octetCheck, type Cursor, type Writer } from './wire.js';

/** The mandatory body of submit_sm and deliver_sm, in wire order. */
export interface ShortMessageFields {
  service_type: string;
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string;
  dest_addr_ton: number;
  dest_addr_npi: number;
  destination_addr: string;
  esm_class: number;
  protocol_id: number;
  priority_flag: number;
  /** Empty or the 16-character §7.1 format; kept as text (the engine never schedules). */
  schedule_delivery_time: string;
  validity_period: string;
  registered_delivery: number;
  replace_if_present_flag: number;
  data_coding: number;
  sm_default_msg_id: number;
  /** The octets as sent (UDH included when esm_class says so); src/codec reads them. */
  short_message: Buffer;
}

export interface SubmitSm extends Header, ShortMessageFields, Tlvs {
  command: 'submit_sm';
}
export interface DeliverSm extends Header, ShortMessageFields, Tlvs {
  command: 'deliver_sm';
}

/** data_sm (§4.7.1): the addressing of submit_sm, no short_message (the body is a TLV). */
export interface DataSm
  extends Header,
    Tlvs,
    Pick<
      ShortMessageFields,
      | 'service_type'
      | 'source_addr_ton'
      | 'source_addr_npi'
      | 'source_addr'
      | 'dest_addr_ton'
      | 'dest_addr_npi'
      | 'destination_addr'
      | 'esm_class'
      | 'registered_delivery'
      | 'data_coding'
    > {
  command: 'data_sm';
}

/** submit_sm_resp / deliver_sm_resp: message_id (empty in deliver_sm_resp, absent on error). */
export interface SubmitSmResp extends Header {
  command: 'submit_sm_resp';
  message_id: string;
}
export interface DeliverSmResp extends Header {
  command: 'deliver_sm_resp';
  message_id: string;
}
export interface DataSmResp extends Header, Tlvs {
  command: 'data_sm_resp';
  message_id: string;
}

/**
 * What a caller gives for a submit_sm or deliver_sm: the link numbers it, and a mandatory field
 * left out takes its SMPP default (0, the empty string, an empty short_message).
 */
export type MessageFields = Partial<ShortMessageFields> & Tlvs;
export type SubmitFields = MessageFields;
export type DeliverFields = MessageFields;

export type MessagePdu = SubmitSm | DeliverSm | DataSm | SubmitSmResp | DeliverSmResp | DataSmResp;

/** §5.3.2.22-24: a peer refuses a message with some of the sar_* TLVs but not all three. */
function sarCheck(command: string, p: Tlvs): void {
  const n =
    (p.sar_msg_ref_num === undefined ? 0 : 1) +
    (p.sar_total_segments === undefined ? 0 : 1) +
    (p.sar_segment_seqnum === undefined ? 0 : 1);
  if (n !== 0 && n !== 3) {
    throw new SmppEncodeError(
      command,
      'sar_msg_ref_num, sar_total_segments and sar_segment_seqnum must come together',
    );
  }
}

/** Checks the fields and returns the body's size; `c` names the command in errors. */
export function shortMessageSize(c: string, p: MessageFields): number {
  octetCheck(c, 'source_addr_ton', p.source_addr_ton ?? 0);
  octetCheck(c, 'source_addr_npi', p.source_addr_npi ?? 0);
  octetCheck(c, 'dest_addr_ton', p.dest_addr_ton ?? 0);
  octetCheck(c, 'dest_addr_npi', p.dest_addr_npi ?? 0);
  octetCheck(c, 'esm_class', p.esm_class ?? 0);
  octetCheck(c, 'protocol_id', p.protocol_id ?? 0);
  octetCheck(c, 'priority_flag', p.priority_flag ?? 0);
  octetCheck(c, 'registered_delivery', p.registered_delivery ?? 0);
  octetCheck(c, 'replace_if_present_flag', p.replace_if_present_flag ?? 0);
  octetCheck(c, 'data_coding', p.data_coding ?? 0);
  octetCheck(c, 'sm_default_msg_id', p.sm_default_msg_id ?? 0);
  const sm = p.short_message ?? EMPTY;
  if (!Buffer.isBuffer(sm)) throw new SmppEncodeError(c, 'short_message is not a Buffer');
  sarCheck(c, p);
  if (sm.length > 0xff) {
    // sm_length is one octet; longer bodies go in message_payload.
    throw new SmppEncodeError(c, `short_message is ${sm.length} octets, at most 255`);
  }
  return (
    cstringSize(c, 'service_type', p.service_type ?? '', 5) +
    cstringSize(c, 'source_addr', p.source_addr ?? '', 20) +
    cstringSize(c, 'destination_addr', p.destination_addr ?? '', 20) +
    timeSize(c, 'schedule_delivery_time', p.schedule_delivery_time ?? '') +
    timeSize(c, 'validity_period', p.validity_period ?? '') +
    12 +
    sm.length +
    tlvsSize(c, p)
  );
}

const EMPTY = Buffer.alloc(0);

export function writeShortMessage(w: Writer, p: MessageFields): void {
  w.cstring(p.service_type ?? '');
  w.u8(p.source_addr_ton ?? 0);
  w.u8(p.source_addr_npi ?? 0);
  w.cstring(p.source_addr ?? '');
  w.u8(p.dest_addr_ton ?? 0);
  w.u8(p.dest_addr_npi ?? 0);
  w.cstring(p.destination_addr ?? '');
  w.u8(p.esm_class ?? 0);
  w.u8(p.protocol_id ?? 0);
  w.u8(p.priority_flag ?? 0);
  w.cstring(p.schedule_delivery_time ?? '');
  w.cstring(p.validity_period ?? '');
  w.u8(p.registered_delivery ?? 0);
  w.u8(p.replace_if_present_flag ?? 0);
  w.u8(p.data_coding ?? 0);
  w.u8(p.sm_default_msg_id ?? 0);
  const sm = p.short_message ?? EMPTY;
  w.u8(sm.length);
  w.bytes(sm);
  writeTlvs(w, p);
}

export function readShortMessage(c: Cursor, p: SubmitSm | DeliverSm): void {
  p.service_type = c.cstring('service_type');
  p.source_addr_ton = c.u8('source_addr_ton');
  p.source_addr_npi = c.u8('source_addr_npi');
  p.source_addr = c.cstring('source_addr');
  p.dest_addr_ton = c.u8('dest_addr_ton');
  p.dest_addr_npi = c.u8('dest_addr_npi');
  p.destination_addr = c.cstring('destination_addr');
  p.esm_class = c.u8('esm_class');
  p.protocol_id = c.u8('protocol_id');
  p.priority_flag = c.u8('priority_flag');
  p.schedule_delivery_time = c.cstring('schedule_delivery_time');
  p.validity_period = c.cstring('validity_period');
  p.registered_delivery = c.u8('registered_delivery');
  p.replace_if_present_flag = c.u8('replace_if_present_flag');
  p.data_coding = c.u8('data_coding');
  p.sm_default_msg_id = c.u8('sm_default_msg_id');
  p.short_message = c.bytes(c.u8('sm_length'), 'short_message');
  readTlvs(c, p);
}

export const DATA_SM_LAYOUT: Layout = layoutOf<DataSm>(
  [
    cstring('service_type', 5),
    octet('source_addr_ton'),
    octet('source_addr_npi'),
    cstring('source_addr', 64),
    octet('dest_addr_ton'),
    octet('dest_addr_npi'),
    cstring('destination_addr', 64),
    octet('esm_class'),
    octet('registered_delivery'),
    octet('data_coding'),
  ],
  { tlvs: true, check: sarCheck },
);

export function messageIdSize(p: SubmitSmResp | DeliverSmResp | DataSmResp): number {
  const n = cstringSize(p.command, 'message_id', p.message_id, 64);
  return p.command === 'data_sm_resp' ? n + tlvsSize(p.command, p) : n;
}

export function writeMessageId(w: Writer, p: SubmitSmResp | DeliverSmResp | DataSmResp): void {
  w.cstring(p.message_id);
  if (p.command === 'data_sm_resp') writeTlvs(w, p);
}

/** message_id; a body that is missing or not NUL-terminated reads as ''. */
export function readMessageId(c: Cursor, p: SubmitSmResp | DeliverSmResp | DataSmResp): void {
  const b = c.b;
  const nul = b.indexOf(0, c.at);
  if (nul < 0 || nul >= c.end) {
    p.message_id = '';
    c.at = c.end;
    return;
  }
  p.message_id = b.toString('latin1', c.at, nul);
  c.at = nul + 1;
  if (p.command === 'data_sm_resp') readTlvs(c, p);
  else c.at = c.end;
}
