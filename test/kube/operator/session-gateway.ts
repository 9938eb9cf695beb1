// A sessions-only runtime with the Gateway's controller-facing API (setClientBinds /
// setServerBinds / status / 'status' events), built from the real SMPP engine: real
// ClientSessions to the simulator and a real SmppListener for partners. The operator tests use
// it to prove who binds what; message traffic is src/gateway's and is tested there.
import { EventEmitter } from 'node:events';
import { parseDuration } from '../../../src/api/index.js';
import type {
  BindKind,
  GatewayPort,
  ResolvedClientBind,
  ResolvedServerBind,
  RuntimeStatus,
} from '../../../src/controller/contracts.js';
import type { Logger } from '../../../src/log.js';
import { ClientSession } from '../../../src/smpp/client-session.js';
import { SmppListener } from '../../../src/smpp/server-listener.js';

interface Running {
  json: string;
  session: ClientSession;
  status: RuntimeStatus;
}

export class SessionGateway extends EventEmitter implements GatewayPort {
  private readonly clients = new Map<string, Running>();
  private readonly listener: SmppListener;
  private readonly serverKeys = new Map<string, { namespace: string; name: string }>();
  private readonly stopping = new Set<Promise<void>>();
  /** per bind: the previous session's stop, which a new session of the same bind waits for */
  private readonly stoppingByKey = new Map<string, Promise<void>>();
  port = 0;

  constructor(private readonly log: Logger) {
    super();
    this.listener = new SmppListener(
      { host: '127.0.0.1', port: 0, maxConnections: 100, bindTimeoutMs: 5000 },
      log,
    );
    const onSession = (info: { key: string }): void => {
      const k = this.serverKeys.get(info.key);
      if (k) this.emit('status', 'SmppServerBind', k.namespace, k.name, this.serverStatus(info.key));
    };
    this.listener.on('sessionBound', onSession);
    this.listener.on('sessionClosed', onSession);
  }

  async start(): Promise<void> {
    this.port = (await this.listener.listen()).port;
  }

  setClientBinds(binds: ResolvedClientBind[]): void {
    const want = new Map(binds.map((b) => [`${b.namespace}/${b.name}`, b]));
    for (const [key, r] of this.clients) {
      const b = want.get(key);
      if (!b || JSON.stringify(b) !== r.json) this.stopClient(key, r);
    }
    for (const [key, b] of want) if (!this.clients.has(key)) this.startClient(key, b);
  }

  private stopClient(key: string, r: Running): void {
    this.clients.delete(key);
    const p = r.session.stop().finally(() => {
      this.stopping.delete(p);
      if (this.stoppingByKey.get(key) === p) this.stoppingByKey.delete(key);
    });
    this.stopping.add(p);
    this.stoppingByKey.set(key, p);
    const [ns = '', name = ''] = key.split('/');
    this.emit('status', 'SmppClientBind', ns, name, { phase: 'Pending' });
  }

  private startClient(key: string, b: ResolvedClientBind): void {
    const session = new ClientSession(
      {
        host: b.spec.host,
        port: b.spec.port,
        bindType: b.spec.bindType,
        systemId: b.spec.systemId,
        password: b.password,
        bindTimeoutMs: 5000,
        reconnect: { minDelayMs: parseDuration(b.spec.reconnect.minDelay), maxDelayMs: 2000 },
      },
      this.log.child({ bind: b.name, namespace: b.namespace }),
    );
    const r: Running = { json: JSON.stringify(b), session, status: { phase: 'Connecting' } };
    this.clients.set(key, r);
    const set = (s: RuntimeStatus): void => {
      if (this.clients.get(key) !== r) return;
      r.status = s;
      this.emit('status', 'SmppClientBind', b.namespace, b.name, s);
    };
    session.on('bound', () => set({ phase: 'Bound', boundSince: new Date() }));
    session.on('bindFailed', (err: Error) => set({ phase: 'Reconnecting', lastError: err.message }));
    session.on('disconnected', (reason: string) =>
      set({
        phase: 'Reconnecting',
        ...(r.status.lastError ? { lastError: r.status.lastError } : {}),
        ...(reason ? {} : {}),
      }),
    );
    // Never two sessions of one bind at once: a restart waits for the old unbind.
    const prev = this.stoppingByKey.get(key);
    if (prev) void prev.then(() => this.clients.get(key) === r && session.start());
    else session.start();
  }

  setServerBinds(binds: ResolvedServerBind[]): void {
    this.serverKeys.clear();
    for (const b of binds)
      this.serverKeys.set(`${b.namespace}/${b.name}`, { namespace: b.namespace, name: b.name });
    this.listener.setBinds(
      binds.map((b) => ({
        key: `${b.namespace}/${b.name}`,
        namespace: b.namespace,
        name: b.name,
        smscName: b.spec.smscName,
        systemId: b.spec.systemId,
        password: b.password,
        allowedBindTypes: b.spec.allowedBindTypes,
        ipAllowlist: b.spec.ipAllowlist,
        tpsLimit: b.spec.tpsLimit,
        inboundTpsLimit: b.spec.inboundTpsLimit,
        maxSessions: b.spec.maxSessions,
        suspend: b.spec.suspend,
      })),
    );
  }

  private serverStatus(key: string): RuntimeStatus {
    const sessions = this.listener.sessions(key);
    return { phase: sessions.length > 0 ? 'Bound' : 'Pending', sessions };
  }

  status(namespace: string, name: string, kind: BindKind): RuntimeStatus | undefined {
    const key = `${namespace}/${name}`;
    if (kind === 'SmppServerBind') return this.serverKeys.has(key) ? this.serverStatus(key) : undefined;
    return this.clients.get(key)?.status;
  }

  /** Client binds with a bound session right now. */
  boundClients(): string[] {
    return [...this.clients.entries()].filter(([, r]) => r.status.phase === 'Bound').map(([k]) => k);
  }

  /** Drops every session at once without unbinding: what a killed process looks like to peers. */
  async crash(): Promise<void> {
    for (const [key, r] of this.clients) {
      this.clients.delete(key);
      (r.session as unknown as { destroyForTest?: () => void }).destroyForTest?.();
      await r.session.stop();
    }
    await this.listener.close();
  }

  async stop(): Promise<void> {
    this.setClientBinds([]);
    await Promise.all([...this.stopping]);
    await this.listener.close();
  }
}
