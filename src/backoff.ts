/**
 * The one exponential backoff of the code base: every retry path (SMPP reconnects and throttling,
 * bind slowdown, core requests and reports, Kubernetes work and status queues, informer watches,
 * receipt-store writes) computes its delay here, so the cap and the overflow guard are written once.
 */

/**
 * The delay before retry `attempt` (0 = the first): minMs doubled per attempt, at most maxMs.
 * The exponent stops at 52: past it 2 ** n loses integers and, at 1024, is Infinity, and
 * 0 * Infinity would be NaN for a zero minimum.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** Math.min(Math.max(0, attempt), 52));
}

/** "Equal jitter": half of `delay` fixed, half random, so many retriers do not move in lockstep. */
export function equalJitter(delay: number, random: () => number = Math.random): number {
  const half = delay / 2;
  return half + random() * half;
}

/**
 * Reconnect delays: backoffDelay from minDelayMs to maxDelayMs with equal jitter (never below
 * minMs), so a fleet of gateways that lost the same SMSC does not reconnect in lockstep.
 */
export class Backoff {
  private attempt = 0;
  private readonly minMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;

  constructor(minMs: number, maxMs: number, random: () => number = Math.random) {
    if (!(minMs >= 0) || !(maxMs >= minMs)) {
      throw new RangeError(`reconnect delays must satisfy 0 <= min <= max, got ${minMs}/${maxMs}`);
    }
    this.minMs = minMs;
    this.maxMs = maxMs;
    this.random = random;
  }

  next(): number {
    const ceiling = backoffDelay(this.attempt, this.minMs, this.maxMs);
    this.attempt++;
    return Math.max(this.minMs, Math.round(equalJitter(ceiling, this.random)));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
