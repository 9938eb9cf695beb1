/**
 * The receipt store on Redis (any server speaking its protocol: Redis 7, Valkey; single,
 * Sentinel or Cluster), shared by every gateway pod.
 *
 * Layout (P = REDIS_KEY_PREFIX; every key of one scope or bind carries the same {hash tag}, so
 * a Cluster keeps them in one slot and one pipeline or script can touch them together):
 *   P c:{ns/smscName}:<carrier id>   → "<core id>" or "<core id>\n<parts>"   (PX = TTL)
 *   P g:{ns/smscName}:<core id>      → hash n, ids (all parts' carrier ids), d:<id>, dc, f
 *   P p:{ns/bind}                    → hash core id → partner submit (JSON)
 *   P pd:{ns/bind}, P pa:{ns/bind}   → sorted sets: when due, when submitted
 *
 * Writes go through a bounded buffer flushed as one pipeline (one round trip) per batch, so the
 * submit path never waits for Redis; a batch that fails goes back to the buffer and is retried
 * with a backoff, and what the buffer cannot hold is counted as lost. Ids this process wrote
 * recently are also kept in a bounded local map, so most receipts (which come back to the pod
 * that sent the message) match without a round trip.
 */
import type { ChainableCommander, Cluster, Redis } from 'ioredis';
import { canonical, variants } from '../gateway/carrier-id-map.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import {
  ReceiptStoreUnavailable,
  type CarrierIdRecord,
  type PartnerReceiptQueue,
  type PartVerdict,
  type QueuedReceipt,
  type ReceiptStore,
} from './types.js';
import { backoffDelay } from '../backoff.js';

export interface RedisReceiptStoreOptions {
  client: Redis | Cluster;
  metrics: Metrics;
  log: Logger;
  /** REDIS_KEY_PREFIX. Default "smpp:". */
  prefix?: string;
  /** How long a carrier id waits for its receipt. Default 72 h. */
  ttlMs?: number;
  /** Entries waiting to be written, at most; beyond it the oldest are counted lost. Default 100,000. */
  maxBuffered?: number;
  /** Entries per pipeline. Default 1,000. */
  batchSize?: number;
  /** Ids this process wrote, kept locally for receipts that come back here. Default 100,000. */
  recentMax?: number;
  /** Attempts of a lookup before the store is called unavailable. Default 3. */
  lookupAttempts?: number;
  /** How long a round trip may take before it counts as failed. Default 2,000 ms. */
  timeoutMs?: number;
  /** Backoff of a failed write batch: first and largest wait. Default 200 ms and 5 s. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

type Op = 'write' | 'lookup' | 'part' | 'partner';

type Write =
  | {
      kind: 'ids';
      scope: string;
      coreId: string;
      ids: string[];
      /** canonical() of each id: the key part. */
      canon: string[];
      parts: number;
      done?: () => void;
    }
  | { kind: 'partner'; e: QueuedReceipt; max: number; done: (evicted: QueuedReceipt[]) => void };

interface Recent {
  coreId: string;
  parts: number;
  at: number;
}

// ---- scripts (each touches the keys of one hash tag only) --------------------------------------

/**
 * KEYS: carrier-id keys. ARGV: TTL ms, then one value per key. A batch as one command: a
 * pipeline of SETs costs the client more CPU per message than the whole submit path did.
 */
const SET_MANY = `
local ttl = ARGV[1]
for i, k in ipairs(KEYS) do redis.call('SET', k, ARGV[i + 1], 'PX', ttl) end
return #KEYS
`;

/** KEYS: group. ARGV: part key, outcome. */
const PART_OUTCOME = `
local g = KEYS[1]
if redis.call('EXISTS', g) == 0 then return {'missing'} end
if redis.call('HEXISTS', g, 'f') == 1 then return {'finished'} end
if ARGV[2] == 'delivered' then
  if redis.call('HSETNX', g, 'd:' .. ARGV[1], '1') == 1 then redis.call('HINCRBY', g, 'dc', 1) end
  local dc = tonumber(redis.call('HGET', g, 'dc') or '0')
  local n = tonumber(redis.call('HGET', g, 'n') or '0')
  if dc < n then return {'wait'} end
end
redis.call('HSET', g, 'f', ARGV[2])
return {'report', redis.call('HGET', g, 'ids') or ''}
`;

