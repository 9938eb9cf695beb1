/**
 * Writes of the reconcile layer: finalizers (merge patch with a resourceVersion precondition,
 * so a stale cache can never drop someone else's finalizer), status through src/kube's
 * StatusQueue (status subresource only, skipped when unchanged, parallel but bounded and
 * coalesced per bind, retried there: the reconcile does not wait for the round trip), and Events
 * through src/kube's EventRecorder (aggregated). Finalizer conflicts surface as errors; the queue
 * retries.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { CLIENT_BIND_PLURAL, SERVER_BIND_PLURAL } from '../api/index.js';
import { EventRecorder } from '../kube/events.js';
import { objectPath, requestJson } from '../kube/http.js';
import { OwnStatusWrites, type EchoMeta } from '../kube/status-echo.js';
import { StatusQueue, type StatusQueueOptions, type StatusQueueStats } from '../kube/status-queue.js';
import {
  StatusWriter,
  type StatusObject,
  type StatusResource,
  type StatusTarget,
} from '../kube/status-writer.js';
import type { Logger } from '../log.js';
import type {
  BindKind,
  ClientBindStatusShape,
  ServerBindStatusShape,
  SmppClientBind,
  SmppServerBind,
} from './contracts.js';
import { FINALIZER } from './contracts.js';
import { httpStatus } from './membership.js';
import type { EventSink, EventType, ObjectWriter } from './reconcile.js';

function plural(kind: BindKind): string {
  return kind === 'SmppClientBind' ? CLIENT_BIND_PLURAL : SERVER_BIND_PLURAL;
}

export class KubeObjectWriter implements ObjectWriter {
  private readonly status: StatusWriter;
  private readonly queue: StatusQueue;
  private readonly ownClientWrites = new OwnStatusWrites();

  constructor(
    private readonly kc: KubeConfig,
    private readonly gv: { group: string; version: string },
    log: Logger,
    statusQueue: StatusQueueOptions = {},
  ) {
    this.status = new StatusWriter(kc, log);
    this.queue = new StatusQueue(this.status, log, {
      ...statusQueue,
      onWritten: (target, stored) => {
        if (target.plural === CLIENT_BIND_PLURAL)
          this.ownClientWrites.record(`${target.namespace}/${target.name}`, stored.metadata?.resourceVersion);
        statusQueue.onWritten?.(target, stored);
      },
    });
  }

  /**
   * True when the informer's update from `old` to `obj` is only the echo of this writer's own
   * last status write of that client bind (src/kube/status-echo.ts): nothing to reconcile.
   */
  isOwnClientStatusEcho(
    obj: { metadata?: EchoMeta & { namespace?: string; name?: string } },
    old?: { metadata?: EchoMeta },
  ): boolean {
    const m = obj.metadata;
    if (!m) return false;
    return this.ownClientWrites.isEcho(`${m.namespace ?? ''}/${m.name ?? ''}`, m, old?.metadata);
  }

  /** Forgets what was written to a client bind that is gone. */
  forgetClient(namespace: string, name: string): void {
    this.ownClientWrites.forget(`${namespace}/${name}`);
  }

  get stats(): { writes: number; skipped: number; conflicts: number } {
    return this.status.stats;
  }

  get statusQueue(): { stats: StatusQueueStats; depth: number; inFlight: number } {
    return this.queue;
  }

  /** Resolves once every status submitted so far is written (or given up). */
  /** Resolves once no status write has waited or been in flight for `ms`. */
  statusQuiet(ms: number): Promise<void> {
    return this.queue.quiet(ms);
  }

  /** Writes what is still queued, for up to timeoutMs, then takes no more. */
  closeStatus(timeoutMs: number): Promise<void> {
    return this.queue.close(timeoutMs);
  }

  private async patchFinalizers(
    kind: BindKind,
    obj: SmppClientBind | SmppServerBind,
    finalizers: string[],
  ): Promise<string | undefined> {
    try {
      const updated = await requestJson<{ metadata?: { resourceVersion?: string } } | undefined>(
        this.kc,
        'PATCH',
        objectPath(
          `${this.gv.group}/${this.gv.version}`,
          plural(kind),
          obj.metadata.namespace ?? '',
          obj.metadata.name,
        ),
        {
          body: { metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion } },
          contentType: 'application/merge-patch+json',
        },
      );
      return updated?.metadata?.resourceVersion;
    } catch (err) {
      // Gone already: nothing left to protect or release.
      if (httpStatus(err) === 404) return undefined;
      throw err;
    }
  }

  async addFinalizer(kind: BindKind, obj: SmppClientBind | SmppServerBind): Promise<string | undefined> {
    const current = obj.metadata.finalizers ?? [];
    if (current.includes(FINALIZER)) return undefined;
    return this.patchFinalizers(kind, obj, [...current, FINALIZER]);
  }

  async removeFinalizer(kind: BindKind, obj: SmppClientBind | SmppServerBind): Promise<void> {
    const current = obj.metadata.finalizers ?? [];
    if (!current.includes(FINALIZER)) return;
    await this.patchFinalizers(
      kind,
      obj,
      current.filter((f) => f !== FINALIZER),
    );
  }

  private target(
    plural: string,
    kind: string,
    obj: { metadata: { namespace: string; name: string } },
  ): StatusTarget {
    return { ...this.gv, plural, kind, namespace: obj.metadata.namespace, name: obj.metadata.name };
  }

  writeClientStatus(obj: SmppClientBind, status: ClientBindStatusShape): Promise<void> {
    // One writer (the bind's owner) computes it from its view: after a conflict that view is
    // stale, and the reconcile the change triggers computes a new one (see ConflictPolicy).
    this.queue.submit({
      target: this.target(CLIENT_BIND_PLURAL, 'SmppClientBind', obj),
      desired: () => status as StatusObject,
      current: asStatusResource(obj),
      onConflict: 'drop',
    });
    return Promise.resolve();
  }

  /**
   * A graceful stop's last word on a client bind this pod ran: `compute` sees the freshest status
   * (re-read after a 409: the informer's copy may not hold this pod's own last write yet) and
   * answers undefined when the status no longer names this pod, which is then left alone.
   */
  writeReleasedClientStatus(
    obj: SmppClientBind,
    compute: (current: ClientBindStatusShape | undefined) => ClientBindStatusShape | undefined,
  ): void {
    this.queue.submit({
      target: this.target(CLIENT_BIND_PLURAL, 'SmppClientBind', obj),
      desired: (current) => {
        const c = current as ClientBindStatusShape | undefined;
        return (compute(c) ?? c ?? {}) as StatusObject;
      },
      // A copy that does not name this pod may just be older than our own last write: read.
      ...(compute(obj.status) !== undefined ? { current: asStatusResource(obj) } : {}),
      onConflict: 'recompute',
    });
  }

  writeServerStatus(
    obj: SmppServerBind,
    compute: (current: ServerBindStatusShape | undefined) => ServerBindStatusShape,
  ): Promise<void> {
    // Several pods write their own sessions into one list: the writer's resourceVersion
    // precondition and recompute-on-conflict keep every pod's entries.
    this.queue.submit({
      target: this.target(SERVER_BIND_PLURAL, 'SmppServerBind', obj),
      desired: (current) => compute(current as ServerBindStatusShape | undefined) as StatusObject,
      current: asStatusResource(obj),
      onConflict: 'recompute',
    });
    return Promise.resolve();
  }
}

/** The reconciler's EventSink over src/kube's EventRecorder (best effort, aggregated). */
export class KubeEventSink implements EventSink {
  private readonly recorder: EventRecorder;

  /** `yieldTo`: resolves when the status writes are done (Events go after them) */
  constructor(kc: KubeConfig, podName: string, log: Logger, yieldTo?: () => Promise<void>) {
    this.recorder = new EventRecorder(
      kc,
      { component: 'smpp-operator', instance: podName, ...(yieldTo ? { yieldTo } : {}) },
      log,
    );
  }

  emit(
    obj: SmppClientBind | SmppServerBind,
    kind: BindKind,
    type: EventType,
    reason: string,
    message: string,
  ): void {
    void this.recorder.emit(
      {
        apiVersion: obj.apiVersion,
        kind,
        namespace: obj.metadata.namespace,
        name: obj.metadata.name,
        ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}),
      },
      type,
      reason,
      message,
    );
  }
}

/** A bind as the status queue's copy of the object (its resourceVersion and status). */
function asStatusResource(obj: SmppClientBind | SmppServerBind): StatusResource {
  return obj as unknown as StatusResource;
}
