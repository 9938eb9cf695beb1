/**
 * Session management PDUs (SMPP 3.4 §4.1-4.3, §4.11-4.12): bind_* and their responses, unbind,
 * enquire_link, generic_nack, outbind, alert_notification.
 */
import type { Header } from './header.js';
import { cstring, layoutOf, octet, type Layout } from './layout.js';
import type { Tlvs } from './tlv.js';

export type BindCommand = 'bind_transmitter' | 'bind_receiver' | 'bind_transceiver';

export interface BindFields {
  system_id: string;
  password: string;
  system_type: string;
  interface_version: number;
  addr_ton: number;
  addr_npi: number;
  address_range: string;
}

export interface Bind extends Header, BindFields {
  command: BindCommand;
}

export interface BindResp extends Header, Pick<Tlvs, 'sc_interface_version' | 'other_tlvs'> {
  command: `${BindCommand}_resp`;
  system_id: string;
}

/** Header-only PDUs. */
export interface Unbind extends Header {
  command: 'unbind';
}
export interface UnbindResp extends Header {
  command: 'unbind_resp';
}
export interface EnquireLink extends Header {
  command: 'enquire_link';
}
export interface EnquireLinkResp extends Header {
  command: 'enquire_link_resp';
}
export interface GenericNack extends Header {
  command: 'generic_nack';
}

export interface Outbind extends Header {
  command: 'outbind';
  system_id: string;
  password: string;
}

export interface AlertNotification extends Header, Pick<Tlvs, 'ms_availability_status' | 'other_tlvs'> {
  command: 'alert_notification';
  source_addr_ton: number;
  source_addr_npi: number;
  source_addr: string;
  esme_addr_ton: number;
  esme_addr_npi: number;
  esme_addr: string;
}

export type SessionPdu =
  | Bind
  | BindResp
  | Unbind
  | UnbindResp
  | EnquireLink
  | EnquireLinkResp
  | GenericNack
  | Outbind
  | AlertNotification;

// Bind strings: SMPP 3.4 caps system_id at 15 and password at 8, but operators configure longer
// ones and SMSCs accept them; the only hard limit is what fits a PDU.
const BIND_MAX = 255;

export const BIND_LAYOUT: Layout = layoutOf<Bind>(
  [
    cstring('system_id', BIND_MAX),
    cstring('password', BIND_MAX),
    cstring('system_type', BIND_MAX),
    octet('interface_version'),
    octet('addr_ton'),
    octet('addr_npi'),
    cstring('address_range', BIND_MAX),
  ],
  // bind PDUs carry no TLVs in 3.4; anything after address_range is skipped
  { tlvs: false },
);

export const BIND_RESP_LAYOUT: Layout = layoutOf<BindResp>([cstring('system_id', BIND_MAX)], { tlvs: true });

export const OUTBIND_LAYOUT: Layout = layoutOf<Outbind>(
  [cstring('system_id', BIND_MAX), cstring('password', BIND_MAX)],
  { tlvs: false },
);

export const ALERT_LAYOUT: Layout = layoutOf<AlertNotification>(
  [
    octet('source_addr_ton'),
    octet('source_addr_npi'),
    cstring('source_addr', 64),
    octet('esme_addr_ton'),
    octet('esme_addr_npi'),
    cstring('esme_addr', 64),
  ],
  { tlvs: true },
);
