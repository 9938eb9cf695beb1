import smpp from 'smpp';
import type { PDU } from 'smpp';
import { SmppDecodeError, Status } from './errors.js';
import {
  checkRequest,
  CommandId,
  genericNack,
  refusalResponse,
  type CheckOptions,
  type Refusal,
} from './pdu/check.js';

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

/** A request refused before any handler saw it; `response` answers it. */
export interface RefusedPdu {
  command: string;
  sequence: number;
  status: number;
  reason: string;
  response: Buffer;
}

export interface PduSink {
  onPdu(pdu: PDU): void;
  /** A well-framed request that breaks SMPP: answer `response`, keep the session. */
  onRefused(r: RefusedPdu): void;
  /** The stream cannot be framed any more; `response` (generic_nack) is the last thing to send. */
  onDecodeError(err: SmppDecodeError, response: Buffer | null): void;
}

const HEADER = 16;

const NAMES = new Map<number, string>(Object.entries(CommandId).map(([name, id]) => [id, name]));

function commandName(id: number): string {
  return NAMES.get(id) ?? `0x${id.toString(16).padStart(8, '0')}`;
}

/** A response whose body does not decode still settles its request: status and sequence are in the header. */
function headerOnly(bytes: Buffer): PDU {
  const head = Buffer.from(bytes.subarray(0, HEADER));
  head.writeUInt32BE(HEADER, 0);
  return new PduClass(head);
}

/**
 * Splits a byte stream into PDUs. Replaces the library's reader, which on a bad PDU emits
 * 'error' and then stays "busy" forever (the session stalls silently). A request that is framed
 * but breaks SMPP (see pdu/check.ts) is refused on its own and reading goes on; only a
 * command_length that loses the framing stops the reader, once, through onDecodeError.
 */
export class PduReader {
  private pending: Buffer | null = null;
  private failed = false;
  private readonly sink: PduSink;
  private readonly check: CheckOptions;

  constructor(sink: PduSink, check: CheckOptions = { addresses: false }) {
    this.sink = sink;
    this.check = check;
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
          end - off >= HEADER ? data.subarray(off, off + HEADER) : null,
        );
        return;
      }
      if (end - off < len) break;
      let bytes = data.subarray(off, off + len);
      off += len;
      const request = (bytes.readUInt32BE(4) & 0x80000000) === 0;
      let pdu: PDU;
      if (request) {
        // Requests may carry message bodies a handler keeps; copy so they do not pin the whole
        // socket chunk. Responses (the hot path) are decoded in place.
        bytes = Buffer.from(bytes);
        const refusal = checkRequest(bytes, this.check);
        if (refusal !== null) {
          this.refuse(bytes, refusal);
          if (this.failed) return;
          continue;
        }
      }
      try {
        pdu = decodeRaw(bytes);
      } catch (err) {
        if (request) {
          this.refuse(bytes, {
            status: Status.ESME_RINVCMDLEN,
            reason: `undecodable body: ${(err as Error).message}`,
          });
          if (this.failed) return;
          continue;
        }
        pdu = headerOnly(bytes);
      }
      try {
        this.sink.onPdu(pdu);
      } catch (err) {
        // A bug in a handler must not take the process down; treat it like bad input.
        this.fail(`PDU handling failed (${pdu.command}): ${(err as Error).message}`, null);
        return;
      }
      if (this.failed) return;
    }
    this.pending = off < end ? data.subarray(off) : null;
  }

  private refuse(bytes: Buffer, refusal: Refusal): void {
    const r: RefusedPdu = {
      command: commandName(bytes.readUInt32BE(4)),
      sequence: bytes.readUInt32BE(12),
      status: refusal.status,
      reason: refusal.reason,
      response: refusalResponse(bytes, refusal.status),
    };
    try {
      this.sink.onRefused(r);
    } catch (err) {
      this.fail(`refusing ${r.command} failed: ${(err as Error).message}`, null);
    }
  }

  private fail(message: string, header: Buffer | null): void {
    this.failed = true;
    this.pending = null;
    const nack = header === null ? null : genericNack(header.readUInt32BE(12), Status.ESME_RINVCMDLEN);
    this.sink.onDecodeError(new SmppDecodeError(message), nack);
  }
}
