/**
 * A direct encoder for submit_sm, the PDU the gateway sends most. The `smpp` package's encoder
 * walks every key of the PDU object through filters and type tables several times per PDU;
 * this writes the SMPP 3.4 §4.4.1 layout in one pass. It takes only the fields the gateway
 * produces and returns undefined for anything else, so the caller falls back to the package and
 * both always give the same bytes (the tests hold it to that, byte for byte).
 */
import type { PduOptions } from 'smpp';

const SUBMIT_SM = 0x00000004;

/** The mandatory one-octet fields, in wire order, after source/destination addresses. */
const OCTET_FIELDS = new Set([
  'source_addr_ton',
  'source_addr_npi',
  'dest_addr_ton',
  'dest_addr_npi',
  'esm_class',
  'protocol_id',
  'priority_flag',
  'registered_delivery',
  'replace_if_present_flag',
  'data_coding',
  'sm_default_msg_id',
]);
const CSTRING_FIELDS = new Set([
  'service_type',
  'source_addr',
  'destination_addr',
  'schedule_delivery_time',
  'validity_period',
]);
/** TLVs the gateway sets: tag and value width in octets (0: a byte string). */
const TLVS: Readonly<Record<string, readonly [number, number]>> = {
  sar_msg_ref_num: [0x020c, 2],
  sar_total_segments: [0x020e, 1],
  sar_segment_seqnum: [0x020f, 1],
  message_payload: [0x0424, 0],
};

// Printable ASCII only: the package writes C-strings as 'ascii', which would mangle anything else.
const ASCII = /^[\x20-\x7e]*$/;

function octet(v: unknown): number | undefined {
  if (v === undefined) return 0;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xff ? v : undefined;
}

function cstring(v: unknown): string | undefined {
  if (v === undefined) return '';
  return typeof v === 'string' && ASCII.test(v) ? v : undefined;
}

/**
 * submit_sm with the given sequence number, or undefined when the fields hold anything this
 * encoder does not cover (the caller then uses the `smpp` package).
 */
export function encodeSubmitSm(fields: PduOptions, sequence: number): Buffer | undefined {
  const f = fields as Record<string, unknown>;
  const tlvKeys: string[] = [];
  for (const key in f) {
    if (f[key] === undefined) continue;
    if (OCTET_FIELDS.has(key) || CSTRING_FIELDS.has(key) || key === 'short_message') continue;
    if (key in TLVS) tlvKeys.push(key);
    else return undefined;
  }
  const o = (k: string): number | undefined => octet(f[k]);
  const s = (k: string): string | undefined => cstring(f[k]);
  const serviceType = s('service_type');
  const sourceAddr = s('source_addr');
  const destinationAddr = s('destination_addr');
  const schedule = s('schedule_delivery_time');
  const validity = s('validity_period');
  if (
    serviceType === undefined ||
    sourceAddr === undefined ||
    destinationAddr === undefined ||
    schedule === undefined ||
    validity === undefined
  ) {
    return undefined;
  }
  const sm = f.short_message === undefined ? Buffer.alloc(0) : f.short_message;
  if (!Buffer.isBuffer(sm) || sm.length > 0xff) return undefined;
  const srcTon = o('source_addr_ton');
  const srcNpi = o('source_addr_npi');
  const dstTon = o('dest_addr_ton');
  const dstNpi = o('dest_addr_npi');
  const esm = o('esm_class');
  const pid = o('protocol_id');
  const prio = o('priority_flag');
  const reg = o('registered_delivery');
  const replace = o('replace_if_present_flag');
  const dcs = o('data_coding');
  const defMsg = o('sm_default_msg_id');
  if (
    srcTon === undefined ||
    srcNpi === undefined ||
    dstTon === undefined ||
    dstNpi === undefined ||
    esm === undefined ||
    pid === undefined ||
    prio === undefined ||
    reg === undefined ||
    replace === undefined ||
    dcs === undefined ||
    defMsg === undefined
  ) {
    return undefined;
  }

  let length =
    16 +
    serviceType.length +
    1 +
    2 +
    sourceAddr.length +
    1 +
    2 +
    destinationAddr.length +
    1 +
    3 +
    schedule.length +
    1 +
    validity.length +
    1 +
    5 +
    sm.length;
  for (const key of tlvKeys) {
    const [, width] = TLVS[key] as readonly [number, number];
    const v = f[key];
    if (width === 0) {
      if (!Buffer.isBuffer(v) || v.length > 0xffff) return undefined;
      length += 4 + v.length;
    } else {
      const max = width === 1 ? 0xff : 0xffff;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) return undefined;
      length += 4 + width;
    }
  }

  const b = Buffer.allocUnsafe(length);
  b.writeUInt32BE(length, 0);
  b.writeUInt32BE(SUBMIT_SM, 4);
  b.writeUInt32BE(0, 8);
  b.writeUInt32BE(sequence, 12);
  let at = 16;
  const str = (v: string): void => {
    at += b.write(v, at, 'latin1');
    b[at++] = 0;
  };
  str(serviceType);
  b[at++] = srcTon;
  b[at++] = srcNpi;
  str(sourceAddr);
  b[at++] = dstTon;
  b[at++] = dstNpi;
  str(destinationAddr);
  b[at++] = esm;
  b[at++] = pid;
  b[at++] = prio;
  str(schedule);
  str(validity);
  b[at++] = reg;
  b[at++] = replace;
  b[at++] = dcs;
  b[at++] = defMsg;
  b[at++] = sm.length;
  at += sm.copy(b, at);
  for (const key of tlvKeys) {
    const [tag, width] = TLVS[key] as readonly [number, number];
    const v = f[key];
    b.writeUInt16BE(tag, at);
    if (width === 0) {
      const buf = v as Buffer;
      b.writeUInt16BE(buf.length, at + 2);
      at += 4;
      at += buf.copy(b, at);
    } else {
      b.writeUInt16BE(width, at + 2);
      at += 4;
      if (width === 1) b[at] = v as number;
      else b.writeUInt16BE(v as number, at);
      at += width;
    }
  }
  return b;
}
