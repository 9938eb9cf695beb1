/**
 * Reconnect delays: exponential from minDelayMs to maxDelayMs with "equal jitter" (half fixed,
 * half random), so a fleet of gateways that lost the same SMSC does not reconnect in lockstep.
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
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    const half = ceiling / 2;
    return Math.max(this.minMs, Math.round(half + this.random() * half));
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}
