// A peer on a bare socket for SMPP tests: writes any bytes, and decodes what comes back with the
// `smpp` package (an implementation independent of ours).
import type { Socket } from 'node:net';
import smpp from 'smpp';
import type { PDU, PduOptions } from 'smpp';

export interface RawPeer {
  socket: Socket;
  pdus: PDU[];
  /** The other side half-closed or closed. */
  ended: () => boolean;
  closed: Promise<void>;
  bySeq: (seq: number) => PDU | undefined;
  of: (command: string) => PDU[];
  send: (command: string, seq: number, fields?: PduOptions) => void;
}

/** The bytes of `command` with `fields` and sequence number `seq`, encoded by the `smpp` package. */
export function rawPdu(command: string, seq: number, fields: PduOptions = {}): Buffer {
  return new smpp.PDU(command as never, { ...fields, sequence_number: seq }).toBuffer();
}

/**
 * Reads `socket` as a peer. `endWithPeer`: answer the other side's half-close with ours (what
 * most SMPP clients do). PDUs above the package's maximum length are skipped, not decoded.
 */
export function rawPeer(socket: Socket, endWithPeer = true): RawPeer {
  const pdus: PDU[] = [];
  let buf = Buffer.alloc(0);
  let ended = false;
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 4 && buf.length >= buf.readUInt32BE(0)) {
      const len = buf.readUInt32BE(0);
      if (len <= smpp.PDU.maxLength) pdus.push(new smpp.PDU(buf.subarray(0, len)));
      buf = buf.subarray(len);
    }
  });
  socket.on('end', () => {
    ended = true;
    if (endWithPeer) socket.end();
  });
  const closed = new Promise<void>((r) => socket.once('close', () => r()));
  return {
    socket,
    pdus,
    ended: () => ended,
    closed,
    bySeq: (seq) => pdus.find((p) => p.sequence_number === seq),
    of: (command) => pdus.filter((p) => p.command === command),
    send: (command, seq, fields) => socket.write(rawPdu(command, seq, fields)),
  };
}
