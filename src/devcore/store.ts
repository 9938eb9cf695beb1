/**
 * The in-memory message queue of devcore, following the SMS core reference
 * (seeds/smsc-core-api.pt.txt): what GET with the SMSc header returns, what PUT and PATCH do.
 * Kept apart from HTTP so tests can drive and inspect it directly.
 */
import { backoffDelay } from '../backoff.js';

export type MessageRecord = Record<string, unknown> & { id: number };

export interface Entry {
  rec: MessageRecord;
  /** Insertion order: the queue is "ordered by insertion time, oldest first". */
  seq: number;
  /** Queue key: dest_smsc, or null for unrouted messages. */
  queue: string | null;
  deliverAfterMs: number;
  expiresMs: number;
  /** Times an SMSc-header GET returned it. */
  fetches: number;
  /** Returned by a GET and not yet updated (PATCH/PUT) since. */
  inFlight: boolean;
  /** Hidden from GET until then (devcore `lockMs` option; 0 = the reference's behaviour, no lock). */
  lockedUntil: number;
  /** PATCHes that set deliver_time. More than one means the message was sent twice. */
  sends: number;
  /** PUTs (returns for retry). */
  retries: number;
  receipts: number;
  /** rec as JSON, kept between polls (a lockless core hands the same messages out again and again); cleared on every change. */
  json?: string;
}

export interface StoreOptions {
  /** Multiplies the retry backoff (2^attempt minutes). 0.001 turns 2 min into 120 ms for tests. Default 1. */
  backoffScale?: number;
  /** After this many delivery attempts a PUT dead-letters the message. Default 10. */
  maxAttempts?: number;
  /** Hide a fetched message from further GETs for this long (ms). Default 0: the reference has no lock. */
  lockMs?: number;
  /** At most this many messages per SMSc-header GET. Default unlimited, as the reference. */
  pollLimit?: number;
  /** Default expiry of new messages ("padrão para 24 horas"). */
  defaultExpiryMs?: number;
  /** Prefix routes for POSTed messages without dest_smsc (the core's routing engine, simplified). */
  routes?: Route[];
  now?: () => number;
}

export interface Route {
  calledPrefix: string;
  destSmsc: string;
}

export interface StoreStats {
  total: number;
  /** Not sent, not failed, not expired (ready or backing off). */
  queued: number;
  ready: number;
  backingOff: number;
  inFlight: number;
  sent: number;
  delivered: number;
  failed: number;
  expired: number;
  /** Messages returned for retry at least once, and the total number of PUTs. */
  retried: number;
  retries: number;
  /**
   * deliver_time PATCHes on messages already sent with another carrier id: the message went to a
   * carrier twice.
   */
  duplicateSends: number;
  /**
   * deliver_time PATCHes repeating the report already applied (same carrier id): a report retried
   * after its answer was lost or late. Not a second SMS.
   */
  repeatedReports: number;
  /** GET responses that included a message already in flight. */
  refetches: number;
  /** Messages created through POST /api/messages (MO), and through the test prefix. */
  posted: number;
  enqueued: number;
  receipts: number;
  bySmsc: Record<string, { queued: number; sent: number; failed: number }>;
}

export class ValidationError extends Error {
  constructor(readonly errors: Record<string, string[]>) {
    super('validation failed: ' + Object.keys(errors).join(', '));
  }
}

const REQUIRED = ['source_msisdn', 'destination_msisdn', 'message_body', 'source_smsc'] as const;
const NULL_QUEUE = '\u0000unrouted';
const MINUTE = 60_000;

function timeOf(v: unknown, fallback: number): number {
  if (v === null || v === undefined) return fallback;
  const t = typeof v === 'number' ? v : Date.parse(String(v));
  return Number.isNaN(t) ? fallback : t;
}

