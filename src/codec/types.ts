/** Shapes of the codec contract (docs: /work/briefs/interfaces.md). */
export type Charset = 'gsm7' | '8bit' | 'latin1' | 'ucs2';
export type LongMessageMode = 'udh8' | 'udh16' | 'sar' | 'payload';

export interface EncodeOptions {
  /** Forced charset (the core's tp_dcs_character_set). Unset: gsm7 when every character fits, else ucs2. */
  charset?: Charset;
  /** GSM 7-bit packed into septets instead of one septet per octet. */
  packed?: boolean;
  /** How a message longer than one SMS goes out; default udh8. */
  longMessage?: LongMessageMode;
  /** Most parts allowed (1-255); default DEFAULT_MAX_PARTS. */
  maxParts?: number;
  /** Concatenation reference (masked to 8 bits for udh8, 16 for udh16/sar); default a rolling counter. */
  reference?: number;
}

export interface EncodedPart {
  dataCoding: number;
  esmClassUdhi: boolean;
  shortMessage: Buffer;
  tlvs: {
    sar_msg_ref_num?: number;
    sar_total_segments?: number;
    sar_segment_seqnum?: number;
    message_payload?: Buffer;
  };
}

export interface ConcatInfo {
  reference: number;
  part: number;
  total: number;
}

export interface DecodedMessage {
  text: string;
  concat?: ConcatInfo;
  /** How the body was read (extra to the contract): gsm7, ascii, latin1, ucs2, 8bit, or a TextDecoder label. */
  charset?: string;
  /** Every UDH information element, when the message had a UDH (extra to the contract). */
  udh?: { iei: number; data: Buffer }[];
}

export type ReceiptState =
  | 'DELIVRD'
  | 'EXPIRED'
  | 'DELETED'
  | 'UNDELIV'
  | 'ACCEPTD'
  | 'UNKNOWN'
  | 'REJECTD'
  | 'ENROUTE';

export interface DeliveryReceipt {
  messageId: string;
  state: ReceiptState;
  outcome: 'delivered' | 'failed' | 'pending';
  err?: string;
  sub?: string;
  dlvrd?: string;
  submitDate?: Date;
  doneDate?: Date;
  text?: string;
}

export interface SmppAddress {
  ton: number;
  npi: number;
  addr: string;
}
