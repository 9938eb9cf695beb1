/** A bounded, ordered record: every entry gets a sequence number so readers can ask "since N". */
export class History<T> {
  private items: (T & { seq: number })[] = [];
  private seq = 0;
  private dropped = 0;

  private readonly limit: number;

  // Plain fields, no parameter properties: benchmarks run these sources under Node's type stripping.
  constructor(limit: number) {
    this.limit = limit;
  }

  push(item: T): T & { seq: number } {
    const entry = Object.assign(item as object, { seq: ++this.seq }) as T & { seq: number };
    this.items.push(entry);
    if (this.items.length > this.limit) {
      // Dropping in chunks keeps push amortised O(1) instead of shifting on every entry.
      const excess = this.items.length - this.limit + Math.ceil(this.limit / 10);
      this.items.splice(0, excess);
      this.dropped += excess;
    }
    return entry;
  }

  since(seq: number, limit = Infinity, filter?: (e: T) => boolean): (T & { seq: number })[] {
    const out: (T & { seq: number })[] = [];
    for (const e of this.items) {
      if (e.seq <= seq || (filter && !filter(e))) continue;
      out.push(e);
      if (out.length >= limit) break;
    }
    return out;
  }

  get last(): number {
    return this.seq;
  }

  get evicted(): number {
    return this.dropped;
  }

  clear(): void {
    this.items = [];
    this.dropped = 0;
  }
}
