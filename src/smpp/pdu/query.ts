/** query_sm and query_sm_resp (SMPP 3.4 §4.8). */
import type { Header } from './header.js';
import { cstringSize, octetCheck, type Cursor, type Writer } from './wire.js';
import { SmppEncodeError } from '../errors.js';

export interface QuerySm extends Header {
  command: 'query_sm';
  message_id: string;
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string;
}

export interface QuerySmResp extends Header {
  command: 'query_sm_resp';
  message_id: string;
  /** Empty or the 16-character §7.1 format. */
  final_date: string;
  /** §5.2.28: 1 ENROUTE .. 8 REJECTED. */
  message_state: number;
  /** The network error code, 0 when none. */
  error_code: number;
}

export type QueryPdu = QuerySm | QuerySmResp;

export function querySmSize(p: QuerySm): number {
  octetCheck(p.command, 'source_addr_ton', p.source_addr_ton);
  octetCheck(p.command, 'source_addr_npi', p.source_addr_npi);
  return (
    cstringSize(p.command, 'message_id', p.message_id, 64) +
    2 +
    cstringSize(p.command, 'source_addr', p.source_addr, 20)
  );
}

export function writeQuerySm(w: Writer, p: QuerySm): void {
  w.cstring(p.message_id);
  w.u8(p.source_addr_ton);
  w.u8(p.source_addr_npi);
  w.cstring(p.source_addr);
}

export function readQuerySm(c: Cursor, p: QuerySm): void {
  p.message_id = c.cstring('message_id');
  p.source_addr_ton = c.u8('source_addr_ton');
  p.source_addr_npi = c.u8('source_addr_npi');
  p.source_addr = c.cstring('source_addr');
  c.at = c.end;
}

export function querySmRespSize(p: QuerySmResp): number {
  octetCheck(p.command, 'message_state', p.message_state);
  octetCheck(p.command, 'error_code', p.error_code);
  if (p.final_date.length !== 0 && p.final_date.length !== 16) {
    throw new SmppEncodeError(p.command, `final_date is ${p.final_date.length} characters, not 0 or 16`);
  }
  return (
    cstringSize(p.command, 'message_id', p.message_id, 64) +
    cstringSize(p.command, 'final_date', p.final_date, 16) +
    2
  );
}

export function writeQuerySmResp(w: Writer, p: QuerySmResp): void {
  w.cstring(p.message_id);
  w.cstring(p.final_date);
  w.u8(p.message_state);
  w.u8(p.error_code);
}

export function readQuerySmResp(c: Cursor, p: QuerySmResp): void {
  p.message_id = c.cstring('message_id');
  p.final_date = c.cstring('final_date');
  p.message_state = c.u8('message_state');
  p.error_code = c.u8('error_code');
  c.at = c.end;
}
