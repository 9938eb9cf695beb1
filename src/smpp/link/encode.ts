/** A PDU that is its 16-byte header alone (enquire_link, unbind, their responses). */
export function headerOnly(commandId: number, sequence: number, status = 0): Buffer {
  const b = Buffer.allocUnsafe(16);
  b.writeUInt32BE(16, 0);
  b.writeUInt32BE(commandId >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(sequence >>> 0, 12);
  return b;
}
