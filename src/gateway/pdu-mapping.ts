/**
 * Translation between the core's message JSON and SMPP PDU fields, in both directions, using
 * src/codec for text, long messages, addresses and receipts. Pure functions: the runners decide
 * what to do with the results.
 */
import type { DataSm, DeliverSm, SubmitFields, SubmitSm } from '../smpp/pdu/message.js';
import type { ClientBindSpec, ServerBindSpec } from '../api/index.js';
import {
  addressFor,
  CodecError,
  decodeMessage,
  encodeMessage,
  isReceipt,
  parseReceipt,
  type Charset,
  type DeliveryReceipt,
  type EncodedPart,
} from '../codec/index.js';
import type { CoreMessage, NewMessage } from '../core/index.js';

export { CodecError };

type Codec = ClientBindSpec['codec'] | ServerBindSpec['codec'];
type Addressing = ClientBindSpec['addressing'] | ServerBindSpec['addressing'];

const CHARSETS: ReadonlySet<string> = new Set(['gsm7', '8bit', 'latin1', 'ucs2']);

/** The charset the core asked for (tp_dcs_character_set), else the bind's preferred one. */
export function charsetFor(m: CoreMessage, preferred: Charset): Charset {
  const asked = typeof m.tp_dcs_character_set === 'string' ? m.tp_dcs_character_set.toLowerCase() : '';
  return CHARSETS.has(asked) ? (asked as Charset) : preferred;
}

/**
 * The message as PDU parts (one per SMS, or one with message_payload). Text that the chosen
 * 7-bit/Latin-1 alphabet cannot carry goes out as UCS-2 rather than being failed or mangled.
 * Throws CodecError when the message cannot be sent at all (too many parts, bad 8-bit body).
 */
export function encodeCore(m: CoreMessage, codec: Codec, reference: number): EncodedPart[] {
  const charset = charsetFor(m, codec.dataCoding);
  const opts = {
    charset,
    packed: codec.packed,
    longMessage: codec.longMessage,
    reference,
    ...(codec.maxParts !== undefined ? { maxParts: codec.maxParts } : {}),
  };
  try {
    return encodeMessage(m.message_body, opts);
  } catch (err) {
    if (
      !(err instanceof CodecError) ||
      err.code !== 'unencodable' ||
      (charset !== 'gsm7' && charset !== 'latin1')
    ) {
      throw err;
    }
    return encodeMessage(m.message_body, { ...opts, charset: 'ucs2' });
  }
}

/** submit_sm / deliver_sm fields for one part. */
export function partFields(
  m: CoreMessage,
  part: EncodedPart,
  addressing: Addressing,
  registeredDelivery: number,
): SubmitFields {
  const src = addressFor(m.source_msisdn, addressing?.source);
  const dst = addressFor(m.destination_msisdn, addressing?.destination);
  const f: SubmitFields = {
    source_addr_ton: src.ton,
    source_addr_npi: src.npi,
    source_addr: src.addr,
    dest_addr_ton: dst.ton,
    dest_addr_npi: dst.npi,
    destination_addr: dst.addr,
    esm_class: part.esmClassUdhi ? 0x40 : 0,
    registered_delivery: registeredDelivery,
    data_coding: part.dataCoding,
    short_message: part.shortMessage,
  };
  const t = part.tlvs;
  if (t.sar_msg_ref_num !== undefined) f.sar_msg_ref_num = t.sar_msg_ref_num;
  if (t.sar_total_segments !== undefined) f.sar_total_segments = t.sar_total_segments;
  if (t.sar_segment_seqnum !== undefined) f.sar_segment_seqnum = t.sar_segment_seqnum;
  if (t.message_payload !== undefined) f.message_payload = t.message_payload;
  return f;
}

/** A deliver_sm or submit_sm (carrier MO / partner) or data_sm: what carries a message to the core. */
export type MessageRequest = SubmitSm | DeliverSm | DataSm;

function shortMessageOf(pdu: MessageRequest): Buffer | undefined {
  return pdu.command === 'data_sm' ? undefined : pdu.short_message;
}

/** True when a deliver_sm carries a delivery receipt rather than a mobile-originated message. */
export function pduIsReceipt(pdu: MessageRequest): boolean {
  return isReceipt(pdu.esm_class, {
    receipted_message_id: pdu.receipted_message_id,
    message_state: pdu.message_state,
  });
}

/** The receipt in a deliver_sm, or null when it cannot be read. */
export function pduReceipt(pdu: MessageRequest): DeliveryReceipt | null {
  const body = shortMessageOf(pdu);
  const payload = pdu.message_payload;
  const text = (payload && payload.length > 0 ? payload : body)?.toString('latin1');
  const input: Parameters<typeof parseReceipt>[0] = {};
  if (text !== undefined && text !== '') input.text = text;
  const rid = pdu.receipted_message_id;
  if (rid !== undefined && rid !== '') input.receiptedMessageId = rid;
  if (pdu.message_state !== undefined) input.messageState = pdu.message_state;
  if (pdu.network_error_code !== undefined) input.networkErrorCode = pdu.network_error_code;
  return parseReceipt(input);
}

const CHARSET_BY_DCS: Record<number, string> = {
  0: 'gsm7',
  1: 'gsm7',
  3: 'latin1',
  8: 'ucs2',
  4: '8bit',
  2: '8bit',
};

/** A deliver_sm (carrier MO) or submit_sm (partner) as the core's new message. Throws CodecError. */
export function inboundMessage(pdu: MessageRequest, smscName: string): NewMessage {
  const dataCoding = pdu.data_coding;
  const esmClass = pdu.esm_class;
  const input: Parameters<typeof decodeMessage>[0] = {
    dataCoding,
    esmClass,
    shortMessage: shortMessageOf(pdu) ?? Buffer.alloc(0),
  };
  const payload = pdu.message_payload;
  if (payload !== undefined && payload.length > 0) input.messagePayload = payload;
  const ref = pdu.sar_msg_ref_num;
  const total = pdu.sar_total_segments;
  const part = pdu.sar_segment_seqnum;
  if (ref !== undefined && total !== undefined && part !== undefined)
    input.sar = { reference: ref, total, part };
  const decoded = decodeMessage(input);
  const source = pdu.source_addr;
  const destination = pdu.destination_addr;
  if (source === '' || destination === '') {
    throw new CodecError(`${pdu.command} without ${source === '' ? 'source_addr' : 'destination_addr'}`);
  }
  const m: NewMessage = {
    source_msisdn: source,
    destination_msisdn: destination,
    message_body: decoded.text,
    source_smsc: smscName,
  };
  const cs = CHARSET_BY_DCS[dataCoding & 0x0f] ?? (dataCoding >= 0xf0 ? 'gsm7' : undefined);
  if (cs !== undefined) m.tp_dcs_character_set = cs;
  if (decoded.concat) {
    m.message_part_number = decoded.concat.part;
    m.message_parts = decoded.concat.total;
    // The core reassembles by this reference (with the numbers and part counts above).
    m.tp_user_data_header = { concat: { ...decoded.concat } };
  }
  return m;
}