/** KEYS: entries, due, age. ARGV: core id, json, due, submitted, max, key ttl ms. Returns evicted JSONs. */
const PARTNER_ADD = `
local h, due, age = KEYS[1], KEYS[2], KEYS[3]
local out = {}
if redis.call('HEXISTS', h, ARGV[1]) == 0 then
  local max = tonumber(ARGV[5])
  while redis.call('ZCARD', age) >= max do
    local oldest = redis.call('ZPOPMIN', age)
    local id = oldest[1]
    if id == nil then break end
    local v = redis.call('HGET', h, id)
    if v then table.insert(out, v) end
    redis.call('HDEL', h, id)
    redis.call('ZREM', due, id)
  end
end
redis.call('HSET', h, ARGV[1], ARGV[2])
redis.call('ZADD', due, ARGV[3], ARGV[1])
redis.call('ZADD', age, ARGV[4], ARGV[1])
for _, k in ipairs(KEYS) do redis.call('PEXPIRE', k, ARGV[6]) end
return out
`;

/** KEYS: entries, due, age. ARGV: now, max, lease ms. Returns JSONs of the leased entries. */
const PARTNER_CLAIM = `
local h, due, age = KEYS[1], KEYS[2], KEYS[3]
local ids = redis.call('ZRANGEBYSCORE', due, '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
local leased = tonumber(ARGV[1]) + tonumber(ARGV[3])
for _, id in ipairs(ids) do
  local v = redis.call('HGET', h, id)
  if v then
    redis.call('ZADD', due, leased, id)
    table.insert(out, v)
  else
    redis.call('ZREM', due, id)
    redis.call('ZREM', age, id)
  end
end
return out
`;

/** KEYS: entries, due. ARGV: core id, json, due. */
const PARTNER_UPDATE = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
`;

/** KEYS: entries, due, age. ARGV: core id. */
const PARTNER_REMOVE = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`;

/** KEYS: entries, due, age. ARGV: before (exclusive). Returns the JSONs removed. */
const PARTNER_EXPIRE = `
local h, due, age = KEYS[1], KEYS[2], KEYS[3]
local ids = redis.call('ZRANGEBYSCORE', age, '-inf', '(' .. ARGV[1])
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('HGET', h, id)
  if v then table.insert(out, v) end
  redis.call('HDEL', h, id)
  redis.call('ZREM', due, id)
  redis.call('ZREM', age, id)
end
return out
`;

/** KEYS: entries, due, age. Returns every JSON, and deletes the three keys. */
const PARTNER_DROP = `
local out = redis.call('HVALS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
return out
`;

const SCRIPTS = {
  smppSetMany: { lua: SET_MANY },
  smppPartOutcome: { lua: PART_OUTCOME, numberOfKeys: 1 },
  smppPartnerAdd: { lua: PARTNER_ADD, numberOfKeys: 3 },
  smppPartnerClaim: { lua: PARTNER_CLAIM, numberOfKeys: 3 },
  smppPartnerUpdate: { lua: PARTNER_UPDATE, numberOfKeys: 2 },
  smppPartnerRemove: { lua: PARTNER_REMOVE, numberOfKeys: 3 },
  smppPartnerExpire: { lua: PARTNER_EXPIRE, numberOfKeys: 3 },
  smppPartnerDrop: { lua: PARTNER_DROP, numberOfKeys: 3 },
} as const;
type ScriptName = keyof typeof SCRIPTS;
interface ScriptDef {
  lua: string;
  numberOfKeys?: number;
}
type Arg = string | number;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function encodeQueued(e: QueuedReceipt): string {
  return JSON.stringify(e);
}

function decodeQueued(v: unknown): QueuedReceipt | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    const o = JSON.parse(v) as QueuedReceipt & { submittedAt: string; final?: { doneAt: string } };
    const e: QueuedReceipt = { ...o, submittedAt: new Date(o.submittedAt) };
    if (o.final) e.final = { ...o.final, doneAt: new Date(o.final.doneAt) };
    return e;
  } catch {
    return undefined;
  }
}

