/**
 * The receipt store in process memory: the default, and what standalone mode and the demo use.
 * Nothing outlives the process, and a receipt can only match on the process that sent its
 * message (README, Known limitations).
 */
import { CarrierIdMap, type CarrierIdMapOptions, type PartGroup } from '../gateway/carrier-id-map.js';
import type { Metrics } from '../metrics.js';
import type {
  CarrierIdRecord,
  PartnerReceiptQueue,
  PartVerdict,
  QueuedReceipt,
  ReceiptStore,
} from './types.js';

export class MemoryPartnerQueue implements PartnerReceiptQueue {
  readonly durable = false;
  /** Per bind, in submit order: the oldest goes first when the limit is reached. */
  private readonly binds = new Map<string, Map<string, QueuedReceipt>>();

  get size(): number {
    let n = 0;
    for (const m of this.binds.values()) n += m.size;
    return n;
  }

  private of(bindKey: string): Map<string, QueuedReceipt> {
    let m = this.binds.get(bindKey);
    if (!m) {
      m = new Map();
      this.binds.set(bindKey, m);
    }
    return m;
  }

  add(e: QueuedReceipt, maxPerBind: number): Promise<QueuedReceipt[]> {
    const m = this.of(e.bindKey);
    const evicted: QueuedReceipt[] = [];
    m.delete(e.coreId);
    while (m.size >= Math.max(1, maxPerBind)) {
      const [k, oldest] = m.entries().next().value as [string, QueuedReceipt];
      m.delete(k);
      evicted.push(oldest);
    }
    m.set(e.coreId, { ...e });
    return Promise.resolve(evicted);
  }

  claim(bindKey: string, now: number, max: number, leaseMs: number): Promise<QueuedReceipt[]> {
    const out: QueuedReceipt[] = [];
    for (const e of this.binds.get(bindKey)?.values() ?? []) {
      if (out.length >= max) break;
      if (e.due > now) continue;
      e.due = now + leaseMs;
      out.push({ ...e });
    }
    return Promise.resolve(out);
  }

  update(e: QueuedReceipt): Promise<boolean> {
    const m = this.binds.get(e.bindKey);
    if (!m?.has(e.coreId)) return Promise.resolve(false);
    m.set(e.coreId, { ...e });
    return Promise.resolve(true);
  }

  remove(bindKey: string, coreId: string): Promise<boolean> {
    return Promise.resolve(this.binds.get(bindKey)?.delete(coreId) ?? false);
  }

  expire(bindKey: string, before: number): Promise<QueuedReceipt[]> {
    const m = this.binds.get(bindKey);
    const out: QueuedReceipt[] = [];
    if (!m) return Promise.resolve(out);
    for (const [k, e] of m) {
      if (e.submittedAt.getTime() >= before) continue;
      m.delete(k);
      out.push(e);
    }
    return Promise.resolve(out);
  }

  dropBind(bindKey: string): Promise<QueuedReceipt[]> {
    const m = this.binds.get(bindKey);
    this.binds.delete(bindKey);
    return Promise.resolve([...(m?.values() ?? [])]);
  }

  count(bindKey: string): Promise<number> {
    return Promise.resolve(this.binds.get(bindKey)?.size ?? 0);
  }
}

export class MemoryReceiptStore implements ReceiptStore {
  readonly kind = 'memory';
  readonly pendingWrites = 0;
  readonly carrierIds: CarrierIdMap;
  readonly partnerReceipts = new MemoryPartnerQueue();
  private readonly metrics: Metrics | undefined;

  constructor(opts: CarrierIdMapOptions = {}, metrics?: Metrics) {
    this.carrierIds = new CarrierIdMap(opts);
    this.metrics = metrics;
    metrics?.receiptStoreUp.set({ store: 'memory' }, 1);
  }

  record(scope: string, coreId: string, carrierIds: string[]): void {
    const ids = carrierIds.filter((id) => id !== '');
    if (carrierIds.length === 1) {
      if (ids[0] !== undefined) this.carrierIds.set(scope, ids[0], coreId);
      return;
    }
    const group: PartGroup = { coreId, parts: ids.length, carrierIds: ids, delivered: new Set() };
    for (const id of ids) this.carrierIds.set(scope, id, coreId, group);
  }

  peek(scope: string, carrierId: string): CarrierIdRecord | undefined {
    const e = this.carrierIds.lookup(scope, carrierId);
    if (!e) return undefined;
    return { coreId: e.coreId, parts: e.group?.parts ?? 1, key: e.key };
  }

  lookup(scope: string, carrierId: string): Promise<CarrierIdRecord | undefined> {
    this.metrics?.receiptStoreOps.inc({ op: 'lookup' });
    return Promise.resolve(this.peek(scope, carrierId));
  }

  partOutcome(
    scope: string,
    coreId: string,
    key: string,
    outcome: 'delivered' | 'failed',
  ): Promise<PartVerdict> {
    const group = this.carrierIds.lookup(scope, key)?.group;
    if (!group || group.coreId !== coreId) return Promise.resolve({ verdict: 'report', carrierIds: [key] });
    if (group.finished) return Promise.resolve({ verdict: 'finished' });
    if (outcome === 'delivered') {
      group.delivered.add(key);
      if (group.delivered.size < group.parts) return Promise.resolve({ verdict: 'wait' });
    }
    group.finished = outcome;
    return Promise.resolve({ verdict: 'report', carrierIds: [...group.carrierIds] });
  }

  reopen(scope: string, coreId: string, key: string): Promise<void> {
    const group = this.carrierIds.lookup(scope, key)?.group;
    if (group?.coreId === coreId) delete group.finished;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