export class MessageStore {
  private readonly entries = new Map<number, Entry>();
  /** Pending (deliver_time null, not known expired) entries per queue key, in insertion order. */
  private readonly queues = new Map<string, Map<number, Entry>>();
  private nextId = 1;
  private seq = 0;
  private counters = { posted: 0, enqueued: 0, refetches: 0, duplicateSends: 0, repeatedReports: 0 };
  readonly opts: Required<Omit<StoreOptions, 'routes'>> & { routes: Route[] };

  constructor(opts: StoreOptions = {}) {
    this.opts = {
      backoffScale: opts.backoffScale ?? 1,
      maxAttempts: opts.maxAttempts ?? 10,
      lockMs: opts.lockMs ?? 0,
      pollLimit: opts.pollLimit ?? Number.POSITIVE_INFINITY,
      defaultExpiryMs: opts.defaultExpiryMs ?? 24 * 60 * MINUTE,
      routes: opts.routes ?? [],
      now: opts.now ?? Date.now,
    };
  }

  configure(
    patch: Partial<Pick<StoreOptions, 'backoffScale' | 'maxAttempts' | 'lockMs' | 'pollLimit' | 'routes'>>,
  ): void {
    if (patch.backoffScale !== undefined) this.opts.backoffScale = patch.backoffScale;
    if (patch.maxAttempts !== undefined) this.opts.maxAttempts = patch.maxAttempts;
    if (patch.lockMs !== undefined) this.opts.lockMs = patch.lockMs;
    if (patch.pollLimit !== undefined) this.opts.pollLimit = patch.pollLimit;
    if (patch.routes !== undefined) this.opts.routes = patch.routes;
  }

  clear(): void {
    this.entries.clear();
    this.queues.clear();
    this.counters = { posted: 0, enqueued: 0, refetches: 0, duplicateSends: 0, repeatedReports: 0 };
  }

  get size(): number {
    return this.entries.size;
  }

  /** POST /api/messages (via 'api': MO) or a test enqueue (via 'devcore', the default in process). */
  create(input: Record<string, unknown>, via: 'api' | 'devcore' = 'devcore'): MessageRecord {
    const errors: Record<string, string[]> = {};
    for (const f of REQUIRED) {
      const v = input[f];
      if (typeof v !== 'string' || v === '') errors[f] = ["can't be blank"];
    }
    if (Object.keys(errors).length > 0) throw new ValidationError(errors);
    const now = this.opts.now();
    const { id: _ignored, ...fields } = input;
    const dest =
      typeof fields.dest_smsc === 'string' && fields.dest_smsc !== '' ? fields.dest_smsc : this.route(fields);
    const rec: MessageRecord = {
      ...fields,
      id: this.nextId++,
      dest_smsc: dest,
      deliver_time: fields.deliver_time ?? null,
      deliver_after: fields.deliver_after ?? null,
      delivery_attempts: typeof fields.delivery_attempts === 'number' ? fields.delivery_attempts : 0,
      expires: fields.expires ?? new Date(now + this.opts.defaultExpiryMs).toISOString(),
      inserted_at: new Date(now).toISOString(),
    };
    const e: Entry = {
      rec,
      seq: this.seq++,
      queue: dest,
      deliverAfterMs: timeOf(rec.deliver_after, 0),
      expiresMs: timeOf(rec.expires, now + this.opts.defaultExpiryMs),
      fetches: 0,
      inFlight: false,
      lockedUntil: 0,
      sends: rec.deliver_time === null ? 0 : 1,
      retries: 0,
      receipts: 0,
    };
    this.entries.set(rec.id, e);
    if (rec.deliver_time === null) this.enqueue(e);
    if (via === 'api') this.counters.posted++;
    else this.counters.enqueued++;
    return rec;
  }

  get(id: number): Entry | undefined {
    return this.entries.get(id);
  }

  all(): IterableIterator<Entry> {
    return this.entries.values();
  }