function decodeList(v: unknown): QueuedReceipt[] {
  if (!Array.isArray(v)) return [];
  return v.map(decodeQueued).filter((e): e is QueuedReceipt => e !== undefined);
}

export class RedisReceiptStore implements ReceiptStore {
  readonly kind = 'redis';
  readonly partnerReceipts: PartnerReceiptQueue;
  private readonly client: Redis | Cluster;
  private readonly cluster: boolean;
  private readonly m: Metrics;
  private readonly log: Logger;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly maxBuffered: number;
  private readonly batchSize: number;
  private readonly recentMax: number;
  private readonly lookupAttempts: number;
  private readonly timeoutMs: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private buffer: Write[] = [];
  /**
   * Ids recorded here, in record order: every one not yet in Redis, and the last recentMax
   * written ones (one map, so the submit path pays one insertion per id).
   */
  private readonly local = new Map<string, Recent>();
  /** Groups of long messages not yet written: a part's receipt waits for its group. */
  private readonly unwrittenGroups = new Map<string, Promise<void>>();
  private flushing = false;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  /** Failed write batches in a row: the next flush waits backoffDelay of them. */
  private failedFlushes = 0;
  private up: boolean | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(opts: RedisReceiptStoreOptions) {
    this.client = opts.client;
    this.cluster = opts.client.isCluster;
    this.m = opts.metrics;
    this.log = opts.log;
    this.prefix = opts.prefix ?? 'smpp:';
    this.ttlMs = Math.max(1000, opts.ttlMs ?? 72 * 3_600_000);
    this.maxBuffered = Math.max(1, opts.maxBuffered ?? 100_000);
    this.batchSize = Math.max(1, opts.batchSize ?? 1000);
    this.recentMax = Math.max(0, opts.recentMax ?? 100_000);
    this.lookupAttempts = Math.max(1, opts.lookupAttempts ?? 3);
    this.timeoutMs = Math.max(50, opts.timeoutMs ?? 2000);
    this.retryMinMs = Math.max(1, opts.retryMinMs ?? 200);
    this.retryMaxMs = Math.max(this.retryMinMs, opts.retryMaxMs ?? 5000);
    for (const [name, def] of Object.entries(SCRIPTS) as [string, ScriptDef][])
      this.client.defineCommand(name, def);
    this.m.receiptStoreUp.set({ store: 'redis' }, 0);
    this.client.on('ready', () => this.setUp(true));
    this.client.on('end', () => this.setUp(false));
    this.client.on('close', () => this.setUp(false));
    // ioredis reconnects by itself; its 'error' events only need to be logged, once per outage.
    this.client.on('error', (err: Error) => {
      if (this.up !== false) this.log.warn({ err }, 'receipt store (Redis) connection error');
    });
    this.partnerReceipts = this.partnerQueue();
  }

  get pendingWrites(): number {
    return this.buffer.length;
  }

  private setUp(up: boolean): void {
    if (this.up === up) return;
    const was = this.up;
    this.up = up;
    this.m.receiptStoreUp.set({ store: 'redis' }, up ? 1 : 0);
    if (up) {
      if (was === false)
        this.log.info({ buffered: this.buffer.length }, 'receipt store (Redis) reachable again');
      this.failedFlushes = 0;
      this.schedule(0);
    } else if (was === true) {
      this.log.warn(
        { buffered: this.buffer.length },
        'receipt store (Redis) unreachable; writes are buffered',
      );
    }
  }

  // ---- keys ------------------------------------------------------------------------------------

  private idKey(scope: string, canon: string): string {
    return `${this.prefix}c:{${scope}}:${canon}`;
  }

  private groupKey(scope: string, coreId: string): string {
    return `${this.prefix}g:{${scope}}:${coreId}`;
  }

  private partnerKeys(bindKey: string): [string, string, string] {
    return [`${this.prefix}p:{${bindKey}}`, `${this.prefix}pd:{${bindKey}}`, `${this.prefix}pa:{${bindKey}}`];
  }

  // ---- round trips -----------------------------------------------------------------------------

