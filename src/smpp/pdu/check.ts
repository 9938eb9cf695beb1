/**
 * Checks a request PDU against the SMPP 3.4 layout before anything acts on it: field lengths
 * (§5.2), addresses by TON/NPI, sm_length against the bytes present, and the TLV stream (§3.2.4,
 * §5.3: lengths, the sar_* set, a tag repeated that may not be). A refused PDU is answered with the status this returns and never reaches a handler;
 * the session carries on, since the command_length framing is still intact.
 */
import { Status } from '../errors.js';
import { CommandId, commandName } from './header.js';
import { Tag, TLV_SPECS } from './tlv.js';

export interface Refusal {
  status: number;
  /** For logs: which field and why. Never carries field contents (a password could be one). */
  reason: string;
}

export interface CheckOptions {
  /**
   * By the book (the listener: partners' requests): addresses whose characters do not fit their
   * TON/NPI and TLVs repeated where SMPP 3.4 forbids it are refused. Off for a carrier's requests
   * (deliver_sm receipts): refusing one would have the carrier resend a receipt it will never
   * write differently, so the decoder keeps the first value of a repeated TLV instead.
   */
  strict: boolean;
}

const HEADER = 16;
// cstring() results below 0: the field has no NUL within its maximum, or the PDU ends first.
const TOO_LONG = -1;
const TRUNCATED = -2;

/** Index after the C-string at `at` whose maximum size (NUL included) is `max`. */
function cstring(b: Buffer, at: number, max: number): number {
  const limit = Math.min(b.length, at + max);
  for (let i = at; i < limit; i++) if (b[i] === 0) return i + 1;
  return limit === b.length && limit < at + max ? TRUNCATED : TOO_LONG;
}

const truncated = (field: string): Refusal => ({
  status: Status.ESME_RINVCMDLEN,
  reason: `PDU ends inside ${field}`,
});

const NUMERIC_TON = new Set([1, 2, 4, 6]); // international, national, subscriber, abbreviated
const NUMERIC_NPI = new Set([1, 3, 4, 6, 8]); // E.164, X.121, telex, land mobile, national

/** Why the address at [from, to) does not fit its TON/NPI, or null when it does. */
function addressProblem(b: Buffer, from: number, to: number, ton: number, npi: number): string | null {
  for (let i = from; i < to; i++) {
    const c = b[i] as number;
    if (c < 0x20 || c > 0x7e) return 'a control or non-ASCII character';
  }
  if (ton === 5) return to - from > 11 ? 'more than 11 characters for an alphanumeric address' : null;
  if (!NUMERIC_TON.has(ton) && !NUMERIC_NPI.has(npi)) return null;
  let i = from;
  if (b[i] === 0x2b) i++; // a leading '+'
  if (i === to) return 'no digits';
  for (; i < to; i++) {
    const c = b[i] as number;
    if (c < 0x30 || c > 0x39) return `a character other than a digit for TON ${ton} / NPI ${npi}`;
  }
  return null;
}

class Scan {
  at = HEADER;
  refusal: Refusal | null = null;
  readonly b: Buffer;
  constructor(b: Buffer) {
    this.b = b;
  }

  /** Reads `n` octets of fixed fields; false (refusal set) when the PDU ends first. */
  octets(n: number, field: string): boolean {
    if (this.at + n > this.b.length) {
      this.refusal = truncated(field);
      return false;
    }
    this.at += n;
    return true;
  }

  /** Skips a C-string; returns its start, or -1 (refusal set). */
  cstring(field: string, max: number, status: number): number {
    const start = this.at;
    const next = cstring(this.b, start, max);
    if (next === TRUNCATED) {
      this.refusal = truncated(field);
      return -1;
    }
    if (next === TOO_LONG) {
      this.refusal = { status, reason: `${field} is longer than ${max - 1} characters` };
      return -1;
    }
    this.at = next;
    return start;
  }

