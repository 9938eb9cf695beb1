/**
 * A direct encoder for submit_sm, the PDU the gateway sends most. The `smpp` package's encoder
 * walks every key of the PDU object through filters and type tables several times per PDU;
 * this writes the SMPP 3.4 §4.4.1 layout in one pass. It takes only the fields the gateway
 * produces and returns undefined for anything else, so the caller falls back to the package and
 * both always give the same bytes (the tests hold it to that, byte for byte).
 */
import type { PduOptions } from 'smpp';

const SUBMIT_SM = 0x00000004;

/** The mandatory parameters before short_message, in wire order: one octet, or a C-string. */
const LAYOUT: readonly (readonly [string, 'octet' | 'cstring'])[] = [
  ['service_type', 'cstring'],
  ['source_addr_ton', 'octet'],
  ['source_addr_npi', 'octet'],
  ['source_addr', 'cstring'],
  ['dest_addr_ton', 'octet'],
  ['dest_addr_npi', 'octet'],
  ['destination_addr', 'cstring'],
  ['esm_class', 'octet'],
  ['protocol_id', 'octet'],
  ['priority_flag', 'octet'],
  ['schedule_delivery_time', 'cstring'],
  ['validity_period', 'cstring'],
  ['registered_delivery', 'octet'],
  ['replace_if_present_flag', 'octet'],
  ['data_coding', 'octet'],
  ['sm_default_msg_id', 'octet'],
];
const MANDATORY: ReadonlySet<string> = new Set([...LAYOUT.map(([k]) => k), 'short_message']);

/** TLVs the gateway sets: tag and value width in octets (0: a byte string). */
const TLVS: Readonly<Record<string, readonly [number, number]>> = {
  sar_msg_ref_num: [0x020c, 2],
  sar_total_segments: [0x020e, 1],
  sar_segment_seqnum: [0x020f, 1],
  message_payload: [0x0424, 0],
};

// Printable ASCII only: the package writes C-strings as 'ascii', which would mangle anything else.
const ASCII = /^[\x20-\x7e]*$/;

function valueOf(kind: 'octet' | 'cstring', v: unknown): number | string | undefined {
  if (kind === 'octet') {
    if (v === undefined) return 0;
    return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff ? v : undefined;
  }
  if (v === undefined) return '';
  return typeof v === 'string' && ASCII.test(v) ? v : undefined;
}

/** Octets the TLV takes on the wire, or undefined when its value is not what the encoder covers. */
function tlvSize(width: number, v: unknown): number | undefined {
  if (width === 0) return Buffer.isBuffer(v) && v.length <= 0xffff ? 4 + v.length : undefined;
  const max = width === 1 ? 0xff : 0xffff;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? 4 + width : undefined;
}

/**
 * submit_sm with the given sequence number, or undefined when the fields hold anything this
 * encoder does not cover (the caller then uses the `smpp` package).
 */
export function encodeSubmitSm(fields: PduOptions, sequence: number): Buffer | undefined {
  const f = fields as Record<string, unknown>;
  // TLVs go out in the order of the object's keys, as the package writes them.
  const tlvKeys: string[] = [];
  for (const key in f) {
    if (f[key] === undefined || MANDATORY.has(key)) continue;
    if (!(key in TLVS)) return undefined;
    tlvKeys.push(key);
  }
  const values = new Array<number | string>(LAYOUT.length);
  let length = 16;
  for (let i = 0; i < LAYOUT.length; i++) {
    const [key, kind] = LAYOUT[i] as readonly [string, 'octet' | 'cstring'];
    const v = valueOf(kind, f[key]);
    if (v === undefined) return undefined;
    values[i] = v;
    length += typeof v === 'string' ? v.length + 1 : 1;
  }
  const sm = f.short_message === undefined ? Buffer.alloc(0) : f.short_message;
  if (!Buffer.isBuffer(sm) || sm.length > 0xff) return undefined;
  length += 1 + sm.length;
  for (const key of tlvKeys) {
    const size = tlvSize((TLVS[key] as readonly [number, number])[1], f[key]);
    if (size === undefined) return undefined;
    length += size;
  }

  const b = Buffer.allocUnsafe(length);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(SUBMIT_SM, 4);
  b.writeUInt32BE(0, 8);
  b.writeUInt32BE(sequence, 12);
  let at = 16;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number | string;
    if (typeof v === 'number') b[at++] = v;
    else {
      at += b.write(v, at, 'latin1');
      b[at++] = 0;
    }
  }
  b[at++] = sm.length;
  at += sm.copy(b, at);
  for (const key of tlvKeys) {
    const [tag, width] = TLVS[key] as readonly [number, number];
    const v = f[key];
    b.writeUInt16BE(tag, at);
    if (width === 0) {
      const buf = v as Buffer;
      b.writeUInt16BE(buf.length, at + 2);
      at += 4 + buf.copy(b, at + 4);
    } else {
      b.writeUInt16BE(width, at + 2);
      if (width === 1) b[at + 4] = v as number;
      else b.writeUInt16BE(v as number, at + 4);
      at += 4 + width;
    }
  }
  return b;
}
