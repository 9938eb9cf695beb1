/**
 * The bridge from per-key reconcile decisions to the Gateway's whole-set, level-triggered API:
 * reconciles change one entry each; the whole table goes to the Gateway at most once per short
 * batch window, so 1,000 reconciles in a burst cost a few setClientBinds calls, not 1,000.
 * Stopping a session (fencing, handoff, delete) flushes at once.
 */
import type { Logger } from '../log.js';
import type {
  BindKind,
  GatewayPort,
  ResolvedClientBind,
  ResolvedServerBind,
  RuntimeStatus,
} from './contracts.js';
import type { RuntimePort } from './reconcile.js';

const RUNNING: ReadonlySet<string> = new Set(['Bound', 'Connecting', 'Reconnecting']);

export class GatewayRuntime implements RuntimePort {
  private readonly clients = new Map<string, { bind: ResolvedClientBind; json: string }>();
  private readonly servers = new Map<string, { bind: ResolvedServerBind; json: string }>();
  /** every client bind ever handed to the Gateway, so shutdown can wait for all of them */
  private readonly everClients = new Set<string>();
  private clientsDirty = false;
  private serversDirty = false;
  private scheduled: NodeJS.Timeout | undefined;

  constructor(
    private readonly gateway: GatewayPort,
    private readonly log: Logger,
    /**
     * After a removed bind disappears from status() its session may still be unbinding in the
     * background; without gateway.clientStopped() this grace covers a clean unbind.
     */
    private readonly unbindGraceMs = 500,
    /** changes within this window reach the Gateway in one call (each call costs O(binds)) */
    private readonly batchMs = 20,
  ) {}

  setClient(key: string, bind: ResolvedClientBind | undefined): boolean {
    if (bind) this.everClients.add(key);
    if (!this.apply(this.clients, key, bind)) return false;
    this.clientsDirty = true;
    this.schedule();
    return true;
  }

  setServer(key: string, bind: ResolvedServerBind | undefined): void {
    if (this.apply(this.servers, key, bind)) {
      this.serversDirty = true;
      this.schedule();
    }
  }

  clearClients(): void {
    if (this.clients.size === 0) return;
    this.clients.clear();
    this.clientsDirty = true;
  }

  private apply<T>(table: Map<string, { bind: T; json: string }>, key: string, bind: T | undefined): boolean {
    if (bind === undefined) return table.delete(key);
    // Compared by value: the same desired bind recomputed by a later reconcile is no change.
    const json = JSON.stringify(bind);
    if (table.get(key)?.json === json) return false;
    table.set(key, { bind, json });
    return true;
  }

  private schedule(): void {
    this.scheduled ??= setTimeout(() => {
      this.scheduled = undefined;
      this.flush();
    }, this.batchMs);
  }

  /** Pushes pending changes to the Gateway now. */
  flush(): void {
    if (this.scheduled) {
      clearTimeout(this.scheduled);
      this.scheduled = undefined;
    }
    try {
      if (this.clientsDirty) {
        this.clientsDirty = false;
        this.gateway.setClientBinds([...this.clients.values()].map((e) => e.bind));
      }
      if (this.serversDirty) {
        this.serversDirty = false;
        this.gateway.setServerBinds([...this.servers.values()].map((e) => e.bind));
      }
    } catch (err) {
      // The Gateway validates what it gets; a throw here must not stop other binds' reconciles.
      this.log.error(
        { err: err instanceof Error ? err.message : String(err) },
        'gateway rejected the desired binds',
      );
    }
  }

  status(namespace: string, name: string, kind: BindKind): RuntimeStatus | undefined {
    return this.gateway.status(namespace, name, kind);
  }

  private running(namespace: string, name: string): boolean {
    const s = this.gateway.status(namespace, name, 'SmppClientBind');
    return s !== undefined && RUNNING.has(s.phase);
  }

  async clientStopped(namespace: string, name: string, timeoutMs: number): Promise<void> {
    this.flush();
    if (this.gateway.clientStopped) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
      const outcome = await Promise.race([this.gateway.clientStopped(namespace, name), timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout')
        this.log.warn({ namespace, bind: name, timeoutMs }, 'session still up after the unbind timeout');
      return;
    }
    const deadline = Date.now() + timeoutMs;
    while (this.running(namespace, name) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
    }
    if (this.running(namespace, name)) {
      this.log.warn({ namespace, bind: name, timeoutMs }, 'session still up after the unbind timeout');
      return;
    }
    await new Promise((r) => setTimeout(r, Math.min(this.unbindGraceMs, Math.max(0, deadline - Date.now()))));
  }

  /** Waits until no client bind ever handed to the Gateway still runs (shutdown). */
  async allClientsStopped(timeoutMs: number): Promise<void> {
    this.flush();
    const deadline = Date.now() + timeoutMs;
    const anyRunning = (): boolean =>
      [...this.everClients].some((k) => {
        const i = k.indexOf('/');
        return this.running(k.slice(0, i), k.slice(i + 1));
      });
    while (anyRunning() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  }

  clientKeys(): string[] {
    return [...this.clients.keys()];
  }
}