  /** An address C-string after its TON and NPI octets; `strict`: its characters and presence are checked. */
  address(field: string, max: number, status: number, required: boolean, strict: boolean): boolean {
    if (!this.octets(2, `${field}_ton/npi`)) return false;
    const ton = this.b[this.at - 2] as number;
    const npi = this.b[this.at - 1] as number;
    const start = this.cstring(field, max, status);
    if (start < 0) return false;
    const end = this.at - 1;
    if (strict && required && end === start) {
      this.refusal = { status, reason: `${field} is empty` };
      return false;
    }
    if (strict && end > start) {
      const problem = addressProblem(this.b, start, end, ton, npi);
      if (problem !== null) {
        this.refusal = { status, reason: `${field} has ${problem}` };
        return false;
      }
    }
    return true;
  }

  /** schedule_delivery_time / validity_period: empty or the 16-character §7.1 format. */
  time(field: string, status: number): boolean {
    const start = this.cstring(field, 17, status);
    if (start < 0) return false;
    const len = this.at - 1 - start;
    if (len !== 0 && len !== 16) {
      this.refusal = { status, reason: `${field} is ${len} characters, not 0 or 16` };
      return false;
    }
    return true;
  }

  /** The TLV stream from here to the end of the PDU. */
  tlvs(strict: boolean): boolean {
    const b = this.b;
    const end = b.length;
    let sar = 0;
    let at = this.at;
    // Known tags met so far (few per PDU: a list beats a Set), to refuse a repeat.
    let seen: number[] | null = null;
    while (at < end) {
      if (end - at < 4) {
        this.refusal = { status: Status.ESME_RINVOPTPARSTREAM, reason: 'a TLV header is cut short' };
        return false;
      }
      const tag = b.readUInt16BE(at);
      const len = b.readUInt16BE(at + 2);
      at += 4;
      if (at + len > end) {
        this.refusal = {
          status: Status.ESME_RINVOPTPARSTREAM,
          reason: `TLV 0x${tag.toString(16).padStart(4, '0')} runs past the end of the PDU`,
        };
        return false;
      }
      const spec = TLV_SPECS.get(tag);
      if (spec !== undefined && (len < spec.min || len > spec.max)) {
        const allowed = spec.min === spec.max ? `${spec.min}` : `${spec.min}-${spec.max}`;
        this.refusal = {
          status: Status.ESME_RINVTLVLEN,
          reason: `TLV ${spec.name} has length ${len}, allowed ${allowed}`,
        };
        return false;
      }
      if (strict && spec !== undefined && !spec.repeatable) {
        if (seen === null) seen = [tag];
        else if (seen.includes(tag)) {
          // SMPP 3.4 has no status of its own for this; the one for "an error in the optional
          // part of the PDU body" says it, and which value was meant is not for us to guess.
          this.refusal = {
            status: Status.ESME_RINVOPTPARSTREAM,
            reason: `TLV ${spec.name} appears more than once`,
          };
          return false;
        } else seen.push(tag);
      }
      if (tag === Tag.sar_msg_ref_num) sar |= 1;
      else if (tag === Tag.sar_total_segments) sar |= 2;
      else if (tag === Tag.sar_segment_seqnum) sar |= 4;
      at += len;
    }
    this.at = at;
    if (sar !== 0 && sar !== 7) {
      this.refusal = {
        status: Status.ESME_RMISSINGTLV,
        reason: 'sar_msg_ref_num, sar_total_segments and sar_segment_seqnum must come together',
      };
      return false;
    }
    return true;
  }
}

/** submit_sm and deliver_sm share their body (§4.4.1, §4.6.1). */
function checkShortMessage(s: Scan, strict: boolean): boolean {
  if (s.cstring('service_type', 6, Status.ESME_RINVSERTYP) < 0) return false;
  if (!s.address('source_addr', 21, Status.ESME_RINVSRCADR, false, strict)) return false;
  if (!s.address('destination_addr', 21, Status.ESME_RINVDSTADR, true, strict)) return false;
  if (!s.octets(3, 'esm_class, protocol_id, priority_flag')) return false;
  if (!s.time('schedule_delivery_time', Status.ESME_RINVSCHED)) return false;
  if (!s.time('validity_period', Status.ESME_RINVEXPIRY)) return false;
  if (!s.octets(5, 'registered_delivery .. sm_length')) return false;
  const smLength = s.b[s.at - 1] as number;
  if (s.at + smLength > s.b.length) {
    s.refusal = {
      status: Status.ESME_RINVMSGLEN,
      reason: `sm_length ${smLength} is more than the ${s.b.length - s.at} octets present`,
    };
    return false;
  }
  s.at += smLength;
  return s.tlvs(strict);
}

