/**
 * The optional parameters of SMPP 3.4 §5.3.2: tag, value type and the lengths the specification
 * allows. One table drives three things: the length check of a request (a known tag with a length
 * outside its range is refused with ESME_RINVTLVLEN; an unknown tag is skipped, as §3.2.4 asks of
 * receivers), the typed fields of a decoded PDU, and their encoding.
 */
import { SmppEncodeError } from '../errors.js';
import type { Cursor, Writer } from './wire.js';

type Kind = 'u8' | 'u16' | 'u32' | 'cstring' | 'bytes';

interface Def {
  readonly tag: number;
  readonly kind: Kind;
  /** Value length bounds for 'cstring' / 'bytes' (NUL included); the integer kinds are fixed. */
  readonly min?: number;
  readonly max?: number;
}

const u8 = (tag: number) => ({ tag, kind: 'u8' }) as const;
const u16 = (tag: number) => ({ tag, kind: 'u16' }) as const;
const u32 = (tag: number) => ({ tag, kind: 'u32' }) as const;
const cstr = (tag: number, min: number, max: number) => ({ tag, kind: 'cstring', min, max }) as const;
const bytes = (tag: number, min: number, max: number) => ({ tag, kind: 'bytes', min, max }) as const;

const DEFS = {
  dest_addr_subunit: u8(0x0005),
  dest_network_type: u8(0x0006),
  dest_bearer_type: u8(0x0007),
  dest_telematics_id: u16(0x0008),
  source_addr_subunit: u8(0x000d),
  source_network_type: u8(0x000e),
  source_bearer_type: u8(0x000f),
  source_telematics_id: u8(0x0010),
  qos_time_to_live: u32(0x0017),
  payload_type: u8(0x0019),
  additional_status_info_text: cstr(0x001d, 1, 256),
  receipted_message_id: cstr(0x001e, 1, 65),
  ms_msg_wait_facilities: u8(0x0030),
  privacy_indicator: u8(0x0201),
  source_subaddress: bytes(0x0202, 2, 23),
  dest_subaddress: bytes(0x0203, 2, 23),
  user_message_reference: u16(0x0204),
  user_response_code: u8(0x0205),
  source_port: u16(0x020a),
  destination_port: u16(0x020b),
  sar_msg_ref_num: u16(0x020c),
  language_indicator: u8(0x020d),
  sar_total_segments: u8(0x020e),
  sar_segment_seqnum: u8(0x020f),
  sc_interface_version: u8(0x0210),
  callback_num_pres_ind: u8(0x0302),
  callback_num_atag: bytes(0x0303, 0, 65),
  number_of_messages: u8(0x0304),
  callback_num: bytes(0x0381, 4, 19),
  dpf_result: u8(0x0420),
  set_dpf: u8(0x0421),
  ms_availability_status: u8(0x0422),
  network_error_code: bytes(0x0423, 3, 3),
  message_payload: bytes(0x0424, 0, 0xffff),
  delivery_failure_reason: u8(0x0425),
  more_messages_to_send: u8(0x0426),
  message_state: u8(0x0427),
  ussd_service_op: u8(0x0501),
  display_time: u8(0x1201),
  sms_signal: u16(0x1203),
  ms_validity: u8(0x1204),
  alert_on_message_delivery: bytes(0x130c, 0, 0),
  its_reply_type: u8(0x1380),
  its_session_info: bytes(0x1383, 2, 2),
} as const satisfies Record<string, Def>;

export type TlvName = keyof typeof DEFS;

type ValueOf<K extends Kind> = K extends 'cstring' ? string : K extends 'bytes' ? Buffer : number;

/** A TLV whose tag this table does not know, kept as it came (and sent as given). */
export interface RawTlv {
  tag: number;
  value: Buffer;
}

/** The optional parameters of a PDU, one typed field per known tag. */
export type Tlvs = { [K in TlvName]?: ValueOf<(typeof DEFS)[K]['kind']> } & { other_tlvs?: RawTlv[] };

