/**
 * Stand-in for the parts of src/codec the gateway uses (same names and shapes as the agreed
 * contract), used only while src/codec is not in the tree. codec-port.ts chooses.
 */
export type Charset = 'gsm7' | '8bit' | 'latin1' | 'ucs2';
export type LongMessageMode = 'udh8' | 'udh16' | 'sar' | 'payload';
export interface EncodeOptions {
  charset?: Charset;
  packed?: boolean;
  longMessage?: LongMessageMode;
  maxParts?: number;
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
  doneDate?: Date;
  text?: string;
}
export interface SmppAddress {
  ton: number;
  npi: number;
  addr: string;
}
export class CodecError extends Error {
  override name = 'CodecError';
}

// GSM 03.38 default alphabet (index = septet) and the extension table (after ESC 0x1B).
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const EXT: Record<string, number> = {
  '\f': 0x0a,
  '^': 0x14,
  '{': 0x28,
  '}': 0x29,
  '\\': 0x2f,
  '[': 0x3c,
  '~': 0x3d,
  ']': 0x3e,
  '|': 0x40,
  '€': 0x65,
};
const BASIC_INDEX = new Map<string, number>([...BASIC].map((c, i) => [c, i]));
const EXT_BY_CODE = new Map<number, string>(Object.entries(EXT).map(([c, v]) => [v, c]));

function gsmSeptets(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) {
    const b = BASIC_INDEX.get(ch);
    if (b !== undefined && b !== 0x1b) out.push(b);
    else if (EXT[ch] !== undefined) out.push(0x1b, EXT[ch]);
    else throw new CodecError(`character ${JSON.stringify(ch)} is not in the GSM 03.38 alphabet`);
  }
  return out;
}

function latin1Bytes(text: string): Buffer {
  for (const ch of text)
    if ((ch.codePointAt(0) ?? 0) > 0xff)
      throw new CodecError(`character ${JSON.stringify(ch)} is not Latin-1`);
  return Buffer.from(text, 'latin1');
}

function ucs2Bytes(text: string): Buffer {
  const b = Buffer.from(text, 'utf16le');
  return b.swap16();
}

/** Splits units so that no part ends inside an escape pair (GSM) or a surrogate pair (UCS-2). */
function split(units: number[], per: number, isLead: (u: number) => boolean): number[][] {
  const parts: number[][] = [];
  let i = 0;
  while (i < units.length) {
    let end = Math.min(units.length, i + per);
    if (end < units.length && isLead(units[end - 1] as number)) end--;
    parts.push(units.slice(i, end));
    i = end;
  }
  return parts;
}

export function encodeMessage(text: string, opts: EncodeOptions = {}): EncodedPart[] {
  const charset = opts.charset ?? 'gsm7';
  const mode = opts.longMessage ?? 'udh8';
  const maxParts = opts.maxParts ?? 255;
  const reference = (opts.reference ?? 0) & (mode === 'udh16' ? 0xffff : 0xff);
  let dataCoding: number;
  let units: number[];
  let unitBytes: (u: number[]) => Buffer;
  let single: number;
  let isLead: (u: number) => boolean;
  if (charset === 'gsm7') {
    dataCoding = 0;
    units = gsmSeptets(text);
    unitBytes = (u) => Buffer.from(u);
    single = 160;
    isLead = (u) => u === 0x1b;
  } else if (charset === 'ucs2') {
    dataCoding = 8;
    const b = ucs2Bytes(text);
    units = [];
    for (let i = 0; i < b.length; i += 2) units.push(b.readUInt16BE(i));
    unitBytes = (u) => {
      const out = Buffer.alloc(u.length * 2);
      u.forEach((v, i) => out.writeUInt16BE(v, i * 2));
      return out;
    };
    single = 70;
    isLead = (u) => u >= 0xd800 && u <= 0xdbff;
  } else {
    dataCoding = charset === 'latin1' ? 3 : 4;
    units = [...(charset === 'latin1' ? latin1Bytes(text) : Buffer.from(text, 'latin1'))];
    unitBytes = (u) => Buffer.from(u);
    single = 140;
    isLead = () => false;
  }
  if (units.length <= single)
    return [{ dataCoding, esmClassUdhi: false, shortMessage: unitBytes(units), tlvs: {} }];
  if (mode === 'payload') {
    return [
      {
        dataCoding,
        esmClassUdhi: false,
        shortMessage: Buffer.alloc(0),
        tlvs: { message_payload: unitBytes(units) },
      },
    ];
  }
  const udhLen = mode === 'udh16' ? 7 : mode === 'udh8' ? 6 : 0;
  const per =
    charset === 'gsm7'
      ? Math.floor(((140 - udhLen) * 8) / 7)
      : charset === 'ucs2'
        ? (140 - udhLen) / 2
        : 140 - udhLen;
  const chunks = split(units, Math.floor(per), isLead);
  if (chunks.length > maxParts)
    throw new CodecError(`message needs ${chunks.length} parts; at most ${maxParts} allowed`);
  return chunks.map((c, i) => {
    const body = unitBytes(c);
    if (mode === 'sar') {
      return {
        dataCoding,
        esmClassUdhi: false,
        shortMessage: body,
        tlvs: { sar_msg_ref_num: reference, sar_total_segments: chunks.length, sar_segment_seqnum: i + 1 },
      };
    }
    const udh =
      mode === 'udh16'
        ? Buffer.from([6, 0x08, 4, reference >> 8, reference & 0xff, chunks.length, i + 1])
        : Buffer.from([5, 0x00, 3, reference, chunks.length, i + 1]);
    return { dataCoding, esmClassUdhi: true, shortMessage: Buffer.concat([udh, body]), tlvs: {} };
  });
}

