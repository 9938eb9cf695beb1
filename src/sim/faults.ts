// Fault injection: what the next submit_sm, enquire_link or bind gets instead of a normal answer.
// Ratios are applied deterministically (an accumulator, not a dice roll) so that a test asking
// for 0.25 sees exactly one in four and can assert on it.
import smpp from 'smpp';
import { z } from 'zod';

export const ESME_RTHROTTLED = 0x58;
export const ESME_RBINDFAIL = 0x0d;

/** Accepts 11, "0x0B" or "ESME_RINVDSTADR". */
const statusCode = z.union([z.number().int().min(1).max(0xffffffff), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const named = smpp.errors[v];
  if (named !== undefined) return named;
  const n = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v, 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) {
    ctx.addIssue({ code: 'custom', message: `unknown command_status '${v}'` });
    return z.NEVER;
  }
  return n;
});

const count = z.number().int().min(0).max(1_000_000_000);
const ratio = z.number().min(0).max(1);

export const faultRequestSchema = z
  .object({
    clear: z.boolean().optional(),
    throttleNext: count.optional(),
    throttleRatio: ratio.optional(),
    error: z
      .object({ status: statusCode, count: count.optional(), ratio: ratio.optional() })
      .refine((e) => e.count !== undefined || e.ratio !== undefined, 'error needs count or ratio')
      .optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    dropNext: count.optional(),
    dropEnquireLink: z.boolean().optional(),
    refuseBinds: z.union([z.boolean(), statusCode]).optional(),
    garbageNext: count.optional(),
    disconnect: z.boolean().optional(),
    garbageNow: z.boolean().optional(),
  })
  .strict();

export type FaultRequest = z.input<typeof faultRequestSchema>;
type ParsedFaultRequest = z.output<typeof faultRequestSchema>;

export interface FaultSnapshot {
  throttleNext: number;
  throttleRatio: number;
  errors: { status: number; remaining: number }[];
  errorRatio: { status: number; ratio: number } | null;
  delayMs: number;
  dropNext: number;
  dropEnquireLink: boolean;
  refuseBinds: number;
  garbageNext: number;
}

/** What to do with one submit_sm. */
export type SubmitVerdict =
  | { kind: 'ok' }
  | { kind: 'drop' }
  | { kind: 'garbage' }
  | { kind: 'status'; status: number; fault: 'throttle' | 'error' };

export class Faults {
  private throttleNext = 0;
  private throttleRatio = 0;
  private throttleAcc = 0;
  private errors: { status: number; remaining: number }[] = [];
  private errorRatio: { status: number; ratio: number } | null = null;
  private errorAcc = 0;
  delayMs = 0;
  private dropNext = 0;
  dropEnquireLink = false;
  /** 0 = binds accepted; otherwise the command_status every bind gets. */
  refuseBinds = 0;
  private garbageNext = 0;

  /** Applies a request; returns the one-shot actions (disconnect, garbage now) for the caller. */
  apply(req: ParsedFaultRequest): { disconnect: boolean; garbageNow: boolean } {
    if (req.clear) this.clear();
    if (req.throttleNext !== undefined) this.throttleNext = req.throttleNext;
    if (req.throttleRatio !== undefined) {
      this.throttleRatio = req.throttleRatio;
      this.throttleAcc = 0;
    }
    if (req.error) {
      if (req.error.count !== undefined && req.error.count > 0)
        this.errors.push({ status: req.error.status, remaining: req.error.count });
      if (req.error.ratio !== undefined) {
        this.errorRatio = req.error.ratio > 0 ? { status: req.error.status, ratio: req.error.ratio } : null;
        this.errorAcc = 0;
      }
    }
    if (req.delayMs !== undefined) this.delayMs = req.delayMs;
    if (req.dropNext !== undefined) this.dropNext = req.dropNext;
    if (req.dropEnquireLink !== undefined) this.dropEnquireLink = req.dropEnquireLink;
    if (req.refuseBinds !== undefined)
      this.refuseBinds =
        req.refuseBinds === true ? ESME_RBINDFAIL : req.refuseBinds === false ? 0 : req.refuseBinds;
    if (req.garbageNext !== undefined) this.garbageNext = req.garbageNext;
    return { disconnect: req.disconnect === true, garbageNow: req.garbageNow === true };
  }

  clear(): void {
    this.throttleNext = 0;
    this.throttleRatio = 0;
    this.throttleAcc = 0;
    this.errors = [];
    this.errorRatio = null;
    this.errorAcc = 0;
    this.delayMs = 0;
    this.dropNext = 0;
    this.dropEnquireLink = false;
    this.refuseBinds = 0;
    this.garbageNext = 0;
  }

  /** Decides the fate of the next submit_sm, consuming one-shot counters. */
  nextSubmit(): SubmitVerdict {
    if (this.dropNext > 0) {
      this.dropNext--;
      return { kind: 'drop' };
    }
    if (this.garbageNext > 0) {
      this.garbageNext--;
      return { kind: 'garbage' };
    }
    const queued = this.errors[0];
    if (queued) {
      if (--queued.remaining <= 0) this.errors.shift();
      return { kind: 'status', status: queued.status, fault: 'error' };
    }
    if (this.throttleNext > 0) {
      this.throttleNext--;
      return { kind: 'status', status: ESME_RTHROTTLED, fault: 'throttle' };
    }
    if (this.throttleRatio > 0) {
      this.throttleAcc += this.throttleRatio;
      if (this.throttleAcc >= 1 - 1e-9) {
        this.throttleAcc -= 1;
        return { kind: 'status', status: ESME_RTHROTTLED, fault: 'throttle' };
      }
    }
    if (this.errorRatio) {
      this.errorAcc += this.errorRatio.ratio;
      if (this.errorAcc >= 1 - 1e-9) {
        this.errorAcc -= 1;
        return { kind: 'status', status: this.errorRatio.status, fault: 'error' };
      }
    }
    return { kind: 'ok' };
  }

  snapshot(): FaultSnapshot {
    return {
      throttleNext: this.throttleNext,
      throttleRatio: this.throttleRatio,
      errors: this.errors.map((e) => ({ ...e })),
      errorRatio: this.errorRatio ? { ...this.errorRatio } : null,
      delayMs: this.delayMs,
      dropNext: this.dropNext,
      dropEnquireLink: this.dropEnquireLink,
      refuseBinds: this.refuseBinds,
      garbageNext: this.garbageNext,
    };
  }
}
