/**
 * Tells an informer's echo of our own status write from a change someone else made.
 *
 * Every status write comes back through the watch as an update. Reconciling it changes nothing
 * (the status is what this process just computed), yet in a failover's burst those reconciles
 * are hundreds of turns of the survivor's CPU, which shares the machine with the API server
 * answering the writes that bound the failover's time. An update is our echo when its
 * resourceVersion is the one our write's response carried, and nothing but the status (and
 * resourceVersion, managedFields) differs from the copy before it: after a relist an update can
 * collapse several changes into one, so a spec, label, annotation, finalizer or deletion change
 * beside our write still counts as a change.
 */
import { isDeepStrictEqual } from 'node:util';

export interface EchoMeta {
  resourceVersion?: string;
  generation?: number;
  deletionTimestamp?: unknown;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function sameButStatus(a: EchoMeta, b: EchoMeta): boolean {
  return (
    a.generation === b.generation &&
    String(a.deletionTimestamp ?? '') === String(b.deletionTimestamp ?? '') &&
    isDeepStrictEqual(a.finalizers ?? [], b.finalizers ?? []) &&
    isDeepStrictEqual(a.labels ?? {}, b.labels ?? {}) &&
    isDeepStrictEqual(a.annotations ?? {}, b.annotations ?? {})
  );
}

export class OwnStatusWrites {
  /** object key → resourceVersion our last status write of it stored */
  private readonly written = new Map<string, string>();

  record(key: string, resourceVersion: string | undefined): void {
    if (resourceVersion) this.written.set(key, resourceVersion);
  }

  /** True (once) when the update from `old` to `obj` is only our own last status write. */
  isEcho(key: string, obj: EchoMeta, old: EchoMeta | undefined): boolean {
    const rv = this.written.get(key);
    if (rv === undefined || obj.resourceVersion !== rv) return false;
    this.written.delete(key);
    return old !== undefined && sameButStatus(obj, old);
  }

  forget(key: string): void {
    this.written.delete(key);
  }

  get size(): number {
    return this.written.size;
  }
}
