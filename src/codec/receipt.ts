/**
 * SMPP 3.4 delivery receipts (Appendix B text form and the receipted_message_id / message_state
 * TLVs): recognise, parse tolerantly, format.
 */
import type { DeliveryReceipt, ReceiptState } from './types.js';

/** esm_class message type (bits 5-2): MC delivery receipt, SME delivery/manual ack, intermediate notification. */
const RECEIPT_TYPES: ReadonlySet<number> = new Set([0x04, 0x08, 0x10, 0x20]);

export function isReceipt(
  esmClass: number,
  tlvs: { receipted_message_id?: unknown; message_state?: unknown },
): boolean {
  if (RECEIPT_TYPES.has(esmClass & 0x3c)) return true;
  const present = (v: unknown): boolean => v !== undefined && v !== null && v !== '';
  return present(tlvs.receipted_message_id) || present(tlvs.message_state);
}

/** message_state TLV values (SMPP 3.4 5.2.28). */
export const MESSAGE_STATES: Readonly<Record<number, ReceiptState>> = {
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
};

/** The message_state TLV value of each state. */
export const STATE_CODES: Readonly<Record<ReceiptState, number>> = Object.fromEntries(
  Object.entries(MESSAGE_STATES).map(([code, state]) => [state, Number(code)]),
) as Record<ReceiptState, number>;

/** stat: spellings seen from carriers besides the Appendix B ones. */
const STATE_ALIASES: Readonly<Record<string, ReceiptState>> = {
  DELIVRD: 'DELIVRD',
  DELIVERED: 'DELIVRD',
  EXPIRED: 'EXPIRED',
  DELETED: 'DELETED',
  UNDELIV: 'UNDELIV',
  UNDELIVERABLE: 'UNDELIV',
  UNDELIVERED: 'UNDELIV',
  FAILED: 'UNDELIV',
  ACCEPTD: 'ACCEPTD',
  ACCEPTED: 'ACCEPTD',
  UNKNOWN: 'UNKNOWN',
  REJECTD: 'REJECTD',
  REJECTED: 'REJECTD',
  ENROUTE: 'ENROUTE',
};

/** A stat as carriers spell it (DELIVRD, delivered, FAILED, ...), or undefined when unknown. */
export function receiptState(s: string): ReceiptState | undefined {
  return STATE_ALIASES[s.toUpperCase()];
}

const FINAL_FAILURES: ReadonlySet<ReceiptState> = new Set([
  'EXPIRED',
  'DELETED',
  'UNDELIV',
  'REJECTD',
  'UNKNOWN',
]);

/** SMPP 3.4 §5.2.17: bits 0-1 of registered_delivery: 1 = on final outcome, 2 = on failure only. */
export function wantsReceipt(registeredDelivery: number, s: ReceiptState): boolean {
  const mode = registeredDelivery & 0x03;
  return mode === 1 || (mode === 2 && FINAL_FAILURES.has(s));
}

/**
 * UNKNOWN is failed, not pending: in SMPP 3.4 it is a final state ("message is in invalid
 * state"), so no later receipt will settle it and a pending message would wait forever.
 */
export function outcomeOf(state: ReceiptState): DeliveryReceipt['outcome'] {
  switch (state) {
    case 'DELIVRD':
      return 'delivered';
    case 'ACCEPTD':
    case 'ENROUTE':
      return 'pending';
    default:
      return 'failed';
  }
}

const FIELD = /(\bid|\bsub|\bdlvrd|\bsubmit[ _]?date|\bdone[ _]?date|\bstat|\berr|\btext)\s*:/gi;

function fieldsOf(text: string): Map<string, string> {
  const found: { key: string; start: number; valueStart: number }[] = [];
  for (const m of text.matchAll(FIELD)) {
    const key = (m[1] as string).toLowerCase().replace(/[ _]/g, '');
    found.push({ key, start: m.index, valueStart: m.index + m[0].length });
  }
  const out = new Map<string, string>();
  for (let i = 0; i < found.length; i++) {
    const f = found[i] as (typeof found)[number];
    if (out.has(f.key)) continue;
    const end = f.key === 'text' ? text.length : (found[i + 1]?.start ?? text.length);
    // text: runs to the end (it may contain "id:"-like words); other values are one token.
    const raw = text.slice(f.valueStart, end);
    out.set(f.key, f.key === 'text' ? raw.trim() : (raw.trim().split(/\s+/)[0] ?? ''));
    if (f.key === 'text') break;
  }
  return out;
}

