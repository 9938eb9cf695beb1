/** One message from GET /api/messages (fields as the core reference names them). */
export interface CoreMessage {
  /** The core sends integers; normalised to string so ids are map keys and SMPP message ids alike. */
  id: string;
  source_msisdn: string;
  destination_msisdn: string;
  message_body: string;
  dest_smsc?: string | null;
  source_smsc?: string | null;
  tp_dcs_character_set?: string | null;
  /** Everything else the core sends (delivery_attempts, expires, tp_user_data_header, ...), untouched. */
  [field: string]: unknown;
}

/** A message for POST /api/messages (MO: phone or partner → core). */
export interface NewMessage {
  source_msisdn: string;
  destination_msisdn: string;
  message_body: string;
  /** The bind's smscName: where the message came from. */
  source_smsc: string;
  message_part_number?: number;
  message_parts?: number;
  tp_dcs_character_set?: string;
  [field: string]: unknown;
}

/**
 * What reportReceipt needs of a delivery receipt. Structural, so src/codec's DeliveryReceipt
 * is accepted as is.
 */
export interface ReceiptReport {
  /** The carrier's message id the receipt refers to. */
  messageId: string;
  /** The receipt's stat: DELIVRD, UNDELIV, EXPIRED, REJECTD, ENROUTE, ... */
  state: string;
  outcome: 'delivered' | 'failed' | 'pending';
  err?: string;
  doneDate?: Date;
}

/** The gateway's heartbeat, sent as POST /api/frontends. */
export interface FrontendInfo {
  /** frontend_name: unique per gateway instance (the pod name, or SMSC_NAME standalone). */
  name: string;
  hostname: string;
  uptimeSeconds: number;
  /** Omitted: the core takes the request's source address (or X-Forwarded-For). */
  ipAddress?: string;
  /** Sent as a JSON string; keys that look like secrets are removed before sending. */
  configuration?: Record<string, unknown>;
}
