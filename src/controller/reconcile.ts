/**
 * reconcile(key, object) → Action, for both bind kinds. Level-triggered and idempotent: every
 * call recomputes what should be from the stores (object, Secrets, live pods, Lease held) and
 * nudges the world towards it, so a missed or repeated event never matters and a periodic
 * resync repairs anything. Side effects go through small ports so the logic stays testable and
 * the Kubernetes plumbing stays in controller.ts.
 */
import type { Logger } from '../log.js';
import type {
  BindKind,
  ClientBindStatusShape,
  ResolvedClientBind,
  ResolvedServerBind,
  RuntimeStatus,
  ServerBindStatusShape,
  SmppClientBind,
  SmppServerBind,
} from './contracts.js';
import { FINALIZER } from './contracts.js';
import { smscNameOf } from '../api/index.js';
import {
  isDeleting,
  resolveClientBind,
  resolveServerBind,
  type ResolutionError,
  type SecretLookup,
} from './desired-state.js';
import { clientStatus, findCondition, sameStatus, serverStatus } from './status.js';

/** What to do after a reconcile, as kube-runtime's Action: wait for a change, or look again later. */
export interface Action {
  requeueAfterMs?: number;
}

export type EventType = 'Normal' | 'Warning';

export interface EventSink {
  emit(
    obj: SmppClientBind | SmppServerBind,
    kind: BindKind,
    type: EventType,
    reason: string,
    message: string,
  ): void;
}

/** Which groups of client binds (by smscName) this pod runs: the shard claims it holds. */
export interface GroupOwnership {
  /** this pod holds the shard of this smscName and may run its binds now */
  runs(smscName: string): boolean;
  /** this pod is the shard's preferred pod (it takes the shard soon if it does not hold it) */
  prefers(smscName: string): boolean;
}

/** The runtime this pod runs: what the Gateway should have, and what it reports. */
export interface RuntimePort {
  /** true when this changed what the Gateway runs for the key */
  setClient(key: string, bind: ResolvedClientBind | undefined): boolean | void;
  setServer(key: string, bind: ResolvedServerBind | undefined): void;
  status(namespace: string, name: string, kind: BindKind): RuntimeStatus | undefined;
  /** resolves once the client session is down (or after timeoutMs) */
  clientStopped(namespace: string, name: string, timeoutMs: number): Promise<void>;
}

/** Writes to the API server. Status only through the status subresource. */
export interface ObjectWriter {
  /** resolves with the object's new resourceVersion when the server answered with one */
  addFinalizer(kind: BindKind, obj: SmppClientBind | SmppServerBind): Promise<string | undefined | void>;
  removeFinalizer(kind: BindKind, obj: SmppClientBind | SmppServerBind): Promise<void>;
  writeClientStatus(obj: SmppClientBind, status: ClientBindStatusShape): Promise<void>;
  /** compute is re-run against the freshest object on a 409 conflict */
  writeServerStatus(
    obj: SmppServerBind,
    compute: (current: ServerBindStatusShape | undefined) => ServerBindStatusShape,
  ): Promise<void>;
}

export interface ReconcileDeps {
  self: string;
  log: Logger;
  secrets: SecretLookup;
  livePods(): string[];
  preferredOwner(key: string, livePods: string[]): string | undefined;
  groups: GroupOwnership;
  runtime: RuntimePort;
  writer: ObjectWriter;
  events: EventSink;
  /** how soon to look again while the bind's shard is still held by another pod */
  acquireRetryMs: number;
  /** no more than one status write per bind within this window */
  statusMinIntervalMs: number;
  /**
   * A session just handed to the Gateway is usually Bound within milliseconds: its transitional
   * Pending/Connecting status is written only if it lasts this long (saves two writes per bind).
   */
  settleMs?: number;
  /** how long to wait for a clean unbind before going on anyway */
  unbindTimeoutMs: number;
  /** a server-bind session entry of a pod not seen live is kept this long (membership lag) */
  pruneGraceMs?: number;
  now?: () => Date;
  onReconcile?: (kind: BindKind, outcome: 'ok' | 'error') => void;
}

interface Memory {
  fingerprint?: string;
  phase?: string;
  lastError?: string;
  resolutionMessage?: string;
  lastWriteAt?: number;
  handedAt?: number;
  /** the object (uid) and resourceVersion our finalizer patch produced */
  finalizerAdded?: { uid: string; rv: string };
}

/** a is an older resourceVersion than b (etcd's are increasing integers; anything else: not older) */
function olderRv(a: string | undefined, b: string): boolean {
  const x = Number(a);
  const y = Number(b);
  return Number.isFinite(x) && Number.isFinite(y) && x < y;
}

function hasFinalizer(obj: { metadata: { finalizers?: string[] } }): boolean {
  return obj.metadata.finalizers?.includes(FINALIZER) ?? false;
}

