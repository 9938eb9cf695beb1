/**
 * The octet-level pieces every PDU module is built from: a bounds-checked read cursor and a
 * writer into a buffer sized beforehand. C-strings are Latin-1 on both sides, so any octet
 * string a peer sends comes back out unchanged.
 */
import { SmppEncodeError } from '../errors.js';

export const HEADER = 16;
export const RESPONSE_BIT = 0x80000000;

/** Thrown by Cursor inside a decoder, caught by the decoder's caller: never leaves the module. */
export class Truncated {
  readonly field: string;
  constructor(field: string) {
    this.field = field;
  }
}

export class Cursor {
  at: number;
  readonly b: Buffer;
  readonly end: number;
  constructor(b: Buffer, at = HEADER) {
    this.b = b;
    this.at = at;
    this.end = b.length;
  }

  get done(): boolean {
    return this.at >= this.end;
  }

  u8(field: string): number {
    if (this.at >= this.end) throw new Truncated(field);
    return this.b[this.at++] as number;
  }

  /** A C-string; its NUL must come before the PDU ends. */
  cstring(field: string): string {
    const nul = this.b.indexOf(0, this.at);
    if (nul < 0 || nul >= this.end) throw new Truncated(field);
    const s = this.b.toString('latin1', this.at, nul);
    this.at = nul + 1;
    return s;
  }

  /** `n` octets, copied (the PDU's buffer may be a slice of a socket chunk). */
  bytes(n: number, field: string): Buffer {
    if (this.at + n > this.end) throw new Truncated(field);
    const out = Buffer.from(this.b.subarray(this.at, this.at + n));
    this.at += n;
    return out;
  }
}

/**
 * The encoded size of a C-string field of at most `max` characters (SMPP 3.4 §5.2's size less the
 * terminator). Its characters are checked as Writer.cstring writes them.
 */
export function cstringSize(command: string, field: string, v: string, max: number): number {
  if (typeof v !== 'string') throw new SmppEncodeError(command, `${field} is not a string`);
  if (v.length > max) throw new SmppEncodeError(command, `${field} is longer than ${max} characters`);
  return v.length + 1;
}

export function octetCheck(command: string, field: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) {
    throw new SmppEncodeError(command, `${field} ${v} is not an octet`);
  }
}

export class Writer {
  at: number;
  readonly b: Buffer;
  /** Names the PDU in encode errors. */
  readonly command: string;
  constructor(length: number, commandId: number, status: number, sequence: number, command: string) {
    this.command = command;
    this.b = Buffer.allocUnsafe(length);
    this.b.writeUInt32BE(length, 0);
    this.b.writeUInt32BE(commandId >>> 0, 4);
    this.b.writeUInt32BE(status >>> 0, 8);
    this.b.writeUInt32BE(sequence >>> 0, 12);
    this.at = HEADER;
  }

  u8(v: number): void {
    this.b[this.at++] = v;
  }

  /**
   * Writes `v` and its NUL, one octet per character: a NUL or a character above U+00FF (which
   * would end the string early or lose its value) is an SmppEncodeError. For the short strings of
   * SMPP this loop is faster than Buffer#write.
   */
  cstring(v: string): void {
    const b = this.b;
    let at = this.at;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c === 0 || c > 0xff)
        throw new SmppEncodeError(this.command, 'a C-string has a NUL or a character outside Latin-1');
      b[at++] = c;
    }
    b[at++] = 0;
    this.at = at;
  }

  bytes(v: Uint8Array): void {
    this.b.set(v, this.at);
    this.at += v.length;
  }
}

export function sequenceCheck(command: string, seq: number): void {
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffffffff) {
    throw new SmppEncodeError(command, `sequence_number ${seq} is not a 32-bit unsigned integer`);
  }
}
