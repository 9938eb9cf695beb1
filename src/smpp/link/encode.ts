import smpp from 'smpp';
import type { PduOptions } from 'smpp';
import { encodeSubmitSm } from '../pdu-writer.js';

const { PDU: PduClass } = smpp;

/**
 * The bytes of request `command` with `fields` and sequence number `seq`. submit_sm, the PDU sent
 * most, goes through the direct encoder when it covers the fields. Throws when the fields cannot
 * be encoded.
 */
export function encodeRequest(command: string, fields: PduOptions, seq: number): Buffer {
  if (command === 'submit_sm') {
    const direct = encodeSubmitSm(fields, seq);
    if (direct) return direct;
  }
  const pdu = new PduClass(command as 'submit_sm', fields);
  pdu.sequence_number = seq;
  return pdu.toBuffer();
}

/** A PDU that is its 16-byte header alone (enquire_link, unbind, their responses). */
export function headerOnly(commandId: number, sequence: number, status = 0): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeUInt32BE(16, 0);
  b.writeUInt32BE(commandId >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(sequence >>> 0, 12);
  return b;
}
