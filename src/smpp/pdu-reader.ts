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

/** Decodes one complete PDU (header included) keeping short_message / message_payload as Buffers. */
export function decodeRaw(bytes: Buffer): PDU {
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
