/**
 * Writes a custom resource's status, only through the status subresource, only when it changes.
 *
 * The caller gives a function from the current status to the desired one (so it can keep
 * condition lastTransitionTimes and merge other pods' entries). The writer replaces the status
 * (PUT of the status subresource), guarded by the resourceVersion it was computed from: if the
 * object changed meanwhile the server answers 409 and the writer re-reads and recomputes, so a
 * status is never derived from a stale view, and an unchanged status costs no write at all.
 *
 * The body carries only apiVersion, kind, name, namespace, resourceVersion and the status: a PUT
 * of /status ignores everything but the status and keeps the stored spec, metadata and
 * managedFields. It costs the API server less than a merge patch, which it must apply to the
 * whole stored object first (`test/bench/status-writes.ts --verb patch,put`: 1.08x the rate, the
 * writes of a failover being what bounds its time).
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../log.js';
import { httpStatusOf, objectPath, requestJson } from './http.js';

export interface StatusTarget {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespace: string;
  name: string;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type StatusObject = Record<string, unknown>;

export interface StatusResource {
  metadata?: { resourceVersion?: string; generation?: number };
  status?: StatusObject;
}

export type WriteOutcome = 'written' | 'unchanged' | 'gone';

/**
 * After 409 Conflict: 'recompute' re-reads the object and runs `desired` again (a status
 * several writers merge into); 'drop' gives up and resolves 'conflict' (a status computed from
 * a view that is now stale: the caller's level-triggered reconcile sees the change and computes
 * a new one, instead of this writer pushing an old answer onto a newer object).
 */
export type ConflictPolicy = 'recompute' | 'drop';

export interface WriteResult {
  outcome: WriteOutcome | 'conflict';
  /** the object as the server stored it, after a write */
  object?: StatusResource;
}

export interface StatusWriterOptions {
  /** re-read-and-retry rounds after 409 Conflict; default 5 */
  maxConflictRetries?: number;
}

function statusPath(t: StatusTarget): string {
  return objectPath(`${t.group}/${t.version}`, t.plural, t.namespace, t.name, 'status');
}

function normalize(v: unknown): Json {
  // Dates and other objects with toJSON become what the server would store.
  return JSON.parse(JSON.stringify(v ?? null)) as Json;
}

export class StatusWriter {
  private readonly kc: KubeConfig;
  private readonly maxRetries: number;
  /** counters for metrics/tests */
  readonly stats = { writes: 0, skipped: 0, conflicts: 0 };

  constructor(
    /** requests go over its kept-alive connections (src/kube/http.ts) */
    kc: KubeConfig,
    private readonly log: Logger,
    opts: StatusWriterOptions = {},
  ) {
    this.kc = kc;
    this.maxRetries = opts.maxConflictRetries ?? 5;
  }

  /**
   * Computes and writes the status. `current` (e.g. the informer's copy) saves the first read;
   * after a conflict the object is read fresh. Resolves 'gone' if the object no longer exists.
   */
  async update(
    target: StatusTarget,
    desired: (current: StatusObject | undefined, obj: StatusResource) => StatusObject,
    current?: StatusResource,
  ): Promise<WriteOutcome> {
    const r = await this.write(target, desired, current, 'recompute');
    // 'recompute' never gives up on a conflict without throwing.
    return r.outcome === 'conflict' ? 'unchanged' : r.outcome;
  }

  /** As update(), with the conflict policy chosen and the stored object returned after a write. */
  async write(
    target: StatusTarget,
    desired: (current: StatusObject | undefined, obj: StatusResource) => StatusObject,
    current: StatusResource | undefined,
    onConflict: ConflictPolicy,
  ): Promise<WriteResult> {
    let obj = current;
    for (let attempt = 0; ; attempt++) {
      if (!obj) {
        try {
          obj = await requestJson<StatusResource>(this.kc, 'GET', statusPath(target));
        } catch (err) {
          if (httpStatusOf(err) === 404) return { outcome: 'gone' };
          throw err;
        }
      }
      const want = normalize(desired(obj.status, obj));
      const have = normalize(obj.status ?? {});
      if (isDeepStrictEqual(have, want)) {
        this.stats.skipped++;
        return { outcome: 'unchanged' };
      }
      try {
        const stored = await requestJson<StatusResource | undefined>(this.kc, 'PUT', statusPath(target), {
          body: {
            apiVersion: `${target.group}/${target.version}`,
            kind: target.kind,
            metadata: {
              name: target.name,
              namespace: target.namespace,
              resourceVersion: obj.metadata?.resourceVersion,
            },
            status: want,
          },
        });
        this.stats.writes++;
        return stored ? { outcome: 'written', object: stored } : { outcome: 'written' };
      } catch (err) {
        const code = httpStatusOf(err);
        if (code === 404) return { outcome: 'gone' };
        if (code !== 409) throw err;
        this.stats.conflicts++;
        if (onConflict === 'drop') return { outcome: 'conflict' };
        if (attempt >= this.maxRetries) throw err;
        this.log.debug(
          { namespace: target.namespace, bind: target.name, attempt },
          'status conflict; re-reading',
        );
        obj = undefined;
      }
    }
  }
}
