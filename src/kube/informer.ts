/**
 * List + watch with a local store, that keeps itself up to date through anything the API server
 * does: a watch that ends is resumed from the last resourceVersion; 410 Gone (history compacted,
 * watch cache too young after an API server restart) triggers a relist whose differences are
 * delivered as add/update/delete; any other error is retried with exponential backoff, forever,
 * until stop(). The client library's own informer stops on most errors, hence this module.
 *
 * Scope: all namespaces (one cluster-wide stream) or a list of namespaces (one stream each).
 */
import { EventEmitter } from 'node:events';
import { Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { collectionPath, getJson, httpStatusOf } from './http.js';
import { backoffDelay } from '../backoff.js';

export interface ResourceRef {
  /** `v1` for core resources, `group/version` otherwise */
  apiVersion: string;
  /** e.g. `secrets`, `smppclientbinds` */
  plural: string;
}

export interface InformerOptions<T extends KubernetesObject = KubernetesObject> {
  resource: ResourceRef;
  /** undefined or empty: all namespaces; otherwise watch only these */
  namespaces?: readonly string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** retry delays after errors: initialMs doubling up to maxMs (defaults 500 ms, 30 s) */
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * Server-side watch timeout. The client library aborts a watch silent for 30 s, so this stays
   * below that and a quiet watch ends cleanly and is resumed. Default 25.
   */
  watchTimeoutSeconds?: number;
  /** list page size; default 500 */
  pageSize?: number;
  /**
   * Applied to every object before it is stored (listed or watched). Default: drops
   * `metadata.managedFields`, which nothing here reads and which is often the larger part of a
   * small object (at 10,000 binds, megabytes of server-side-apply bookkeeping kept for nothing).
   */
  transform?: (obj: T) => T;
}

/** The default transform: an object without its managedFields. */
function dropManagedFields<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields !== undefined) delete obj.metadata.managedFields;
  return obj;
}

export interface InformerStats {
  lists: number;
  /** relists caused by 410 Gone */
  relists: number;
  watches: number;
  /** watch events received (including bookmarks) */
  events: number;
  errors: number;
}

interface ListBody<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

interface WatchStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

type WatchEnd = { kind: 'closed' } | { kind: 'gone'; message: string } | { kind: 'error'; error: unknown };

interface Stream {
  namespace: string | undefined;
  rv: string | undefined;
  synced: boolean;
  /** list/watch failures in a row (the retry delay's exponent) */
  failures: number;
  abort: AbortController | undefined;
  wake: (() => void) | undefined;
}

