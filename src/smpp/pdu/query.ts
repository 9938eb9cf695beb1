/** query_sm and query_sm_resp (SMPP 3.4 §4.8). */
import type { Header } from './header.js';
import { cstring, layoutOf, octet, time, type Layout } from './layout.js';

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

export const QUERY_SM_LAYOUT: Layout = layoutOf<QuerySm>(
  [cstring('message_id', 64), octet('source_addr_ton'), octet('source_addr_npi'), cstring('source_addr', 20)],
  { tlvs: false },
);

export const QUERY_SM_RESP_LAYOUT: Layout = layoutOf<QuerySmResp>(
  [cstring('message_id', 64), time('final_date'), octet('message_state'), octet('error_code')],
  { tlvs: false },
);
