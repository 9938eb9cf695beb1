/**
 * What controller.ts needs from the Kubernetes plumbing of src/kube/. Kept as interfaces so the
 * wiring reads as a data flow (watch → store → queue → reconcile) and adapters stay small.
 */
import type { KubernetesObject } from '@kubernetes/client-node';

export type WatchEventType = 'add' | 'update' | 'delete';

/** A watched, cached collection (reflector + store). */
export interface WatchedStore<T extends KubernetesObject> {
  start(): Promise<void>;
  stop(): Promise<void> | void;
  list(): T[];
  get(namespace: string, name: string): T | undefined;
  /** every add/update/delete, including those replayed by a relist */
  onChange(cb: (type: WatchEventType, obj: T) => void): void;
  /** true once the initial list has been loaded */
  synced(): boolean;
}

/** A work queue of string keys: deduped while waiting, one worker per key at a time. */
export interface KeyQueue {
  add(key: string): void;
  addAfter(key: string, delayMs: number): void;
  /** exponential backoff per key (reset by forget) */
  addRateLimited(key: string): void;
  forget(key: string): void;
  /** next key, or undefined after shutdown */
  get(): Promise<string | undefined>;
  done(key: string): void;
  shutdown(): void;
  readonly length: number;
}

/** One coordination.k8s.io Lease held by this process, renewed until released or lost. */
export interface HeldLease {
  /** resolves when released; no-op if already lost */
  release(): Promise<void>;
  readonly held: boolean;
}

export interface LeaseClaim {
  namespace: string;
  name: string;
  holder: string;
  durationMs: number;
  labels?: Record<string, string>;
  /** called once if renewal fails long enough that the Lease may expire: stop acting as owner */
  onLost: (reason: string) => void;
}

export interface LeaseClaimer {
  /** the held Lease, or undefined when another holder's Lease is still fresh */
  tryAcquire(claim: LeaseClaim): Promise<HeldLease | undefined>;
}

export interface EventRecorder {
  emit(input: {
    regarding: { apiVersion: string; kind: string; namespace: string; name: string; uid?: string };
    type: 'Normal' | 'Warning';
    reason: string;
    message: string;
  }): void;
}
