import { z } from 'zod';
export { wantsReceipt } from '../codec/receipt.js';
import { RECEIPT_STATS, type ReceiptStat } from './text.js';

const stat = z.enum(RECEIPT_STATS as [ReceiptStat, ...ReceiptStat[]]);
const err = z.string().regex(/^\d{3}$/, 'err is three digits, e.g. "000"');
const outcome = z.object({ stat, err: err.optional() }).strict();

export const receiptPolicySchema = z
  .object({
    delayMs: z.number().int().min(0).max(3_600_000).optional(),
    stat: stat.optional(),
    err: err.optional(),
    /** Per destination_addr overrides, so one run can mix delivered and failed messages. */
    byDestination: z.record(z.string(), outcome).optional(),
    /**
     * Resend a receipt the ESME answered with an error after this long, as SMSCs do (0 = never,
     * the default): how a gateway's "retry later" gets its second chance.
     */
    retryDelayMs: z.number().int().min(0).max(3_600_000).optional(),
    /** Resends of one receipt at most. Default 10. */
    retries: z.number().int().min(0).max(1000).optional(),
  })
  .strict();

export type ReceiptPolicyInput = z.input<typeof receiptPolicySchema>;

export interface ReceiptPolicy {
  delayMs: number;
  stat: ReceiptStat;
  err: string;
  byDestination: Record<string, { stat: ReceiptStat; err?: string }>;
  retryDelayMs: number;
  retries: number;
}

export const DEFAULT_RECEIPT_POLICY: ReceiptPolicy = {
  delayMs: 50,
  stat: 'DELIVRD',
  err: '000',
  byDestination: {},
  retryDelayMs: 0,
  retries: 10,
};

export function mergeReceiptPolicy(base: ReceiptPolicy, input: ReceiptPolicyInput): ReceiptPolicy {
  const p = receiptPolicySchema.parse(input);
  return {
    delayMs: p.delayMs ?? base.delayMs,
    stat: p.stat ?? base.stat,
    err: p.err ?? (p.stat === 'DELIVRD' ? '000' : base.err),
    byDestination: p.byDestination ?? base.byDestination,
    retryDelayMs: p.retryDelayMs ?? base.retryDelayMs,
    retries: p.retries ?? base.retries,
  };
}

export function outcomeFor(policy: ReceiptPolicy, destination: string): { stat: ReceiptStat; err: string } {
  const o = policy.byDestination[destination];
  if (o) return { stat: o.stat, err: o.err ?? (o.stat === 'DELIVRD' ? '000' : policy.err) };
  return { stat: policy.stat, err: policy.err };
}
