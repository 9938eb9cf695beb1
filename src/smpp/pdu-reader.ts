import { SmppDecodeError, Status } from './errors.js';
import { decodePdu, PduRefusal } from './pdu/codec.js';
import { genericNack, type CheckOptions } from './pdu/check.js';
import type { Pdu } from './pdu/pdu.js';

/** The largest command_length accepted; a longer one is taken as lost framing. */
export const MAX_PDU_LENGTH = 16384;

/** A PDU refused as it was read (see pdu/codec.ts): `response` answers it, null for a response. */
export type RefusedPdu = PduRefusal;

export interface PduSink {
  onPdu(pdu: Pdu): void;
  /** A well-framed PDU that breaks SMPP: answer `response` (when there is one), keep the session. */
  onRefused(r: RefusedPdu): void;
  /** The stream cannot be framed any more; `response` (generic_nack) is the last thing to send. */
  onDecodeError(err: SmppDecodeError, response: Buffer | null): void;
}

const HEADER = 16;

/**
 * Splits a byte stream into typed PDUs (pdu/codec.ts). A PDU that is framed but breaks SMPP is
 * refused on its own and reading goes on; only a command_length that loses the framing stops
 * the reader, once, through onDecodeError.
 */
export class PduReader {
  private pending: Buffer | null = null;
  private failed = false;
  private readonly sink: PduSink;
  private readonly check: CheckOptions;

  constructor(sink: PduSink, check: CheckOptions = { strict: false }) {
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
      if (len < HEADER || len > MAX_PDU_LENGTH) {
        this.fail(
          len < HEADER
            ? `PDU command_length ${len} is shorter than the 16-byte header`
            : `PDU command_length ${len} exceeds the maximum ${MAX_PDU_LENGTH}`,
          end - off >= HEADER ? data.subarray(off, off + HEADER) : null,
        );
        return;
      }
      if (end - off < len) break;
      // Decoding copies what it keeps (bodies, strings), so the PDU does not pin the socket chunk.
      const decoded = decodePdu(data.subarray(off, off + len), this.check);
      off += len;
      if (decoded instanceof PduRefusal) {
        try {
          this.sink.onRefused(decoded);
        } catch (err) {
          this.fail(`refusing ${decoded.command} failed: ${(err as Error).message}`, null);
          return;
        }
      } else {
        try {
          this.sink.onPdu(decoded);
        } catch (err) {
          // A bug in a handler must not take the process down; treat it like bad input.
          this.fail(`PDU handling failed (${decoded.command}): ${(err as Error).message}`, null);
          return;
        }
      }
      if (this.failed) return;
    }
    this.pending = off < end ? data.subarray(off) : null;
  }

  private fail(message: string, header: Buffer | null): void {
    this.failed = true;
    this.pending = null;
    const nack = header === null ? null : genericNack(header.readUInt32BE(12), Status.ESME_RINVCMDLEN);
    this.sink.onDecodeError(new SmppDecodeError(message), nack);
  }
}
