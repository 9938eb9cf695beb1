/**
 * Translation between the core's message JSON and SMPP PDU fields, in both directions, using
 * src/codec for text, long messages, addresses and receipts. Pure functions: the runners decide
 * what to do with the results.
 */
import type { PDU, PduOptions } from 'smpp';
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
): PduOptions {
  const src = addressFor(m.source_msisdn, addressing?.source);
  const dst = addressFor(m.destination_msisdn, addressing?.destination);
  const f: PduOptions = {
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

function asBuffer(v: unknown): Buffer | undefined {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'string') return Buffer.from(v, 'latin1');
  if (v !== null && typeof v === 'object' && 'message' in v) {
    const msg = (v as { message: unknown }).message;
    if (Buffer.isBuffer(msg)) return msg;
    if (typeof msg === 'string') return Buffer.from(msg, 'latin1');
  }
  return undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('latin1').replace(/\0+$/, '');
  return undefined;
}

/** True when a deliver_sm carries a delivery receipt rather than a mobile-originated message. */
export function pduIsReceipt(pdu: PDU): boolean {
  return isReceipt(num(pdu.esm_class) ?? 0, {
    receipted_message_id: pdu.receipted_message_id,
    message_state: pdu.message_state,
  });
}

/** The receipt in a deliver_sm, or null when it cannot be read. */
export function pduReceipt(pdu: PDU): DeliveryReceipt | null {
  const body = asBuffer(pdu.short_message);
  const payload = asBuffer(pdu.message_payload);
  const text = (payload && payload.length > 0 ? payload : body)?.toString('latin1');
  const input: Parameters<typeof parseReceipt>[0] = {};
  if (text !== undefined && text !== '') input.text = text;
  const rid = str(pdu.receipted_message_id);
  if (rid !== undefined && rid !== '') input.receiptedMessageId = rid;
  const state = num(pdu.message_state);
  if (state !== undefined) input.messageState = state;
  const nec = asBuffer(pdu.network_error_code);
  if (nec !== undefined) input.networkErrorCode = nec;
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
export function inboundMessage(pdu: PDU, smscName: string): NewMessage {
  const dataCoding = num(pdu.data_coding) ?? 0;
  const esmClass = num(pdu.esm_class) ?? 0;
  const input: Parameters<typeof decodeMessage>[0] = {
    dataCoding,
    esmClass,
    shortMessage: asBuffer(pdu.short_message) ?? Buffer.alloc(0),
  };
  const payload = asBuffer(pdu.message_payload);
  if (payload !== undefined && payload.length > 0) input.messagePayload = payload;
  const ref = num(pdu.sar_msg_ref_num);
  const total = num(pdu.sar_total_segments);
  const part = num(pdu.sar_segment_seqnum);
  if (ref !== undefined && total !== undefined && part !== undefined)
    input.sar = { reference: ref, total, part };
  const decoded = decodeMessage(input);
  const source = str(pdu.source_addr) ?? '';
  const destination = str(pdu.destination_addr) ?? '';
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
