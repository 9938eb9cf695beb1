// Byte-level helpers the simulator uses next to the `smpp` library: the library decodes
// short_message into text (lossily for some codings), so what the sim records comes from the raw
// octets, and the hot ack path builds its submit_sm_resp without the library's generic encoder.
import type { Socket } from 'node:net';

export const SUBMIT_SM_RESP = 0x80000004;
const HEADER = 16;

export class RawPduError extends Error {}

export interface RawAddress {
  ton: number;
  npi: number;
  addr: string;
}

export interface RawTlv {
  tag: number;
  value: Buffer;
}

export interface RawSubmit {
  serviceType: string;
  source: RawAddress;
  destination: RawAddress;
  esmClass: number;
  protocolId: number;
  priorityFlag: number;
  scheduleDeliveryTime: string;
  validityPeriod: string;
  registeredDelivery: number;
  replaceIfPresent: number;
  dataCoding: number;
  smDefaultMsgId: number;
  shortMessage: Buffer;
  tlvs: RawTlv[];
}

class Reader {
  private offset: number;
  private readonly buf: Buffer;
  private readonly end: number;
  constructor(buf: Buffer, start: number, end: number) {
    this.buf = buf;
    this.offset = start;
    this.end = end;
  }
  u8(field: string): number {
    if (this.offset + 1 > this.end) throw new RawPduError(`truncated before ${field}`);
    return this.buf[this.offset++] ?? 0;
  }
  u16(field: string): number {
    if (this.offset + 2 > this.end) throw new RawPduError(`truncated before ${field}`);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  cstring(field: string, max: number): string {
    const nul = this.buf.indexOf(0, this.offset);
    if (nul < 0 || nul >= this.end) throw new RawPduError(`${field} is not NUL-terminated`);
    if (nul - this.offset > max) throw new RawPduError(`${field} longer than ${max} octets`);
    const s = this.buf.toString('latin1', this.offset, nul);
    this.offset = nul + 1;
    return s;
  }
  bytes(field: string, n: number): Buffer {
    if (this.offset + n > this.end) throw new RawPduError(`${field} runs past the PDU end`);
    const b = Buffer.from(this.buf.subarray(this.offset, this.offset + n));
    this.offset += n;
    return b;
  }
  get remaining(): number {
    return this.end - this.offset;
  }
}

/** Parses the body of a submit_sm (or deliver_sm: same layout) from the whole PDU's octets. */
export function parseSubmitBody(pdu: Buffer): RawSubmit {
  if (pdu.length < HEADER) throw new RawPduError('PDU shorter than its header');
  const length = pdu.readUInt32BE(0);
  if (length > pdu.length) throw new RawPduError('PDU shorter than its command_length');
  const r = new Reader(pdu, HEADER, length);
  const serviceType = r.cstring('service_type', 6);
  const source = {
    ton: r.u8('source_addr_ton'),
    npi: r.u8('source_addr_npi'),
    addr: r.cstring('source_addr', 64),
  };
  const destination = {
    ton: r.u8('dest_addr_ton'),
    npi: r.u8('dest_addr_npi'),
    addr: r.cstring('destination_addr', 64),
  };
  const esmClass = r.u8('esm_class');
  const protocolId = r.u8('protocol_id');
  const priorityFlag = r.u8('priority_flag');
  const scheduleDeliveryTime = r.cstring('schedule_delivery_time', 17);
  const validityPeriod = r.cstring('validity_period', 17);
  const registeredDelivery = r.u8('registered_delivery');
  const replaceIfPresent = r.u8('replace_if_present_flag');
  const dataCoding = r.u8('data_coding');
  const smDefaultMsgId = r.u8('sm_default_msg_id');
  const smLength = r.u8('sm_length');
  const shortMessage = r.bytes('short_message', smLength);
  const tlvs: RawTlv[] = [];
  while (r.remaining > 0) {
    if (r.remaining < 4) throw new RawPduError('trailing octets after the last TLV');
    const tag = r.u16('tlv tag');
    const len = r.u16('tlv length');
    tlvs.push({ tag, value: r.bytes(`TLV 0x${tag.toString(16).padStart(4, '0')}`, len) });
  }
  return {
    serviceType,
    source,
    destination,
    esmClass,
    protocolId,
    priorityFlag,
    scheduleDeliveryTime,
    validityPeriod,
    registeredDelivery,
    replaceIfPresent,
    dataCoding,
    smDefaultMsgId,
    shortMessage,
    tlvs,
  };
}

/** A submit_sm_resp (or any resp carrying one message_id cstring) built in one allocation. */
export function messageIdResp(
  commandId: number,
  sequence: number,
  status: number,
  messageId: string,
): Buffer {
  // SMPP 3.4 §4.4.2: an error response carries no body.
  const idLen = status === 0 ? Buffer.byteLength(messageId, 'latin1') + 1 : 0;
  const buf = Buffer.allocUnsafe(HEADER + idLen);
  buf.writeUInt32BE(HEADER + idLen, 0);
  buf.writeUInt32BE(commandId, 4);
  buf.writeUInt32BE(status, 8);
  buf.writeUInt32BE(sequence, 12);
  if (idLen > 0) {
    buf.write(messageId, HEADER, 'latin1');
    buf[HEADER + idLen - 1] = 0;
  }
  return buf;
}

export interface FrameCapture {
  /** Keep the last frame's octets (off in sink mode, where nothing is recorded). */
  keep: boolean;
  maxLength: number;
  /** Called with a command_length no SMPP PDU can have; the caller closes the session. */
  onBadLength(length: number): void;
}

/**
 * Watches the octets the library pulls from this socket. The library reads a 4-octet length,
 * then the rest, then emits 'pdu' synchronously; wrapping this one socket's read() lets the 'pdu'
 * handler see exactly the bytes that arrived, without patching the library globally (other code
 * in the same process uses it too). It also stops lengths the library would mis-handle: below 16
 * it throws a RangeError or loops on a negative read, and 0 makes it skip octets silently.
 */
export function captureFrames(socket: Socket, opts: FrameCapture): () => Buffer | undefined {
  let lengthOctets: Buffer | undefined;
  let last: Buffer | undefined;
  const original = socket.read.bind(socket);
  socket.read = ((size?: number): unknown => {
    const chunk: unknown = original(size);
    if (!Buffer.isBuffer(chunk) || typeof size !== 'number') return chunk;
    if (size === 4) {
      const length = chunk.readUInt32BE(0);
      if (length < HEADER || length > opts.maxLength) {
        opts.onBadLength(length);
        return null;
      }
      lengthOctets = chunk;
    } else if (size > 4 && lengthOctets) {
      if (opts.keep) last = Buffer.concat([lengthOctets, chunk]);
      lengthOctets = undefined;
    }
    return chunk;
  }) as typeof socket.read;
  return () => last;
}

/** Garbage that no SMPP decoder can accept: a command_length far above any sane maximum. */
export function garbageFrame(): Buffer {
  const b = Buffer.alloc(32, 0xff);
  b.writeUInt32BE(0x7fffffff, 0);
  return b;
}

export interface FrameReader {
  maxLength: number;
  onBadLength(length: number): void;
  /** One whole PDU; the buffer is only valid during the call. */
  onFrame(frame: Buffer): void;
}

/**
 * Sink mode's reader: takes the socket over from the library's PDU extractor so that each
 * submit_sm costs a header read and a 20-odd-octet write, not a full decode. Frames the caller
 * does not fast-path are handed back and decoded with the library.
 */
export function readFramesDirect(socket: Socket, r: FrameReader): void {
  socket.removeAllListeners('readable'); // the library's extractor
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    let buf = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let off = 0;
    while (buf.length - off >= 4) {
      const length = buf.readUInt32BE(off);
      if (length < HEADER || length > r.maxLength) {
        pending = Buffer.alloc(0);
        r.onBadLength(length);
        return;
      }
      if (buf.length - off < length) break;
      r.onFrame(buf.subarray(off, off + length));
      if (socket.destroyed) return;
      off += length;
    }
    pending = off >= buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
    buf = pending;
  });
}
