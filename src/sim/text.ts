// The simulator's own small text encoders for MO messages and receipts. It deliberately does not
// use src/codec: the sim is a second, independent implementation our gateway is tested against.

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION: Record<string, number> = {
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

export class SimTextError extends Error {}

/** GSM 03.38 default alphabet, one septet per octet (unpacked), as SMPP carries it. */
function encodeGsm7(text: string): Buffer {
  const out: number[] = [];
  for (const ch of text) {
    const basic = GSM_BASIC.indexOf(ch);
    if (basic >= 0 && ch !== '\u001b') {
      out.push(basic);
      continue;
    }
    const ext = GSM_EXTENSION[ch];
    if (ext === undefined)
      throw new SimTextError(`character U+${ch.codePointAt(0)?.toString(16)} is not in GSM 03.38`);
    out.push(0x1b, ext);
  }
  return Buffer.from(out);
}

function encodeUcs2(text: string): Buffer {
  return Buffer.from(text, 'utf16le').swap16();
}

/** Encodes MO text for the given data_coding; codings without a text form need hex. */
export function encodeText(text: string, dataCoding: number): Buffer {
  switch (dataCoding) {
    case 0x00:
      return encodeGsm7(text);
    case 0x01:
      if (!/^[\x20-\x7e\r\n]*$/.test(text)) throw new SimTextError('IA5 (data_coding 1) text must be ASCII');
      return Buffer.from(text, 'latin1');
    case 0x03:
      if ([...text].some((c) => (c.codePointAt(0) ?? 0) > 0xff))
        throw new SimTextError('Latin-1 (data_coding 3) text has characters above U+00FF');
      return Buffer.from(text, 'latin1');
    case 0x08:
      return encodeUcs2(text);
    default:
      throw new SimTextError(`no text encoding for data_coding 0x${dataCoding.toString(16)}; send hex`);
  }
}

/** Best-effort preview of a submitted body for receipts and listings: never throws. */
export function previewText(body: Buffer, dataCoding: number, udhi: boolean): string {
  let b = body;
  if (udhi && b.length > 0) b = b.subarray(Math.min(b.length, (b[0] ?? 0) + 1));
  if (dataCoding === 0x08) {
    const even = b.subarray(0, b.length - (b.length % 2));
    return Buffer.from(even).swap16().toString('utf16le');
  }
  if (dataCoding === 0x00) {
    let s = '';
    for (let i = 0; i < b.length; i++) {
      const c = b[i] ?? 0;
      if (c === 0x1b && i + 1 < b.length) {
        const next = b[++i] ?? 0;
        const ext = Object.entries(GSM_EXTENSION).find(([, v]) => v === next);
        s += ext ? ext[0] : ' ';
      } else s += GSM_BASIC[c] ?? '?';
    }
    return s;
  }
  if (dataCoding === 0x01 || dataCoding === 0x03) return b.toString('latin1');
  return '';
}

export type ReceiptStat =
  | 'DELIVRD'
  | 'EXPIRED'
  | 'DELETED'
  | 'UNDELIV'
  | 'ACCEPTD'
  | 'UNKNOWN'
  | 'REJECTD'
  | 'ENROUTE';

export const RECEIPT_STATS: readonly ReceiptStat[] = [
  'DELIVRD',
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'ACCEPTD',
  'UNKNOWN',
  'REJECTD',
  'ENROUTE',
];

/** SMPP 3.4 §5.3.2.35 message_state values for each receipt stat. */
export const MESSAGE_STATE: Record<ReceiptStat, number> = {
  ENROUTE: 1,
  DELIVRD: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIV: 5,
  ACCEPTD: 6,
  UNKNOWN: 7,
  REJECTD: 8,
};

/** YYMMDDhhmm in UTC, the date form of SMPP 3.4 Appendix B receipts. */
function receiptDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return (
    p(d.getUTCFullYear() % 100) +
    p(d.getUTCMonth() + 1) +
    p(d.getUTCDate()) +
    p(d.getUTCHours()) +
    p(d.getUTCMinutes())
  );
}

export interface ReceiptTextInput {
  messageId: string;
  stat: ReceiptStat;
  err: string;
  submitted: Date;
  done: Date;
  text: string;
}

export function formatReceiptText(r: ReceiptTextInput): string {
  const dlvrd = r.stat === 'DELIVRD' ? '001' : '000';
  // Appendix B: the first 20 characters of the original message; keep it printable ASCII so
  // the receipt stays valid in the default alphabet whatever the original coding was.
  const text = r.text.replace(/[^\x20-\x7e]/g, '?').slice(0, 20);
  return (
    `id:${r.messageId} sub:001 dlvrd:${dlvrd} submit date:${receiptDate(r.submitted)} ` +
    `done date:${receiptDate(r.done)} stat:${r.stat} err:${r.err} text:${text}`
  );
}
