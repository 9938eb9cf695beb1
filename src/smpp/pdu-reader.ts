import smpp from 'smpp';
import type { PDU } from 'smpp';
import { SmppDecodeError } from './errors.js';

const { PDU: PduClass } = smpp;

// The library decodes short_message and message_payload into strings through
// filters.message.decode, guessing the charset from data_coding. That loses bytes (GSM 7-bit
// extension table, UDH, binary bodies, UCS-2 surrogates) before src/codec can see them. We wrap
// that one filter so it passes the raw Buffer through while *our* reader decodes a PDU; the
// flag is only set inside the synchronous decodeRaw() below, so any other user of the library
// in this process keeps its normal behaviour.
let rawDecoding = false;
const messageFilter = smpp.filters.message;
const libraryDecode = messageFilter.decode;
messageFilter.decode = function decode(this: PDU, value: unknown, skipUdh?: boolean): unknown {
  return rawDecoding ? value : libraryDecode.call(this, value, skipUdh);
};

const SUBMIT_SM_RESP = 0x80000004;
const DELIVER_SM_RESP = 0x80000005;

/**
 * submit_sm_resp / deliver_sm_resp whose body is just a message_id (or nothing), decoded directly
 * into the library's PDU shape: one arrives per message sent, and the library's generic decoder
 * (parameter tables, filters) was a few percent of the gateway's time. Anything else — TLVs, an
 * unterminated id — returns undefined and goes through the library. pdu-reader.test.ts checks
 * the two agree.
 */
export function decodeSimpleResponse(bytes: Buffer): PDU | undefined {
  const id = bytes.readUInt32BE(4);
  if (id !== SUBMIT_SM_RESP && id !== DELIVER_SM_RESP) return undefined;
  const length = bytes.readUInt32BE(0);
  if (length !== bytes.length) return undefined;
  let messageId: string | undefined;
  if (length > 16) {
    const nul = bytes.indexOf(0, 16);
    if (nul !== length - 1) return undefined;
    messageId = bytes.toString('ascii', 16, nul);
  }
  const pdu = Object.create(PduClass.prototype) as PDU & Record<string, unknown>;
  pdu.command_length = length;
  pdu.command_id = id;
  pdu.command_status = bytes.readUInt32BE(8);
  pdu.sequence_number = bytes.readUInt32BE(12);
  pdu.command = id === SUBMIT_SM_RESP ? 'submit_sm_resp' : 'deliver_sm_resp';
  if (messageId !== undefined) pdu.message_id = messageId;
  return pdu;
}

/** Decodes one complete PDU (header included) keeping short_message / message_payload as Buffers. */
export function decodeRaw(bytes: Buffer): PDU {
  const simple = decodeSimpleResponse(bytes);
  if (simple !== undefined) return simple;
  rawDecoding = true;
  try {
    return new PduClass(bytes);
  } finally {
    rawDecoding = false;
  }
}

export interface PduSink {
  onPdu(pdu: PDU): void;
  onDecodeError(err: SmppDecodeError): void;
}

const HEADER = 16;

/**
 * Splits a byte stream into PDUs. Replaces the library's reader, which on a bad PDU emits
 * 'error' and then stays "busy" forever (the session stalls silently). Any framing or decode
 * problem here is reported once through onDecodeError and the reader stops; the owner then
 * destroys the socket.
 */
export class PduReader {
  private pending: Buffer | null = null;
  private failed = false;
  private readonly sink: PduSink;

  constructor(sink: PduSink) {
    this.sink = sink;
  }

  get stopped(): boolean {
    return this.failed;
  }

  /** Stop delivering PDUs (the session is going away). */
  stop(): void {
    this.failed = true;
    this.pending = null;
  }

  push(chunk: Buffer): void {
    if (this.failed) return;
    const data = this.pending === null ? chunk : Buffer.concat([this.pending, chunk]);
    const end = data.length;
    let off = 0;
    while (end - off >= 4) {
      const len = data.readUInt32BE(off);
      if (len < HEADER || len > PduClass.maxLength) {
        this.fail(
          len < HEADER
            ? `PDU command_length ${len} is shorter than the 16-byte header`
            : `PDU command_length ${len} exceeds the maximum ${PduClass.maxLength}`,
        );
        return;
      }
      if (end - off < len) break;
      let bytes = data.subarray(off, off + len);
      off += len;
      // Requests may carry message bodies a handler keeps; copy so they do not pin the whole
      // socket chunk. Responses (the hot path) are decoded in place.
      if ((bytes.readUInt32BE(4) & 0x80000000) === 0) bytes = Buffer.from(bytes);
      let pdu: PDU;
      try {
        pdu = decodeRaw(bytes);
      } catch (err) {
        this.fail(
          `undecodable PDU (command_id 0x${bytes.readUInt32BE(4).toString(16)}): ${(err as Error).message}`,
        );
        return;
      }
      try {
        this.sink.onPdu(pdu);
      } catch (err) {
        // A bug in a handler must not take the process down; treat it like bad input.
        this.fail(`PDU handling failed (${pdu.command}): ${(err as Error).message}`);
        return;
      }
      if (this.failed) return;
    }
    this.pending = off < end ? data.subarray(off) : null;
  }

  private fail(message: string): void {
    this.failed = true;
    this.pending = null;
    this.sink.onDecodeError(new SmppDecodeError(message));
  }
}