export interface TlvSpec {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  /** May appear more than once in a PDU (see REPEATABLE). */
  readonly repeatable: boolean;
}

/**
 * The TLVs SMPP 3.4 lets appear more than once: callback_num "can be included a number of times
 * for multiple call-back addresses" (§5.3.2.36), and callback_num_pres_ind / callback_num_atag
 * then come once per callback_num, in the same order (§5.3.2.37-38). Every other TLV appears at
 * most once; a request that repeats one is refused (check.ts). The typed field keeps the first
 * instance; later ones are kept, as they came, in other_tlvs.
 */
const REPEATABLE: ReadonlySet<string> = new Set([
  'callback_num',
  'callback_num_pres_ind',
  'callback_num_atag',
]);

function widthOf(d: Def): number {
  return d.kind === 'u8' ? 1 : d.kind === 'u16' ? 2 : d.kind === 'u32' ? 4 : -1;
}

function specOf(name: string, d: Def): TlvSpec {
  const w = widthOf(d);
  const repeatable = REPEATABLE.has(name);
  return w > 0
    ? { name, min: w, max: w, repeatable }
    : { name, min: d.min ?? 0, max: d.max ?? 0xffff, repeatable };
}

interface Entry {
  readonly name: TlvName;
  readonly def: Def;
  readonly spec: TlvSpec;
}

const ENTRIES: readonly Entry[] = (Object.entries(DEFS) as [TlvName, Def][]).map(([name, def]) => ({
  name,
  def,
  spec: specOf(name, def),
}));
const BY_TAG: ReadonlyMap<number, Entry> = new Map(ENTRIES.map((e) => [e.def.tag, e]));
const BY_NAME: ReadonlyMap<string, Entry> = new Map(ENTRIES.map((e) => [e.name, e]));

/** Allowed value lengths by tag, for the request check (check.ts). */
export const TLV_SPECS: ReadonlyMap<number, TlvSpec> = new Map(ENTRIES.map((e) => [e.def.tag, e.spec]));

export const Tag = {
  sar_msg_ref_num: DEFS.sar_msg_ref_num.tag,
  sar_total_segments: DEFS.sar_total_segments.tag,
  sar_segment_seqnum: DEFS.sar_segment_seqnum.tag,
  message_payload: DEFS.message_payload.tag,
} as const;

/**
 * Reads the TLV stream from the cursor to the end of the PDU into `into`. A value whose length
 * does not fit its tag's type (a response is not checked like a request) is kept in other_tlvs
 * rather than misread, and so is a second instance of a tag (the first one is the typed field:
 * for callback_num, repeatable, the first address; a request repeating any other tag was refused
 * before it got here); a stream cut short stops the loop, keeping what was read.
 */
export function readTlvs(c: Cursor, into: Tlvs): void {
  const b = c.b;
  const target = into as Record<string, unknown>;
  while (c.end - c.at >= 4) {
    const tag = b.readUInt16BE(c.at);
    const len = b.readUInt16BE(c.at + 2);
    const at = c.at + 4;
    if (at + len > c.end) break;
    c.at = at + len;
    const e = BY_TAG.get(tag);
    if (e === undefined || len < e.spec.min || len > e.spec.max || target[e.name] !== undefined) {
      (into.other_tlvs ??= []).push({ tag, value: Buffer.from(b.subarray(at, at + len)) });
      continue;
    }
    switch (e.def.kind) {
      case 'u8':
        target[e.name] = b[at];
        break;
      case 'u16':
        target[e.name] = b.readUInt16BE(at);
        break;
      case 'u32':
        target[e.name] = b.readUInt32BE(at);
        break;
      case 'cstring': {
        // The NUL is part of the value; a peer that left it out still meant the text.
        const nul = b.indexOf(0, at);
        target[e.name] = b.toString('latin1', at, nul >= 0 && nul < at + len ? nul : at + len);
        break;
      }
      case 'bytes':
        target[e.name] = Buffer.from(b.subarray(at, at + len));
        break;
    }
  }
  c.at = c.end;
}

