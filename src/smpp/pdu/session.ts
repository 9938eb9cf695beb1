/**
 * Session management PDUs (SMPP 3.4 §4.1-4.3, §4.11-4.12): bind_* and their responses, unbind,
 * enquire_link, generic_nack, outbind, alert_notification.
 */
import type { Header } from './header.js';
import { readTlvs, tlvsSize, writeTlvs, type Tlvs } from './tlv.js';
// Mandatory fields are not TLV names, so tlvsSize/writeTlvs can walk the whole PDU object.
import { cstringSize, octetCheck, type Cursor, type Writer } from './wire.js';

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

export function bindSize(p: Bind): number {
  const c = p.command;
  octetCheck(c, 'interface_version', p.interface_version);
  octetCheck(c, 'addr_ton', p.addr_ton);
  octetCheck(c, 'addr_npi', p.addr_npi);
  return (
    cstringSize(c, 'system_id', p.system_id, BIND_MAX) +
    cstringSize(c, 'password', p.password, BIND_MAX) +
    cstringSize(c, 'system_type', p.system_type, BIND_MAX) +
    3 +
    cstringSize(c, 'address_range', p.address_range, BIND_MAX)
  );
}

export function writeBind(w: Writer, p: Bind): void {
  w.cstring(p.system_id);
  w.cstring(p.password);
  w.cstring(p.system_type);
  w.u8(p.interface_version);
  w.u8(p.addr_ton);
  w.u8(p.addr_npi);
  w.cstring(p.address_range);
}

export function readBind(c: Cursor, p: Bind): void {
  p.system_id = c.cstring('system_id');
  p.password = c.cstring('password');
  p.system_type = c.cstring('system_type');
  p.interface_version = c.u8('interface_version');
  p.addr_ton = c.u8('addr_ton');
  p.addr_npi = c.u8('addr_npi');
  p.address_range = c.cstring('address_range');
  // bind PDUs carry no TLVs in 3.4; anything after address_range is skipped
  c.at = c.end;
}

export function bindRespSize(p: BindResp): number {
  return cstringSize(p.command, 'system_id', p.system_id, BIND_MAX) + tlvsSize(p.command, p);
}

export function writeBindResp(w: Writer, p: BindResp): void {
  w.cstring(p.system_id);
  writeTlvs(w, p);
}

export function readBindResp(c: Cursor, p: BindResp): void {
  p.system_id = c.cstring('system_id');
  readTlvs(c, p);
}

export function outbindSize(p: Outbind): number {
  return (
    cstringSize(p.command, 'system_id', p.system_id, BIND_MAX) +
    cstringSize(p.command, 'password', p.password, BIND_MAX)
  );
}

export function writeOutbind(w: Writer, p: Outbind): void {
  w.cstring(p.system_id);
  w.cstring(p.password);
}

export function readOutbind(c: Cursor, p: Outbind): void {
  p.system_id = c.cstring('system_id');
  p.password = c.cstring('password');
  c.at = c.end;
}

export function alertSize(p: AlertNotification): number {
  const c = p.command;
  for (const k of ['source_addr_ton', 'source_addr_npi', 'esme_addr_ton', 'esme_addr_npi'] as const)
    octetCheck(c, k, p[k]);
  return (
    4 +
    cstringSize(c, 'source_addr', p.source_addr, 64) +
    cstringSize(c, 'esme_addr', p.esme_addr, 64) +
    tlvsSize(c, p)
  );
}

export function writeAlert(w: Writer, p: AlertNotification): void {
  w.u8(p.source_addr_ton);
  w.u8(p.source_addr_npi);
  w.cstring(p.source_addr);
  w.u8(p.esme_addr_ton);
  w.u8(p.esme_addr_npi);
  w.cstring(p.esme_addr);
  writeTlvs(w, p);
}

export function readAlert(c: Cursor, p: AlertNotification): void {
  p.source_addr_ton = c.u8('source_addr_ton');
  p.source_addr_npi = c.u8('source_addr_npi');
  p.source_addr = c.cstring('source_addr');
  p.esme_addr_ton = c.u8('esme_addr_ton');
  p.esme_addr_npi = c.u8('esme_addr_npi');
  p.esme_addr = c.cstring('esme_addr');
  readTlvs(c, p);
}