export class Reconciler {
  private readonly memory = new Map<string, Memory>();
  /** uids of deleted binds whose finalizer this pod removed (until the object is gone from the cache) */
  private readonly finalized = new Set<string>();
  private readonly finalizedKeys = new Map<string, string[]>();
  private readonly now: () => Date;

  constructor(private readonly d: ReconcileDeps) {
    this.now = d.now ?? (() => new Date());
  }

  private mem(kindKey: string): Memory {
    let m = this.memory.get(kindKey);
    if (!m) {
      m = {};
      this.memory.set(kindKey, m);
    }
    return m;
  }

  private writeWindow(m: Memory): number {
    if (m.lastWriteAt === undefined) return 0;
    return Math.max(0, m.lastWriteAt + this.d.statusMinIntervalMs - this.now().getTime());
  }

  async reconcileClient(key: string, current: SmppClientBind | undefined): Promise<Action> {
    let obj = current;
    const d = this.d;
    const memKey = `c/${key}`;
    if (!obj) {
      // Gone from the API server (finalizer already removed, or removed by force).
      d.runtime.setClient(key, undefined);
      this.memory.delete(memKey);
      for (const uid of this.finalizedKeys.get(key) ?? []) this.finalized.delete(uid);
      this.finalizedKeys.delete(key);
      return {};
    }
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name;
    const smsc = smscNameOf(obj);
    const runs = d.groups.runs(smsc);

    if (isDeleting(obj)) {
      if (!hasFinalizer(obj)) {
        d.runtime.setClient(key, undefined);
        return {};
      }
      // Our finalizer is already gone; this is a stale copy from the cache: nothing to do.
      if (this.finalized.has(obj.metadata.uid ?? key)) return {};
      // The shard's holder cleans up, so a session still running somewhere can never outlive
      // the finalizer; the preferred pod that does not hold it yet looks again soon.
      if (!runs) {
        d.runtime.setClient(key, undefined);
        return d.groups.prefers(smsc) ? { requeueAfterMs: d.acquireRetryMs } : {};
      }
      d.runtime.setClient(key, undefined);
      await d.runtime.clientStopped(ns, name, d.unbindTimeoutMs);
      await d.writer.removeFinalizer('SmppClientBind', obj);
      this.finalized.add(obj.metadata.uid ?? key);
      this.finalizedKeys.set(key, [...(this.finalizedKeys.get(key) ?? []), obj.metadata.uid ?? key]);
      d.log.info({ namespace: ns, bind: name }, 'client bind deleted: session unbound');
      this.memory.delete(memKey);
      return {};
    }

    if (!runs) {
      // Another pod runs this group (or will, once it holds the shard): the shard's own
      // reconcile wakes this bind when that changes here.
      d.runtime.setClient(key, undefined);
      return {};
    }

    // From here this pod holds the shard and runs (or deliberately does not run) the session.
    const m = this.mem(memKey);
    if (!hasFinalizer(obj)) {
      const uid = obj.metadata.uid ?? '';
      const ours = m.finalizerAdded;
      // Our own finalizer patch not yet in the cache (a reconcile right after it): patching again
      // from this older copy would only fail its resourceVersion precondition and back off.
      const cached = ours !== undefined && ours.uid === uid && olderRv(obj.metadata.resourceVersion, ours.rv);
      const rv = cached ? ours.rv : await d.writer.addFinalizer('SmppClientBind', obj);
      // Carry the new resourceVersion so the status write below does not conflict with our own patch.
      if (typeof rv === 'string') {
        if (!cached) m.finalizerAdded = { uid, rv };
        obj = {
          ...obj,
          metadata: {
            ...obj.metadata,
            resourceVersion: rv,
            finalizers: [...(obj.metadata.finalizers ?? []), FINALIZER],
          },
        };
      }
    }

    const suspended = obj.spec.suspend === true;
    let resolutionError: ResolutionError | undefined;
    if (suspended) {
      d.runtime.setClient(key, undefined);
    } else {
      const r = resolveClientBind(obj, d.secrets);
      if (r.ok) {
        if (m.fingerprint !== undefined && m.fingerprint !== r.fingerprint) {
          d.events.emit(obj, 'SmppClientBind', 'Normal', 'SecretRotated', 'credentials changed: rebinding');
        }
        m.fingerprint = r.fingerprint;
        m.resolutionMessage = undefined;
        if (d.runtime.setClient(key, r.value) === true) m.handedAt = this.now().getTime();
      } else {
        resolutionError = r.error;
        d.runtime.setClient(key, undefined);
        if (m.resolutionMessage !== r.error.message) {
          m.resolutionMessage = r.error.message;
          d.events.emit(obj, 'SmppClientBind', 'Warning', r.error.reason, r.error.message);
        }
      }
    }

    const runtime = suspended || resolutionError ? undefined : d.runtime.status(ns, name, 'SmppClientBind');
    const status = clientStatus({
      generation: obj.metadata.generation,
      podName: d.self,
      suspended,
      resolutionError,
      runtime,
      previous: obj.status,
      target: obj.spec,
      now: this.now(),
    });
    this.emitTransitions(obj, m, status);
    if (sameStatus(status, obj.status)) return {};
    const settle = d.settleMs ?? 0;
    if ((status.phase === 'Pending' || status.phase === 'Connecting') && m.handedAt !== undefined) {
      const left = m.handedAt + settle - this.now().getTime();
      if (left > 0) return { requeueAfterMs: left };
    }
    const wait = this.writeWindow(m);
    if (wait > 0) return { requeueAfterMs: wait };
    await d.writer.writeClientStatus(obj, status);
    m.lastWriteAt = this.now().getTime();
    return {};
  }