export function objectKey(obj: KubernetesObject): string {
  return `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
}

/**
 * Events (handlers must not throw; if they do it is logged and ignored):
 * - 'add' (obj), 'update' (obj, old), 'delete' (lastKnown)
 * - 'synced' () once every stream has completed its first list
 * - 'relist' ({ namespace, reason }) when a 410 forced a new list
 * - 'watchError' ({ namespace, error, retryInMs })
 */
export class Informer<T extends KubernetesObject = KubernetesObject> extends EventEmitter {
  private readonly store = new Map<string, T>();
  private readonly streams: Stream[];
  private readonly watch: Watch;
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly watchTimeoutSeconds: number;
  private readonly pageSize: number;
  private readonly transform: (obj: T) => T;
  private running: Promise<void>[] = [];
  private stopped = true;
  private syncedEmitted = false;
  private syncWaiters: (() => void)[] = [];
  readonly stats: InformerStats = { lists: 0, relists: 0, watches: 0, events: 0, errors: 0 };

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: InformerOptions<T>,
    private readonly log: Logger,
  ) {
    super();
    const namespaces =
      opts.namespaces && opts.namespaces.length > 0 ? [...new Set(opts.namespaces)] : [undefined];
    this.streams = namespaces.map((namespace) => ({
      namespace,
      rv: undefined,
      synced: false,
      failures: 0,
      abort: undefined,
      wake: undefined,
    }));
    this.watch = new Watch(kc);
    this.initialMs = opts.backoff?.initialMs ?? 500;
    this.maxMs = opts.backoff?.maxMs ?? 30_000;
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds ?? 25;
    this.pageSize = opts.pageSize ?? 500;
    this.transform = opts.transform ?? dropManagedFields;
  }

  /** Objects in the store. */
  get size(): number {
    return this.store.size;
  }

  /** Starts every stream; resolves at once (use waitForSync() for the first full list). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.running = this.streams.map((s) => this.run(s));
  }

  /** Stops watching; the store keeps its last contents. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.streams) {
      s.abort?.abort();
      s.wake?.();
    }
    await Promise.all(this.running);
    this.running = [];
  }

  hasSynced(): boolean {
    return this.streams.every((s) => s.synced);
  }

  /** Resolves once every stream has listed successfully at least once. */
  waitForSync(): Promise<void> {
    if (this.hasSynced()) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  get(name: string, namespace?: string): T | undefined {
    return this.store.get(`${namespace ?? ''}/${name}`);
  }

  list(namespace?: string): T[] {
    const all = [...this.store.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  /** The resourceVersion each stream resumes from ('' before its first list). */
  resourceVersions(): Record<string, string> {
    return Object.fromEntries(this.streams.map((s) => [s.namespace ?? '*', s.rv ?? '']));
  }

  private async run(s: Stream): Promise<void> {
    while (!this.stopped) {
      if (s.rv === undefined) {
        try {
          await this.relist(s);
          s.failures = 0;
        } catch (error) {
          await this.failed(s, error, 'list');
          continue;
        }
      }
      if (this.stopped) break;
      const startedAt = Date.now();
      const before = this.stats.events;
      const end = await this.watchOnce(s);
      if (this.stopped) break;
      if (end.kind === 'closed' && this.stats.events === before && Date.now() - startedAt < 1000) {
        // A server that ends watches at once (proxy, overload) must not make us spin.
        await this.failed(s, new Error('watch closed immediately'), 'watch');
        continue;
      }
      if (end.kind === 'gone') {
        this.stats.relists++;
        this.log.info(
          { namespace: s.namespace, resource: this.opts.resource.plural, reason: end.message },
          'watch history gone (410); relisting',
        );
        this.safeEmit('relist', { namespace: s.namespace, reason: end.message });
        s.rv = undefined;
      } else if (end.kind === 'error') {
        await this.failed(s, end.error, 'watch');
      }
      // 'closed': the server's timeout or an idle abort; resume from s.rv at once.
    }
  }

  private async failed(s: Stream, error: unknown, op: 'list' | 'watch'): Promise<void> {
    this.stats.errors++;
    const delay = backoffDelay(s.failures++, this.initialMs, this.maxMs);
    // Jitter spreads the reconnects of many informers after an API server restart.
    const wait = Math.round(delay * (0.8 + Math.random() * 0.4));
    this.log.warn(
      {
        namespace: s.namespace,
        resource: this.opts.resource.plural,
        op,
        status: httpStatusOf(error),
        err: error,
        retryInMs: wait,
      },
      `${op} failed; retrying`,
    );
    this.safeEmit('watchError', { namespace: s.namespace, error, retryInMs: wait });
    await this.sleep(s, wait);
  }

  private sleep(s: Stream, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        s.wake = undefined;
        resolve();
      }
      s.wake = done;
    });
  }

  private async relist(s: Stream): Promise<void> {
    const { apiVersion, plural } = this.opts.resource;
    const path = collectionPath(apiVersion, plural, s.namespace);
    const items: T[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await getJson<ListBody<T>>(this.kc, path, {
        labelSelector: this.opts.labelSelector,
        fieldSelector: this.opts.fieldSelector,
        limit: this.pageSize,
        continue: cont,
      });
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion;
    } while (cont);
    this.stats.lists++;
    // Items of a list carry no apiVersion/kind; restore them so consumers see whole objects.
    const kind = listKind(items);
    for (const it of items) {
      it.apiVersion ??= apiVersion;
      if (kind && !it.kind) it.kind = kind;
    }
    this.replace(s.namespace, items.map(this.transform));
    s.rv = rv ?? '';
    if (!s.synced) {
      s.synced = true;
      if (this.hasSynced() && !this.syncedEmitted) {
        this.syncedEmitted = true;
        for (const w of this.syncWaiters.splice(0)) w();
        this.safeEmit('synced');
      }
    }
  }

  /** Makes the store's slice of this stream equal `items`, emitting the differences. */
  private replace(namespace: string | undefined, items: T[]): void {
    const fresh = new Map(items.map((o) => [objectKey(o), o]));
    for (const [key, old] of this.store) {
      if (namespace !== undefined && old.metadata?.namespace !== namespace) continue;
      if (!fresh.has(key)) {
        this.store.delete(key);
        this.safeEmit('delete', old);
      }
    }
    for (const [key, obj] of fresh) this.upsert(key, obj);
  }

  private upsert(key: string, obj: T): void {
    const old = this.store.get(key);
    this.store.set(key, obj);
    if (!old) this.safeEmit('add', obj);
    else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion)
      this.safeEmit('update', obj, old);
  }

  private watchOnce(s: Stream): Promise<WatchEnd> {
    const { apiVersion, plural } = this.opts.resource;
    const path = collectionPath(apiVersion, plural, s.namespace);
    return new Promise<WatchEnd>((resolve) => {
      let gone: string | undefined;
      let ended = false;
      const finish = (end: WatchEnd): void => {
        if (ended) return;
        ended = true;
        s.abort = undefined;
        resolve(end);
      };
      const abort = new AbortController();
      s.abort = abort;
      this.stats.watches++;
      const onEvent = (type: string, obj: T & WatchStatus): void => {
        if (ended) return;
        this.stats.events++;
        switch (type) {
          case 'ADDED':
          case 'MODIFIED':
            if (!obj.apiVersion) obj.apiVersion = apiVersion;
            this.upsert(objectKey(obj), this.transform(obj));
            s.rv = obj.metadata?.resourceVersion ?? s.rv;
            s.failures = 0;
            break;
          case 'DELETED': {
            const key = objectKey(obj);
            const known = this.store.get(key);
            this.store.delete(key);
            s.rv = obj.metadata?.resourceVersion ?? s.rv;
            s.failures = 0;
            this.safeEmit('delete', known ?? this.transform(obj));
            break;
          }
          case 'BOOKMARK':
            s.rv = obj.metadata?.resourceVersion ?? s.rv;
            break;
          case 'ERROR':
            if (obj.code === 410) gone = obj.message ?? 'Gone';
            else
              finish({ kind: 'error', error: Object.assign(new Error(obj.message ?? 'watch error'), obj) });
            abort.abort();
            break;
        }
      };
      const onDone = (err: unknown): void => {
        if (gone !== undefined) return finish({ kind: 'gone', message: gone });
        if (this.stopped) return finish({ kind: 'closed' });
        if (err === null || err === undefined) return finish({ kind: 'closed' });
        if (httpStatusOf(err) === 410) return finish({ kind: 'gone', message: errorMessage(err) });
        if (err instanceof Error && err.name === 'TimeoutError') return finish({ kind: 'closed' });
        finish({ kind: 'error', error: err });
      };
      this.watch
        .watch(
          path,
          {
            resourceVersion: s.rv,
            allowWatchBookmarks: true,
            timeoutSeconds: this.watchTimeoutSeconds,
            labelSelector: this.opts.labelSelector,
            fieldSelector: this.opts.fieldSelector,
          },
          (type: string, obj: T & WatchStatus) => onEvent(type, obj),
          onDone,
        )
        .then(
          (ctl) => {
            // stop() may have come while connecting; the library's controller is the real one.
            if (ended || this.stopped) ctl.abort();
            else abort.signal.addEventListener('abort', () => ctl.abort(), { once: true });
          },
          (err: unknown) => finish({ kind: 'error', error: err }),
        );
    });
  }

  private safeEmit(event: string, ...args: unknown[]): void {
    try {
      this.emit(event, ...args);
    } catch (err) {
      this.log.error({ event, err, resource: this.opts.resource.plural }, 'informer handler threw');
    }
  }
}

function listKind(items: KubernetesObject[]): string | undefined {
  return items.find((i) => i.kind)?.kind;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
