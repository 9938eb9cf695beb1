import type { SubmitSm } from '../pdu/message.js';
import type { Answer } from '../pdu/pdu.js';
import type { QuerySm } from '../pdu/query.js';
import type { SlowdownOptions } from '../auth.js';
import type { InboundResult } from '../client-session.js';
import type { BindType } from '../errors.js';

export interface ServerBindEntry {
  key: string;
  namespace: string;
  name: string;
  smscName: string;
  systemId: string;
  password: string;
  allowedBindTypes: BindType[];
  ipAllowlist: string[]; // [] = any
  tpsLimit: number; // deliver_sm we send to the partner, per any 1-second window; <= 0 = unlimited
  inboundTpsLimit: number; // partner submit_sm above this per second get ESME_RTHROTTLED; <= 0 = unlimited
  maxSessions: number;
  suspend: boolean;
}

export interface ListenerOptions {
  host: string;
  port: number;
  maxConnections: number;
  tls?: { key: string | Buffer; cert: string | Buffer };
  bindTimeoutMs?: number; // default 10000
  peerResponseTimeoutMs?: number; // default 60000
  enquireLinkIntervalMs?: number; // default 30000
  window?: number; // outstanding deliver_sm per session, default 10
  /** system_id we answer binds with; default "smpp-operator". */
  systemId?: string;
  /** Failed-bind slow-down per source address. */
  slowdown?: SlowdownOptions;
  /** A deliver() that finds no free session slot waits at most this long; default peerResponseTimeoutMs. */
  deliverQueueTimeoutMs?: number;
  /**
   * After a negative bind response, how long the socket stays open for the partner to read it
   * and close first; default 500. Some clients (jSMPP) lose the response if the close comes first.
   */
  bindRejectLingerMs?: number;
  /** After unbind_resp to a partner's unbind, how long we wait for it to close first; default 1000. */
  unbindLingerMs?: number;
}

/** A request refused before any handler saw it (see pdu/check.ts), for metrics. */
export interface PduRefusal {
  command: string;
  status: number;
  reason: string;
  peerAddress: string;
  /** The bind the session is bound to, when it is. */
  key: string | undefined;
}

/** outbind or alert_notification from a partner: not an ESME's to send; answered or ignored per SMPP, counted. */
export interface UnexpectedPdu {
  command: 'outbind' | 'alert_notification';
  peerAddress: string;
  key: string | undefined;
}

export interface ServerSessionInfo {
  key: string;
  id: string;
  peerAddress: string;
  peerPort: number;
  bindType: BindType;
  since: Date;
}

export type PartnerSubmitHandler = (
  bind: ServerBindEntry,
  pdu: SubmitSm,
  session: ServerSessionInfo,
) => Promise<InboundResult>;

/** Answers a partner's query_sm: a status, and on success the query_sm_resp fields. */
export type PartnerQueryHandler = (
  bind: ServerBindEntry,
  pdu: QuerySm,
  session: ServerSessionInfo,
) => Promise<{ status: number; fields?: Answer }>;

/** Why a partner's bind was refused, as a metric label. */
export type BindRejectionCode =
  | 'unknown_system_id'
  | 'wrong_password'
  | 'address_not_allowed'
  | 'suspended'
  | 'bind_type_not_allowed'
  | 'max_sessions'
  | 'malformed_bind';

export interface BindRejection {
  systemId: string;
  peerAddress: string;
  /** For people: names the limit or bind type. */
  reason: string;
  code: BindRejectionCode;
  status: number;
}
