/**
 * Carrier message id → core message id, kept from submit_sm_resp until the delivery receipt
 * arrives. Bounded in entries and time: a carrier that never sends receipts must not grow the
 * process without limit, and a receipt days late is not worth the memory.
 *
 * Keys are scoped by smscName, not by bind: a carrier's receipts often arrive on a separate
 * receiver bind with the same smscName, and two carriers may well issue the same ids.
 *
 * Carriers are inconsistent about id formats: many answer submit_sm_resp with a hex id and
 * write it in decimal in the receipt text (or the reverse), some pad with zeros or change case.
 * lookup() tries those variants before calling a receipt unmatched.
 */

/** A long message: its parts share one group so the receipt outcome can cover all of them. */
export interface PartGroup {
  coreId: string;
  parts: number;
  /** Every part's carrier id as the carrier gave it, in part order (the core keeps them all). */
  carrierIds: string[];
  delivered: Set<string>;
  /** Set once an outcome was reported for the whole message. */
  finished?: 'delivered' | 'failed';
}

export interface CarrierIdEntry {
  coreId: string;
  /** Present for messages sent in more than one part. */
  group?: PartGroup;
  expiresAt: number;
}

export interface CarrierIdMapOptions {
  /** Most entries kept; the oldest are dropped beyond it. Default 500,000. */
  maxEntries?: number;
  /** How long an entry waits for its receipt. Default 72 h. */
  ttlMs?: number;
  now?: () => number;
}

export function canonical(id: string): string {
  const t = id.trim().toLowerCase();
  const stripped = t.replace(/^0+(?=.)/, '');
  return stripped;
}

export class CarrierIdMap {
  private readonly map = new Map<string, CarrierIdEntry>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** Entries dropped because the map was full (before their TTL). */
  evicted = 0;
  expired = 0;

  constructor(opts: CarrierIdMapOptions = {}) {
    this.maxEntries = Math.max(1, opts.maxEntries ?? 500_000);
    this.ttlMs = Math.max(1, opts.ttlMs ?? 72 * 3_600_000);
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.map.size;
  }

  set(scope: string, carrierId: string, coreId: string, group?: PartGroup): void {
    const key = `${scope}\u0000${canonical(carrierId)}`;
    const entry: CarrierIdEntry = { coreId, expiresAt: this.now() + this.ttlMs };
    if (group) entry.group = group;
    // Re-inserting moves the key to the end, keeping Map order == expiry order (one TTL for all).
    this.map.delete(key);
    this.map.set(key, entry);
    this.prune();
  }

  /**
   * The entry for a receipt's message id, trying the usual format variants; undefined if unknown
   * or expired. `key` is the canonical id that matched.
   */
  lookup(scope: string, carrierId: string): (CarrierIdEntry & { key: string }) | undefined {
    const now = this.now();
    for (const candidate of variants(carrierId)) {
      const key = `${scope}\u0000${candidate}`;
      const e = this.map.get(key);
      if (e === undefined) continue;
      if (e.expiresAt <= now) {
        this.map.delete(key);
        this.expired++;
        continue;
      }
      return { ...e, key: candidate };
    }
    return undefined;
  }

  delete(scope: string, carrierId: string): void {
    this.map.delete(`${scope}\u0000${canonical(carrierId)}`);
  }

  private prune(): void {
    const now = this.now();
    for (const [key, e] of this.map) {
      if (this.map.size > this.maxEntries) {
        this.map.delete(key);
        if (e.expiresAt <= now) this.expired++;
        else this.evicted++;
        continue;
      }
      if (e.expiresAt > now) break;
      this.map.delete(key);
      this.expired++;
    }
  }
}

/** The id as given, then as the other base (hex ↔ decimal), all canonicalised. */
export function variants(id: string): string[] {
  const c = canonical(id);
  const out = [c];
  if (/^[0-9]+$/.test(c) && c.length <= 15) {
    out.push(canonical(BigInt(c).toString(16)));
  }
  if (/^[0-9a-f]+$/.test(c) && c.length <= 12) {
    const dec = canonical(BigInt(`0x${c}`).toString(10));
    if (!out.includes(dec)) out.push(dec);
  }
  return out;
}
