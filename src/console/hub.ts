/**
 * The live table behind every open page: rows from the source, counters merged in, and for
 * each change only the rows that changed, pushed as server-sent events. It works only while
 * someone watches: with no page open nothing is gathered.
 */
import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import type { BindCounters, BindRow, ConsoleMeta, ConsoleSource } from './types.js';

export interface CounterSnapshot {
  byKey: ReadonlyMap<string, BindCounters>;
  /** Pods whose counters could not be read (shown on the page). */
  unreachable: string[];
}

export interface HubOptions {
  source: ConsoleSource;
  counters: () => Promise<CounterSnapshot>;
  /** how often counters are gathered while a page is open; default 1000 ms */
  countersEveryMs?: number;
  /** a burst of changes is sent once, after this; default 50 ms */
  debounceMs?: number;
  log: Logger;
}

export interface UpdateMessage {
  upsert: BindRow[];
  remove: string[];
}

export class ConsoleHub {
  private readonly clients = new Set<ServerResponse>();
  private readonly sent = new Map<string, string>();
  private rows = new Map<string, BindRow>();
  private counters: CounterSnapshot = { byKey: new Map(), unreachable: [] };
  private metaJson = '';
  private debounce: NodeJS.Timeout | undefined;
  private counterTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private gathering: Promise<void> | undefined;
  private gatheredAt = 0;
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly o: HubOptions) {}

  /** The table as it is now, for a new page or `GET /api/v1/binds`. */
  snapshot(): { meta: ConsoleMeta; binds: BindRow[] } {
    this.recompute();
    return { meta: this.meta(), binds: [...this.rows.values()] };
  }

  private meta(): ConsoleMeta {
    const m = this.o.source.meta();
    if (m.mode === 'cluster') m.unreachablePods = this.counters.unreachable;
    return m;
  }

  /** Refreshes counters now (e.g. for the JSON snapshot when no page is open). */
  refreshCounters(): Promise<void> {
    this.gathering ??= (async () => {
      try {
        this.counters = await this.o.counters();
        this.gatheredAt = Date.now();
      } catch (err) {
        this.o.log.warn({ err }, 'console: gathering counters failed');
      } finally {
        this.gathering = undefined;
      }
    })();
    return this.gathering;
  }

  /**
   * The table for a page being sent: counters no older than one gathering interval (an open
   * page keeps them fresh; otherwise they are gathered now). The page waits for them at most
   * 300 ms: a pod that does not answer (1.5 s timeout) must not hold up the page, whose live
   * feed brings the counters once they are in.
   */
  async pageSnapshot(): Promise<{ meta: ConsoleMeta; binds: BindRow[] }> {
    if (Date.now() - this.gatheredAt > (this.o.countersEveryMs ?? 1000)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.refreshCounters(), new Promise<void>((r) => (timer = setTimeout(r, 300)))]);
      clearTimeout(timer);
    }
    return this.snapshot();
  }

  /** Adds an SSE client: a full snapshot first, then changes. */
  attach(res: ServerResponse): void {
    if (this.closed) {
      res.end();
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      // Ingress controllers (nginx) buffer responses unless told not to.
      'x-accel-buffering': 'no',
    });
    // Pages already open get what changed first, so the table the new page starts from is the
    // one every page has.
    this.push();
    const snap = { meta: this.meta(), binds: [...this.rows.values()] };
    res.write(`retry: 2000\nevent: snapshot\ndata: ${JSON.stringify(snap)}\n\n`);
    this.clients.add(res);
    res.on('close', () => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.idle();
    });
    if (this.clients.size === 1) this.wake();
  }

  private wake(): void {
    this.unsubscribe = this.o.source.onChange(() => this.soon());
    const every = this.o.countersEveryMs ?? 1000;
    const tick = (): void => {
      void this.refreshCounters().then(() => this.soon());
    };
    tick();
    this.counterTimer = setInterval(tick, every);
    this.counterTimer.unref();
    this.pingTimer = setInterval(() => {
      for (const c of this.clients) c.write(': ping\n\n');
    }, 15_000);
    this.pingTimer.unref();
  }

  private idle(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    if (this.counterTimer) clearInterval(this.counterTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.debounce) clearTimeout(this.debounce);
    this.counterTimer = this.pingTimer = this.debounce = undefined;
  }

  private soon(): void {
    if (this.debounce || this.clients.size === 0) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.push();
    }, this.o.debounceMs ?? 50);
  }

  private recompute(): void {
    const next = new Map<string, BindRow>();
    for (const r of this.o.source.rows()) {
      const c = this.counters.byKey.get(r.key);
      if (c !== undefined) r.counters = c;
      next.set(r.key, r);
    }
    this.rows = next;
  }

  /** Sends what changed since the last push to every page. */
  private push(): void {
    try {
      this.recompute();
    } catch (err) {
      this.o.log.error({ err }, 'console: building rows failed');
      return;
    }
    const upsert: BindRow[] = [];
    for (const [key, r] of this.rows) {
      const json = JSON.stringify(r);
      if (this.sent.get(key) !== json) {
        this.sent.set(key, json);
        upsert.push(r);
      }
    }
    const remove: string[] = [];
    for (const key of this.sent.keys()) if (!this.rows.has(key)) remove.push(key);
    for (const key of remove) this.sent.delete(key);
    let frames = '';
    const meta = JSON.stringify(this.meta());
    if (meta !== this.metaJson) {
      this.metaJson = meta;
      frames += `event: meta\ndata: ${meta}\n\n`;
    }
    if (upsert.length > 0 || remove.length > 0) {
      const msg: UpdateMessage = { upsert, remove };
      frames += `event: update\ndata: ${JSON.stringify(msg)}\n\n`;
    }
    if (frames !== '') for (const c of this.clients) c.write(frames);
  }

  close(): void {
    this.closed = true;
    this.idle();
    for (const c of this.clients) c.end();
    this.clients.clear();
  }
}