/** A TLV value: checked against its type, and the octets it takes (header included). */
function sizeOne(command: string, e: Entry, v: unknown): number {
  const { kind } = e.def;
  if (kind === 'cstring') {
    if (typeof v !== 'string' || v.length + 1 > e.spec.max) {
      throw new SmppEncodeError(
        command,
        `TLV ${e.name} must be Latin-1 text of at most ${e.spec.max - 1} characters`,
      );
    }
    return 4 + v.length + 1;
  }
  if (kind === 'bytes') {
    if (!Buffer.isBuffer(v) || v.length < e.spec.min || v.length > e.spec.max) {
      throw new SmppEncodeError(command, `TLV ${e.name} must be ${e.spec.min}-${e.spec.max} octets`);
    }
    return 4 + v.length;
  }
  const w = widthOf(e.def);
  const max = w === 1 ? 0xff : w === 2 ? 0xffff : 0xffffffff;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
    throw new SmppEncodeError(command, `TLV ${e.name} ${String(v)} does not fit ${w} octet(s)`);
  }
  return 4 + w;
}

/**
 * The octets the TLVs among `fields` take, checking each; keys that are not TLV names are the
 * caller's mandatory fields and are skipped.
 */
export function tlvsSize(command: string, fields: object): number {
  let n = 0;
  const f = fields as Record<string, unknown>;
  for (const key in f) {
    const v = f[key];
    if (v === undefined) continue;
    const e = BY_NAME.get(key);
    if (e !== undefined) n += sizeOne(command, e, v);
    else if (key === 'other_tlvs') {
      for (const t of v as RawTlv[]) {
        if (!Number.isInteger(t.tag) || t.tag < 0 || t.tag > 0xffff || t.value.length > 0xffff) {
          throw new SmppEncodeError(
            command,
            `TLV 0x${t.tag.toString(16)} has a bad tag or a value over 65535 octets`,
          );
        }
        n += 4 + t.value.length;
      }
    }
  }
  return n;
}

/** Writes the TLVs among `fields` in their key order (tlvsSize has checked them). */
export function writeTlvs(w: Writer, fields: object): void {
  const f = fields as Record<string, unknown>;
  const b = w.b;
  for (const key in f) {
    const v = f[key];
    if (v === undefined) continue;
    const e = BY_NAME.get(key);
    if (e === undefined) {
      if (key === 'other_tlvs') {
        for (const t of v as RawTlv[]) {
          b.writeUInt16BE(t.tag, w.at);
          b.writeUInt16BE(t.value.length, w.at + 2);
          w.at += 4;
          w.bytes(t.value);
        }
      }
      continue;
    }
    b.writeUInt16BE(e.def.tag, w.at);
    const at = w.at + 4;
    switch (e.def.kind) {
      case 'u8':
        b.writeUInt16BE(1, w.at + 2);
        b[at] = v as number;
        w.at = at + 1;
        break;
      case 'u16':
        b.writeUInt16BE(2, w.at + 2);
        b.writeUInt16BE(v as number, at);
        w.at = at + 2;
        break;
      case 'u32':
        b.writeUInt16BE(4, w.at + 2);
        b.writeUInt32BE(v as number, at);
        w.at = at + 4;
        break;
      case 'cstring': {
        const s = v as string;
        b.writeUInt16BE(s.length + 1, w.at + 2);
        w.at = at;
        w.cstring(s);
        break;
      }
      case 'bytes': {
        const buf = v as Buffer;
        b.writeUInt16BE(buf.length, w.at + 2);
        w.at = at;
        w.bytes(buf);
        break;
      }
    }
  }
}