function decodeGsm(b: Buffer): string {
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const v = (b[i] as number) & 0x7f;
    if (v === 0x1b && i + 1 < b.length) {
      out += EXT_BY_CODE.get((b[++i] as number) & 0x7f) ?? ' ';
    } else out += BASIC[v] ?? '?';
  }
  return out;
}

export function decodeMessage(input: {
  dataCoding: number;
  esmClass: number;
  shortMessage: Buffer;
  messagePayload?: Buffer;
  sar?: { reference: number; part: number; total: number };
}): DecodedMessage {
  let body =
    input.messagePayload && input.messagePayload.length > 0 ? input.messagePayload : input.shortMessage;
  let concat: ConcatInfo | undefined;
  if ((input.esmClass & 0x40) !== 0 && body.length > 0) {
    const len = body[0] as number;
    if (len + 1 > body.length) throw new CodecError('UDH length exceeds the message');
    const udh = body.subarray(1, 1 + len);
    for (let i = 0; i + 1 < udh.length; ) {
      const iei = udh[i] as number;
      const l = udh[i + 1] as number;
      const v = udh.subarray(i + 2, i + 2 + l);
      if (iei === 0 && l === 3)
        concat = { reference: v[0] as number, total: v[1] as number, part: v[2] as number };
      if (iei === 8 && l === 4)
        concat = { reference: v.readUInt16BE(0), total: v[2] as number, part: v[3] as number };
      i += 2 + l;
    }
    body = body.subarray(1 + len);
  }
  if (!concat && input.sar) concat = { ...input.sar };
  const dcs = input.dataCoding;
  let text: string;
  if (dcs === 8 || (dcs & 0xfc) === 0x08) {
    if (body.length % 2 !== 0) throw new CodecError('UCS-2 body has an odd number of octets');
    text = Buffer.from(body).swap16().toString('utf16le');
  } else if (dcs === 3 || dcs === 4 || dcs === 2 || dcs === 6) text = body.toString('latin1');
  else text = decodeGsm(body);
  return concat ? { text, concat } : { text };
}

export function isReceipt(
  esmClass: number,
  tlvs: { receipted_message_id?: unknown; message_state?: unknown },
): boolean {
  const type = esmClass & 0x3c;
  return (
    type === 0x04 ||
    type === 0x10 ||
    (tlvs.receipted_message_id !== undefined && tlvs.receipted_message_id !== null)
  );
}

const STATES: ReceiptState[] = [
  'DELIVRD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'ACCEPTD',
  'UNKNOWN',
  'REJECTD',
  'ENROUTE',
];
const BY_MESSAGE_STATE: Record<number, ReceiptState> = {
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
};

export function parseReceipt(input: {
  text?: string;
  receiptedMessageId?: string;
  messageState?: number;
  networkErrorCode?: Buffer;
}): DeliveryReceipt | null {
  const t = input.text ?? '';
  const id = /\bid:\s*([^\s]+)/i.exec(t)?.[1] ?? input.receiptedMessageId;
  let state = (/\bstat:\s*([A-Z]+)/i.exec(t)?.[1]?.toUpperCase() as ReceiptState | undefined) ?? undefined;
  if (state === undefined || !STATES.includes(state))
    state = input.messageState !== undefined ? BY_MESSAGE_STATE[input.messageState] : undefined;
  if (id === undefined || id === '' || state === undefined) return null;
  const outcome =
    state === 'DELIVRD' ? 'delivered' : state === 'ENROUTE' || state === 'ACCEPTD' ? 'pending' : 'failed';
  const r: DeliveryReceipt = { messageId: input.receiptedMessageId ?? id, state, outcome };
  const err = /\berr:\s*([0-9A-Za-z]+)/i.exec(t)?.[1];
  if (err !== undefined) r.err = err;
  const done = /done date:\s*(\d{10,12})/i.exec(t)?.[1];
  if (done !== undefined) {
    const [yy, mm, dd, hh, mi] = [0, 2, 4, 6, 8].map((i) => Number(done.slice(i, i + 2)));
    r.doneDate = new Date(Date.UTC(2000 + (yy ?? 0), (mm ?? 1) - 1, dd ?? 1, hh ?? 0, mi ?? 0));
  }
  return r;
}

export function addressFor(number: string, overrides: { ton?: number; npi?: number } = {}): SmppAddress {
  let addr = number.trim();
  let ton = 0;
  let npi = 1;
  if (addr.startsWith('+')) {
    addr = addr.slice(1);
    ton = 1;
  } else if (/[^0-9]/.test(addr)) {
    ton = 5;
    npi = 0;
  }
  return { ton: overrides.ton ?? ton, npi: overrides.npi ?? npi, addr };
}