  private emitTransitions(obj: SmppClientBind, m: Memory, status: ClientBindStatusShape): void {
    const ready = findCondition(status.conditions, 'Ready');
    if (status.phase !== m.phase && status.phase === 'Bound') {
      this.d.events.emit(obj, 'SmppClientBind', 'Normal', 'Bound', ready?.message ?? 'bound');
    }
    if (ready?.reason === 'BindFailed' && status.lastError && status.lastError !== m.lastError) {
      this.d.events.emit(obj, 'SmppClientBind', 'Warning', 'BindFailed', status.lastError);
    }
    if (status.phase === 'Suspended' && m.phase !== undefined && m.phase !== 'Suspended') {
      this.d.events.emit(
        obj,
        'SmppClientBind',
        'Normal',
        'Suspended',
        'session unbound: spec.suspend is true',
      );
    }
    m.phase = status.phase;
    m.lastError = status.lastError;
  }

  async reconcileServer(key: string, obj: SmppServerBind | undefined): Promise<Action> {
    const d = this.d;
    const memKey = `s/${key}`;
    if (!obj) {
      d.runtime.setServer(key, undefined);
      this.memory.delete(memKey);
      return {};
    }
    if (isDeleting(obj)) {
      // Sessions drop as soon as the listener forgets the bind; a finalizer (if a user or an older
      // version put one) is removed by one pod only.
      d.runtime.setServer(key, undefined);
      if (hasFinalizer(obj) && d.preferredOwner(key, d.livePods()) === d.self) {
        await d.writer.removeFinalizer('SmppServerBind', obj);
      }
      return {};
    }
    const m = this.mem(memKey);
    const r = resolveServerBind(obj, d.secrets);
    const live = d.livePods();
    // One pod speaks for the bind in Events, so N pods do not repeat the same Event N times.
    const speaker = d.preferredOwner(key, live) === d.self;
    let resolutionError: ResolutionError | undefined;
    if (r.ok) {
      if (speaker && m.fingerprint !== undefined && m.fingerprint !== r.fingerprint) {
        d.events.emit(
          obj,
          'SmppServerBind',
          'Normal',
          'SecretRotated',
          'credentials changed: partner sessions dropped',
        );
      }
      m.fingerprint = r.fingerprint;
      m.resolutionMessage = undefined;
      d.runtime.setServer(key, r.value);
    } else {
      resolutionError = r.error;
      d.runtime.setServer(key, undefined);
      if (speaker && m.resolutionMessage !== r.error.message) {
        d.events.emit(obj, 'SmppServerBind', 'Warning', r.error.reason, r.error.message);
      }
      m.resolutionMessage = r.error.message;
    }
    const liveSet = new Set(live);
    // Only the speaker prunes other pods' entries, so two pods with briefly different views of
    // membership can never undo each other's writes in a loop.
    const compute = (previous: ServerBindStatusShape | undefined): ServerBindStatusShape => {
      const keep = speaker ? liveSet : new Set<string>((previous?.sessions ?? []).map((e) => e.pod));
      return serverStatus({
        generation: obj.metadata.generation,
        podName: d.self,
        suspended: obj.spec.suspend === true,
        resolutionError,
        runtime: d.runtime.status(obj.metadata.namespace ?? '', obj.metadata.name, 'SmppServerBind'),
        previous,
        livePods: keep,
        pruneGraceMs: d.pruneGraceMs ?? 0,
        now: this.now(),
      });
    };
    const status = compute(obj.status);
    if (sameStatus(status, obj.status)) return {};
    const wait = this.writeWindow(m);
    if (wait > 0) return { requeueAfterMs: wait };
    await d.writer.writeServerStatus(obj, compute);
    m.lastWriteAt = this.now().getTime();
    return {};
  }
}