  /** One round trip, counted, with a deadline of its own (ioredis may hold a command while reconnecting). */
  private async trip<T>(op: Op, fn: () => Promise<T>): Promise<T> {
    this.m.receiptStoreOps.inc({ op });
    let t: NodeJS.Timeout | undefined;
    try {
      const r = await Promise.race([
        fn(),
        new Promise<never>((_, reject) => {
          t = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
        }),
      ]);
      this.setUp(true);
      return r;
    } catch (err) {
      this.m.receiptStoreErrors.inc({ op });
      throw err;
    } finally {
      clearTimeout(t);
    }
  }

  private run(name: ScriptName, args: Arg[]): Promise<unknown> {
    const fn = (this.client as unknown as Record<ScriptName, (...a: Arg[]) => Promise<unknown>>)[name];
    return fn.apply(this.client, args);
  }

  private static pipe(p: ChainableCommander, name: ScriptName, args: Arg[]): void {
    const fn = (p as unknown as Record<ScriptName, (...a: Arg[]) => ChainableCommander>)[name];
    fn.apply(p, args);
  }

  // ---- carrier ids -----------------------------------------------------------------------------

  record(scope: string, coreId: string, carrierIds: string[]): void {
    const ids = carrierIds.filter((id) => id !== '');
    if (ids.length === 0 || this.closed) return;
    const parts = carrierIds.length;
    const now = Date.now();
    const canon = ids.map(canonical);
    const r: Recent = { coreId, parts, at: now };
    for (const c of canon) this.local.set(`${scope}\u0000${c}`, r);
    const cap = this.recentMax + this.maxBuffered;
    while (this.local.size > cap) {
      const oldest = this.local.keys().next().value;
      if (oldest === undefined) break;
      this.local.delete(oldest);
    }
    const w: Write = { kind: 'ids', scope, coreId, ids, canon, parts };
    if (parts > 1) {
      const key = `${scope}\u0000${coreId}`;
      this.unwrittenGroups.set(
        key,
        new Promise<void>((resolve) => {
          w.done = () => {
            if (this.unwrittenGroups.get(key) !== undefined) this.unwrittenGroups.delete(key);
            resolve();
          };
        }),
      );
    }
    this.push(w);
  }

  peek(scope: string, carrierId: string): CarrierIdRecord | undefined {
    const now = Date.now();
    for (const v of variants(carrierId)) {
      const k = `${scope}\u0000${v}`;
      const r = this.local.get(k);
      if (r && now - r.at < this.ttlMs) return { coreId: r.coreId, parts: r.parts, key: v };
    }
    return undefined;
  }

  async lookup(scope: string, carrierId: string): Promise<CarrierIdRecord | undefined> {
    const local = this.peek(scope, carrierId);
    if (local) return local;
    const vs = variants(carrierId);
    const keys = vs.map((v) => this.idKey(scope, v));
    let last: unknown;
    for (let attempt = 0; attempt < this.lookupAttempts; attempt++) {
      if (attempt > 0) await sleep(100 * 3 ** (attempt - 1));
      try {
        const values = await this.trip('lookup', () => this.client.mget(...keys));
        for (let i = 0; i < values.length; i++) {
          const v = values[i];
          if (typeof v !== 'string') continue;
          const nl = v.indexOf('\n');
          const coreId = nl < 0 ? v : v.slice(0, nl);
          const parts = nl < 0 ? 1 : Number(v.slice(nl + 1)) || 1;
          return { coreId, parts, key: vs[i] as string };
        }
        return undefined;
      } catch (err) {
        last = err;
      }
    }
    throw new ReceiptStoreUnavailable('lookup', last);
  }

  async partOutcome(
    scope: string,
    coreId: string,
    key: string,
    outcome: 'delivered' | 'failed',
  ): Promise<PartVerdict> {
    const unwritten = this.unwrittenGroups.get(`${scope}\u0000${coreId}`);
    if (unwritten) {
      const written = await Promise.race([
        unwritten.then(() => true),
        sleep(this.timeoutMs).then(() => false),
      ]);
      if (!written) throw new ReceiptStoreUnavailable('part', new Error('the message is not written yet'));
    }
    let r: unknown;
    try {
      r = await this.trip('part', () =>
        this.run('smppPartOutcome', [this.groupKey(scope, coreId), key, outcome]),
      );
    } catch (err) {
      throw new ReceiptStoreUnavailable('part', err);
    }
    const [verdict, ids] = Array.isArray(r) ? (r as [string, string?]) : ['missing'];
    if (verdict === 'wait') return { verdict: 'wait' };
    if (verdict === 'finished') return { verdict: 'finished' };
    // A group gone (expired) reports what it can: the part at hand.
    const carrierIds = typeof ids === 'string' && ids !== '' ? ids.split(',') : [key];
    return { verdict: 'report', carrierIds };
  }