  /**
   * GET /api/messages with `SMSc: name`: messages whose dest_smsc is the header or null,
   * deliver_time null, deliver_after null or past, not expired; oldest first.
   */
  pollFor(smsc: string): MessageRecord[] {
    return this.pollEntries(smsc).map((e) => e.rec);
  }

  /** pollFor as a JSON array, from each record's cached JSON. */
  pollForJson(smsc: string): string {
    const picked = this.pollEntries(smsc);
    let out = '[';
    for (let i = 0; i < picked.length; i++) {
      const e = picked[i] as Entry;
      if (i > 0) out += ',';
      out += e.json ??= JSON.stringify(e.rec);
    }
    return out + ']';
  }

  private pollEntries(smsc: string): Entry[] {
    const now = this.opts.now();
    const picked: Entry[] = [];
    const limit = this.opts.pollLimit;
    const own = this.queues.get(smsc);
    const unrouted = this.queues.get(NULL_QUEUE);
    for (const q of [own, unrouted]) {
      if (q === undefined) continue;
      for (const e of q.values()) {
        if (e.expiresMs <= now) {
          q.delete(e.rec.id); // expired: gone from every queue for good
          e.inFlight = false;
          continue;
        }
        if (e.deliverAfterMs > now || e.lockedUntil > now) continue;
        picked.push(e);
        // Enough from this queue even if all of it came first after the merge.
        if (picked.length >= limit * 2) break;
      }
    }
    if (own !== undefined && unrouted !== undefined && picked.length > 0)
      picked.sort((a, b) => a.seq - b.seq);
    if (picked.length > limit) picked.length = limit;
    for (const e of picked) {
      if (e.inFlight) this.counters.refetches++;
      e.fetches++;
      e.inFlight = true;
      if (this.opts.lockMs > 0) e.lockedUntil = now + this.opts.lockMs;
    }
    return picked;
  }

  /** PATCH /api/messages/{id}: partial update of the given fields. */
  patch(id: number, fields: Record<string, unknown>): MessageRecord | undefined {
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    e.json = undefined;
    const now = this.opts.now();
    const wasSent = e.rec.deliver_time !== null && e.rec.deliver_time !== undefined;
    const carrierIdBefore = e.rec.smsc_message_id;
    for (const [k, v] of Object.entries(fields)) {
      if (k === 'id' || k === 'inserted_at') continue;
      e.rec[k] = v;
    }
    if ('deliver_time' in fields && fields.deliver_time !== null) {
      const sameReport =
        wasSent &&
        typeof fields.smsc_message_id === 'string' &&
        fields.smsc_message_id !== '' &&
        fields.smsc_message_id === carrierIdBefore;
      if (sameReport) this.counters.repeatedReports++;
      else {
        if (wasSent) this.counters.duplicateSends++;
        e.sends++;
      }
    }
    if ('delivered_at' in fields || 'dlr_state' in fields) e.receipts++;
    if ('expires' in fields) e.expiresMs = timeOf(fields.expires, e.expiresMs);
    if ('deliver_after' in fields) e.deliverAfterMs = timeOf(fields.deliver_after, 0);
    const dest = typeof e.rec.dest_smsc === 'string' && e.rec.dest_smsc !== '' ? e.rec.dest_smsc : null;
    e.inFlight = false;
    e.lockedUntil = 0;
    // A message that stays queued keeps its place: the queue is ordered by insertion time.
    if (dest !== e.queue) this.dequeue(e);
    e.queue = dest;
    const pending = (e.rec.deliver_time === null || e.rec.deliver_time === undefined) && e.expiresMs > now;
    if (pending) this.enqueue(e);
    else this.dequeue(e);
    return e.rec;
  }