/** YYMMDDhhmm or YYMMDDhhmmss (SMSC time, read as UTC); undefined when not a real date. */
export function parseReceiptDate(s: string | undefined): Date | undefined {
  if (s === undefined || !/^\d{10}(\d{2})?$/.test(s)) return undefined;
  const n = (i: number): number => Number(s.slice(i, i + 2));
  const [yy, mo, dd, hh, mi, ss] = [n(0), n(2), n(4), n(6), n(8), s.length === 12 ? n(10) : 0];
  if (mo < 1 || mo > 12 || dd < 1 || dd > 31 || hh > 23 || mi > 59 || ss > 59) return undefined;
  const d = new Date(Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss));
  return d.getUTCDate() === dd ? d : undefined;
}

function clean(s: string | undefined): string | undefined {
  const v = s?.replace(/\0+$/, '').trim();
  return v === undefined || v === '' ? undefined : v;
}

/**
 * A receipt from the TLVs and/or the text; the TLVs win where both are present. null when it
 * names no message id or no recognisable state.
 */
export function parseReceipt(input: {
  text?: string;
  receiptedMessageId?: string;
  messageState?: number;
  networkErrorCode?: Buffer;
}): DeliveryReceipt | null {
  const f = input.text ? fieldsOf(input.text) : new Map<string, string>();
  const messageId = clean(input.receiptedMessageId) ?? clean(f.get('id'));
  const state =
    (input.messageState !== undefined ? MESSAGE_STATES[input.messageState] : undefined) ??
    STATE_ALIASES[(f.get('stat') ?? '').toUpperCase()];
  if (messageId === undefined || state === undefined) return null;
  const r: DeliveryReceipt = { messageId, state, outcome: outcomeOf(state) };
  const err = clean(f.get('err')) ?? networkError(input.networkErrorCode);
  if (err !== undefined) r.err = err;
  const sub = clean(f.get('sub'));
  if (sub !== undefined) r.sub = sub;
  const dlvrd = clean(f.get('dlvrd'));
  if (dlvrd !== undefined) r.dlvrd = dlvrd;
  const submitDate = parseReceiptDate(f.get('submitdate'));
  if (submitDate) r.submitDate = submitDate;
  const doneDate = parseReceiptDate(f.get('donedate'));
  if (doneDate) r.doneDate = doneDate;
  const text = f.get('text');
  if (text !== undefined && text !== '') r.text = text;
  return r;
}

/** network_error_code TLV (type octet + 16-bit code) as the err field's 3 digits. */
function networkError(b: Buffer | undefined): string | undefined {
  if (b === undefined || b.length < 3) return undefined;
  return String(b.readUInt16BE(1)).padStart(3, '0');
}

function yymmddhhmm(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

/** SMPP 3.4 §7.1.1 absolute time in UTC: YYMMDDhhmmss, tenths, quarter hours from UTC, "+". */
export function smppAbsoluteTime(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${yymmddhhmm(d)}${p(d.getUTCSeconds())}${Math.floor(d.getUTCMilliseconds() / 100)}00+`;
}

/** The SMPP 3.4 Appendix B text: id sub dlvrd submit date done date stat err text (text cut to 20 characters). */
export function formatReceipt(r: DeliveryReceipt, now: Date = new Date()): string {
  const pad3 = (s: string | undefined, dflt: string): string => (s ?? dflt).padStart(3, '0');
  const submit = r.submitDate ?? r.doneDate ?? now;
  const done = r.doneDate ?? now;
  return (
    `id:${r.messageId} sub:${pad3(r.sub, '001')} dlvrd:${pad3(r.dlvrd, r.state === 'DELIVRD' ? '001' : '000')} ` +
    `submit date:${yymmddhhmm(submit)} done date:${yymmddhhmm(done)} stat:${r.state} err:${pad3(r.err, '000')} ` +
    `text:${(r.text ?? '').slice(0, 20)}`
  );
}