  async reopen(scope: string, coreId: string, _key?: string): Promise<void> {
    try {
      await this.trip('part', () => this.client.hdel(this.groupKey(scope, coreId), 'f'));
    } catch (err) {
      throw new ReceiptStoreUnavailable('part', err);
    }
  }

  // ---- the write buffer ------------------------------------------------------------------------

  private push(w: Write): void {
    this.buffer.push(w);
    this.trim();
    this.m.receiptStorePendingWrites.set(this.buffer.length);
    this.schedule(this.flushDelay());
  }

  /** The entry is in Redis now (or lost): other pods answer for it. */
  private settled(w: Write): void {
    if (w.kind !== 'ids') return;
    if (this.recentMax === 0)
      for (const c of w.canon) {
        const key = `${w.scope}\u0000${c}`;
        if (this.local.get(key)?.coreId === w.coreId) this.local.delete(key);
      }
    w.done?.();
  }

  /** Drops the oldest entries beyond maxBuffered, counting them lost. */
  private trim(): void {
    const over = this.buffer.length - this.maxBuffered;
    if (over <= 0) return;
    const lost = this.buffer.splice(0, over);
    let ids = 0;
    let partner = 0;
    for (const w of lost) {
      if (w.kind === 'ids') {
        ids += w.ids.length;
        this.settled(w);
      } else {
        partner++;
        w.done([]);
      }
    }
    if (ids > 0) this.m.receiptStoreLost.inc({ kind: 'carrier_id' }, ids);
    if (partner > 0) this.m.receiptStoreLost.inc({ kind: 'partner_receipt' }, partner);
    this.log.warn(
      { carrierIds: ids, partnerReceipts: partner, buffered: this.buffer.length },
      'receipt store write buffer full; oldest entries lost (their receipts will not match)',
    );
  }

