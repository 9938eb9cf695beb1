/**
 * Standalone mode: what the console changed at runtime, kept apart from the manifest files (as
 * the seeds' web UI kept its changes apart from the config file). The files stay the source
 * of truth on disk; an override lasts until the process stops or the console clears it.
 */
import type { ResolvedClientBind, ResolvedServerBind } from '../api/index.js';
import type { BindMode } from './types.js';
import { rowKey } from './types.js';

interface Override {
  /** spec.suspend as the console set it */
  suspend?: boolean;
  /** a reconnect the console asked for: a new token forces a rebind */
  reconnect?: string;
}

export class RuntimeOverrides {
  private readonly byKey = new Map<string, Override>();
  private readonly listeners = new Set<() => void>();
  private seq = 0;

  onChange(cb: () => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private changed(): void {
    for (const cb of this.listeners) cb();
  }

  /** Suspends or resumes a bind; an override equal to the files' value is dropped. */
  setSuspend(mode: BindMode, namespace: string, name: string, suspend: boolean, inFiles: boolean): void {
    const key = rowKey(mode, namespace, name);
    const o = { ...this.byKey.get(key) };
    if (suspend === inFiles) delete o.suspend;
    else o.suspend = suspend;
    this.store(key, o);
  }

  reconnect(namespace: string, name: string): void {
    const key = rowKey('client', namespace, name);
    this.store(key, { ...this.byKey.get(key), reconnect: `console-${Date.now()}-${++this.seq}` });
  }

  private store(key: string, o: Override): void {
    if (o.suspend === undefined && o.reconnect === undefined) this.byKey.delete(key);
    else this.byKey.set(key, o);
    this.changed();
  }

  applyClient(b: ResolvedClientBind): ResolvedClientBind {
    const o = this.byKey.get(rowKey('client', b.namespace, b.name));
    if (o === undefined) return b;
    const out: ResolvedClientBind = { ...b, spec: { ...b.spec } };
    if (o.suspend !== undefined) out.spec.suspend = o.suspend;
    if (o.reconnect !== undefined) out.reconnectToken = `${b.reconnectToken ?? ''}|${o.reconnect}`;
    return out;
  }

  applyServer(b: ResolvedServerBind): ResolvedServerBind {
    const o = this.byKey.get(rowKey('server', b.namespace, b.name));
    if (o?.suspend === undefined) return b;
    return { ...b, spec: { ...b.spec, suspend: o.suspend } };
  }

  /** A sentence for the page, or undefined when the bind runs as its file says. */
  describe(key: string): string | undefined {
    const o = this.byKey.get(key);
    if (o?.suspend === undefined) return undefined;
    return o.suspend
      ? 'Disconnected from the console (runtime override; the file is unchanged)'
      : 'Connected from the console although its file says suspend: true (runtime override)';
  }
}