// SMPP 3.4 caps system_id at 15 and password at 8 characters, but operators configure longer
// ones and peers send them; authentication decides, so bind strings only need their terminator.
const BIND_STRING_MAX = 0xffff;

function checkBind(s: Scan, strict: boolean): boolean {
  if (s.cstring('system_id', BIND_STRING_MAX, Status.ESME_RINVSYSID) < 0) return false;
  if (s.cstring('password', BIND_STRING_MAX, Status.ESME_RINVPASWD) < 0) return false;
  if (s.cstring('system_type', BIND_STRING_MAX, Status.ESME_RINVSYSTYP) < 0) return false;
  if (!s.octets(3, 'interface_version, addr_ton, addr_npi')) return false;
  if (s.cstring('address_range', BIND_STRING_MAX, Status.ESME_RBINDFAIL) < 0) return false;
  return s.tlvs(strict);
}

function checkDataSm(s: Scan, strict: boolean): boolean {
  if (s.cstring('service_type', 6, Status.ESME_RINVSERTYP) < 0) return false;
  if (!s.address('source_addr', 65, Status.ESME_RINVSRCADR, false, strict)) return false;
  if (!s.address('destination_addr', 65, Status.ESME_RINVDSTADR, true, strict)) return false;
  if (!s.octets(3, 'esm_class, registered_delivery, data_coding')) return false;
  return s.tlvs(strict);
}

function checkQuerySm(s: Scan, strict: boolean): boolean {
  if (s.cstring('message_id', 65, Status.ESME_RINVMSGID) < 0) return false;
  if (!s.address('source_addr', 21, Status.ESME_RINVSRCADR, false, strict)) return false;
  return s.tlvs(strict);
}

/**
 * The refusal for a request PDU (header included, command_length already checked by the
 * framing), or null when it is well formed. Commands not listed here are left to their handler.
 */
export function checkRequest(b: Buffer, opts: CheckOptions): Refusal | null {
  const s = new Scan(b);
  let ok: boolean;
  switch (b.readUInt32BE(4)) {
    case CommandId.submit_sm:
    case CommandId.deliver_sm:
      ok = checkShortMessage(s, opts.strict);
      break;
    case CommandId.bind_receiver:
    case CommandId.bind_transmitter:
    case CommandId.bind_transceiver:
      ok = checkBind(s, opts.strict);
      break;
    case CommandId.data_sm:
      ok = checkDataSm(s, opts.strict);
      break;
    case CommandId.query_sm:
      ok = checkQuerySm(s, opts.strict);
      break;
    default:
      return null;
  }
  return ok ? null : s.refusal;
}

/** Commands SMPP defines without a response: a refusal of one goes out as generic_nack. */
const NO_RESPONSE: ReadonlySet<number> = new Set([CommandId.outbind, CommandId.alert_notification]);

/** A generic_nack (§4.3) with the given sequence number and status. */
export function genericNack(sequence: number, status: number): Buffer {
  const out = Buffer.allocUnsafe(HEADER);
  out.writeUInt32BE(HEADER, 0);
  out.writeUInt32BE(CommandId.generic_nack, 4);
  out.writeUInt32BE(status >>> 0, 8);
  out.writeUInt32BE(sequence >>> 0, 12);
  return out;
}

/** The header-only response refusing the request `b` with `status` (§3.3: no body on error). */
export function refusalResponse(b: Buffer, status: number): Buffer {
  const id = b.readUInt32BE(4);
  const seq = b.readUInt32BE(12);
  // A command id SMPP 3.4 does not define has no response of its own either (§4.3).
  const own = (id | 0x80000000) >>> 0;
  if (NO_RESPONSE.has(id) || id >= 0x80000000 || commandName(own).startsWith('0x'))
    return genericNack(seq, status);
  const out = genericNack(seq, status);
  out.writeUInt32BE((id | 0x80000000) >>> 0, 4);
  return out;
}