  /**
   * PUT /api/messages/{id} (and POST .../increment_delivery_attempt): one more attempt and
   * deliver_after = now + 2^attempts minutes (the reference's table: 2, 4, 8, 16 ... min),
   * times backoffScale. Past maxAttempts the message is dead-lettered.
   */
  retry(id: number): MessageRecord | undefined {
    const e = this.entries.get(id);
    if (e === undefined) return undefined;
    e.json = undefined;
    const now = this.opts.now();
    const attempts = (typeof e.rec.delivery_attempts === 'number' ? e.rec.delivery_attempts : 0) + 1;
    e.rec.delivery_attempts = attempts;
    e.retries++;
    e.inFlight = false;
    e.lockedUntil = 0;
    if (attempts >= this.opts.maxAttempts) {
      e.rec.deadletter = true;
      e.rec.status = 'failed';
      e.rec.expires = new Date(now).toISOString();
      e.expiresMs = now;
      this.dequeue(e);
      return e.rec;
    }
    // Capped at 2^30 minutes, where deliver_after is still a valid Date.
    const unit = MINUTE * this.opts.backoffScale;
    const delay = backoffDelay(attempts, unit, 2 ** 30 * unit);
    e.deliverAfterMs = now + delay;
    e.rec.deliver_after = new Date(e.deliverAfterMs).toISOString();
    return e.rec;
  }

  delete(id: number): boolean {
    const e = this.entries.get(id);
    if (e === undefined) return false;
    this.dequeue(e);
    this.entries.delete(id);
    return true;
  }

  /** Everything in the queue without the SMSc header: "all messages, regardless of status". */
  list(): MessageRecord[] {
    return Array.from(this.entries.values(), (e) => e.rec);
  }

  stats(): StoreStats {
    const now = this.opts.now();
    const s: StoreStats = {
      total: this.entries.size,
      queued: 0,
      ready: 0,
      backingOff: 0,
      inFlight: 0,
      sent: 0,
      delivered: 0,
      failed: 0,
      expired: 0,
      retried: 0,
      retries: 0,
      duplicateSends: this.counters.duplicateSends,
      repeatedReports: this.counters.repeatedReports,
      refetches: this.counters.refetches,
      posted: this.counters.posted,
      enqueued: this.counters.enqueued,
      receipts: 0,
      bySmsc: {},
    };
    for (const e of this.entries.values()) {
      const key = e.queue ?? '';
      const per = (s.bySmsc[key] ??= { queued: 0, sent: 0, failed: 0 });
      const failed = e.rec.deadletter === true || e.rec.status === 'failed';
      const sent = e.rec.deliver_time !== null && e.rec.deliver_time !== undefined;
      if (e.retries > 0) s.retried++;
      s.retries += e.retries;
      s.receipts += e.receipts;
      if (e.rec.status === 'delivered' || e.rec.status === 'entregue') s.delivered++;
      if (failed) {
        s.failed++;
        per.failed++;
      } else if (sent) {
        s.sent++;
        per.sent++;
      } else if (e.expiresMs <= now) {
        s.expired++;
      } else {
        s.queued++;
        per.queued++;
        if (e.inFlight) s.inFlight++;
        if (e.deliverAfterMs > now) s.backingOff++;
        else s.ready++;
      }
    }
    return s;
  }

  private route(fields: Record<string, unknown>): string | null {
    const called = typeof fields.destination_msisdn === 'string' ? fields.destination_msisdn : '';
    let best: Route | undefined;
    for (const r of this.opts.routes) {
      if (
        called.startsWith(r.calledPrefix) &&
        (best === undefined || r.calledPrefix.length > best.calledPrefix.length)
      )
        best = r;
    }
    return best?.destSmsc ?? null;
  }

  private enqueue(e: Entry): void {
    const key = e.queue ?? NULL_QUEUE;
    let q = this.queues.get(key);
    if (q === undefined) {
      q = new Map();
      this.queues.set(key, q);
    }
    q.set(e.rec.id, e);
  }

  private dequeue(e: Entry): void {
    this.queues.get(e.queue ?? NULL_QUEUE)?.delete(e.rec.id);
  }
}
