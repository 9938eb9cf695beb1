/**
 * A PDU body as a list of its mandatory fields, for the PDUs off the hot path (bind and its
 * response, outbind, alert_notification, query_sm and its response, data_sm): one size, write and
 * read for all of them instead of three hand-written functions each. submit_sm, deliver_sm and
 * the message-id responses keep their own code: the engine's throughput is made there, and
 * their readers and writers touch each field by name (no keyed property access).
 */
import { SmppEncodeError } from '../errors.js';
import { readTlvs, tlvsSize, writeTlvs } from './tlv.js';
import { cstringSize, octetCheck, type Cursor, type Writer } from './wire.js';

export type Field<N extends string = string> =
  | { readonly name: N; readonly kind: 'u8' }
  /** At most `max` characters (SMPP 3.4 §5.2's size less the NUL). */
  | { readonly name: N; readonly kind: 'cstring'; readonly max: number }
  /** An absolute or relative time (§7.1): empty or exactly 16 characters. */
  | { readonly name: N; readonly kind: 'time' };

export interface Layout {
  readonly fields: readonly Field[];
  /** The body ends with a TLV stream; without one, anything after the fields is skipped on read. */
  readonly tlvs: boolean;
  /** Checks across fields before encoding (the sar_* set of data_sm). */
  readonly check?: (command: string, p: object) => void;
}

export const octet = <N extends string>(name: N): Field<N> => ({ name, kind: 'u8' });
export const cstring = <N extends string>(name: N, max: number): Field<N> => ({ name, kind: 'cstring', max });
export const time = <N extends string>(name: N): Field<N> => ({ name, kind: 'time' });

/** The layout of PDU type T: field names are checked against T's properties. */
export function layoutOf<T extends object>(
  fields: readonly Field<Extract<keyof T, string>>[],
  opts: { tlvs: boolean; check?: (command: string, p: T) => void },
): Layout {
  const check = opts.check;
  return check === undefined
    ? { fields, tlvs: opts.tlvs }
    : { fields, tlvs: opts.tlvs, check: (c, p) => check(c, p as T) };
}

/** The `name` of a field as a C-string, with the time format checked. */
export function timeSize(command: string, name: string, v: string): number {
  if (typeof v === 'string' && v.length !== 0 && v.length !== 16) {
    throw new SmppEncodeError(command, `${name} is ${v.length} characters, not 0 or 16`);
  }
  return cstringSize(command, name, v, 16);
}

/** Checks every field of `p` against `layout` and returns the body's size. */
export function layoutSize(command: string, p: object, layout: Layout): number {
  layout.check?.(command, p);
  const r = p as Record<string, unknown>;
  let n = 0;
  for (const f of layout.fields) {
    const v = r[f.name];
    if (f.kind === 'u8') {
      octetCheck(command, f.name, v as number);
      n += 1;
    } else if (f.kind === 'cstring') n += cstringSize(command, f.name, v as string, f.max);
    else n += timeSize(command, f.name, v as string);
  }
  return layout.tlvs ? n + tlvsSize(command, p) : n;
}

/** Writes the fields of `p` (checked by layoutSize) and its TLVs. */
export function writeLayout(w: Writer, p: object, layout: Layout): void {
  const r = p as Record<string, unknown>;
  for (const f of layout.fields) {
    if (f.kind === 'u8') w.u8(r[f.name] as number);
    else w.cstring(r[f.name] as string);
  }
  if (layout.tlvs) writeTlvs(w, p);
}

/** Reads the fields into `p`, in layout order (so every PDU of one command has one shape). */
export function readLayout(c: Cursor, p: object, layout: Layout): void {
  const r = p as Record<string, unknown>;
  for (const f of layout.fields) r[f.name] = f.kind === 'u8' ? c.u8(f.name) : c.cstring(f.name);
  if (layout.tlvs) readTlvs(c, p);
  else c.at = c.end;
}