  private schedule(delayMs: number): void {
    if (this.flushing || this.buffer.length === 0) return;
    if (delayMs <= 0) {
      if (this.immediate || this.timer) return;
      // Everything recorded in this turn of the event loop (one TCP read of submit_sm_resps) goes together.
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        void this.flush();
      });
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
  }

  private flushDelay(): number {
    return this.failedFlushes === 0
      ? 0
      : backoffDelay(this.failedFlushes - 1, this.retryMinMs, this.retryMaxMs);
  }

  private async flush(): Promise<void> {
    if (this.flushing || this.buffer.length === 0) return;
    this.flushing = true;
    const batch = this.buffer.splice(0, this.batchSize);
    let results: unknown[] | undefined;
    try {
      results = await this.write(batch);
    } catch (err) {
      this.buffer.unshift(...batch);
      this.trim();
      this.failedFlushes++;
      this.log.debug({ err, buffered: this.buffer.length }, 'receipt store write failed; will retry');
    } finally {
      this.flushing = false;
    }
    if (results) {
      this.failedFlushes = 0;
      let r = 0;
      for (const w of batch) {
        if (w.kind === 'ids') this.settled(w);
        else w.done(decodeList(results[r]));
        r++;
      }
    }
    this.m.receiptStorePendingWrites.set(this.buffer.length);
    if (this.buffer.length === 0) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of ws) w();
    }
    this.schedule(this.flushDelay());
  }

  /**
   * Writes a batch; resolves with one result per entry (the partner add's evicted list, or
   * null). A Cluster gets one pipeline per hash tag (pipelines there stay within one slot).
   */
  private async write(batch: Write[]): Promise<unknown[]> {
    const groups = new Map<string, number[]>();
    batch.forEach((w, i) => {
      const tag = this.cluster ? (w.kind === 'ids' ? w.scope : w.e.bindKey) : '';
      const list = groups.get(tag);
      if (list) list.push(i);
      else groups.set(tag, [i]);
    });
    const results: unknown[] = new Array<unknown>(batch.length).fill(null);
    await Promise.all(
      [...groups.values()].map(async (idx) => {
        const p = this.client.pipeline();
        /** Where each entry's own result sits in the pipeline's replies (-1: none). */
        const at: number[] = [];
        const keys: string[] = [];
        const values: string[] = [];
        // Group hashes and partner adds as they come; every carrier id in one command at the end.
        let n = 0;
        for (const i of idx) {
          const w = batch[i] as Write;
          if (w.kind === 'ids') {
            const value = w.parts > 1 ? `${w.coreId}\n${w.parts}` : w.coreId;
            for (const c of w.canon) {
              keys.push(this.idKey(w.scope, c));
              values.push(value);
            }
            if (w.parts > 1) {
              const g = this.groupKey(w.scope, w.coreId);
              p.hset(g, 'n', w.ids.length, 'ids', w.ids.join(','));
              p.pexpire(g, this.ttlMs);
              n += 2;
            }
            at.push(-1);
          } else {
            const e = w.e;
            RedisReceiptStore.pipe(p, 'smppPartnerAdd', [
              ...this.partnerKeys(e.bindKey),
              e.coreId,
              encodeQueued(e),
              e.due,
              e.submittedAt.getTime(),
              w.max,
              this.ttlMs,
            ]);
            at.push(n);
            n++;
          }
        }
        if (keys.length > 0) {
          RedisReceiptStore.pipe(p, 'smppSetMany', [keys.length, ...keys, this.ttlMs, ...values]);
        }
        const replies = await this.trip('write', async () => {
          const r = await p.exec();
          if (r === null) throw new Error('pipeline discarded');
          const failed = r.find(([err]) => err !== null);
          if (failed) throw failed[0] as Error;
          return r;
        });
        idx.forEach((i, k) => {
          const pos = at[k] as number;
          if (pos >= 0) results[i] = replies[pos]?.[1] ?? null;
        });
      }),
    );
    return results;
  }

  /** Resolves when the buffer is empty, or after `ms`. */
  flushed(ms: number): Promise<boolean> {
    if (this.buffer.length === 0 && !this.flushing) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), ms);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  async close(ms = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.buffer.length > 0) {
      this.schedule(0);
      const ok = await this.flushed(ms);
      if (!ok) {
        const left = this.buffer.length;
        this.buffer = [];
        this.m.receiptStoreLost.inc({ kind: 'carrier_id' }, left);
        this.log.error({ entries: left }, 'receipt store entries not written before stopping; lost');
      }
    }
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.client.disconnect();
  }

  // ---- partner receipts ------------------------------------------------------------------------

  private partnerQueue(): PartnerReceiptQueue {
    const call = async (name: ScriptName, bindKey: string, keys: number, args: Arg[]): Promise<unknown> => {
      const k = this.partnerKeys(bindKey).slice(0, keys);
      try {
        return await this.trip('partner', () => this.run(name, [...k, ...args]));
      } catch (err) {
        throw new ReceiptStoreUnavailable('partner', err);
      }
    };
    return {
      durable: true,
      add: (e, maxPerBind) =>
        new Promise<QueuedReceipt[]>((resolve) => {
          if (this.closed) return resolve([]);
          this.push({ kind: 'partner', e, max: Math.max(1, maxPerBind), done: resolve });
        }),
      claim: async (bindKey, now, max, leaseMs) =>
        decodeList(await call('smppPartnerClaim', bindKey, 3, [now, max, leaseMs])),
      update: async (e) =>
        (await call('smppPartnerUpdate', e.bindKey, 2, [e.coreId, encodeQueued(e), e.due])) === 1,
      remove: async (bindKey, coreId) => (await call('smppPartnerRemove', bindKey, 3, [coreId])) === 1,
      expire: async (bindKey, before) => decodeList(await call('smppPartnerExpire', bindKey, 3, [before])),
      dropBind: async (bindKey) => decodeList(await call('smppPartnerDrop', bindKey, 3, [])),
      count: async (bindKey) => {
        const [h] = this.partnerKeys(bindKey);
        try {
          return await this.trip('partner', () => this.client.hlen(h));
        } catch (err) {
          throw new ReceiptStoreUnavailable('partner', err);
        }
      },
    };
  }
}
