/**
 * The console over a standalone gateway (`run --manifests DIR`, `npm start`): rows from the
 * files and the local gateway, actions as runtime overrides of the files. Actions need no
 * login, so they are offered only while the console listens on a loopback address.
 */
import type { SmppClientBind, SmppServerBind } from '../api/index.js';
import type { GatewayConfig } from '../config.js';
import type { BindView } from '../gateway/index.js';
import type { ResolvedBinds } from '../standalone/resolve.js';
import type { RuntimeOverrides } from './overrides.js';
import { rowFromBindError, rowFromLocalClient, rowFromLocalServer } from './rows.js';
import { isLoopback } from './net.js';
import {
  rowKey,
  type ActionRequest,
  type ActionResult,
  type BindRow,
  type ConsoleMeta,
  type ConsoleSource,
  type Viewer,
} from './types.js';

export interface StandaloneGatewayView {
  statuses(): BindView[];
  on(event: 'status', cb: () => void): unknown;
  off(event: 'status', cb: () => void): unknown;
}

/** What the folder said at its last load: the binds as written, and those that cannot run. */
export interface FolderState {
  clientBinds: readonly SmppClientBind[];
  serverBinds: readonly SmppServerBind[];
  resolved: ResolvedBinds;
}

export interface StandaloneConsoleOptions {
  config: GatewayConfig;
  dir: string;
  gateway: StandaloneGatewayView;
  overrides: RuntimeOverrides;
  folder: () => FolderState | undefined;
  /** Called after the folder changed (the caller re-applies it): rows may have changed. */
  onFolderChange: (cb: () => void) => () => void;
  /** The port the SMPP listener really has (0 in tests). */
  listenerPort: () => number | undefined;
  host: string;
}

export function standaloneConsole(o: StandaloneConsoleOptions): ConsoleSource {
  const pod = o.config.podName;
  const actionsAllowed = isLoopback(o.host);
  const fileSpec = (req: ActionRequest): { suspend?: boolean } | undefined => {
    const f = o.folder();
    const list = req.mode === 'client' ? f?.clientBinds : f?.serverBinds;
    return list?.find(
      (b) => (b.metadata.namespace ?? 'default') === req.namespace && b.metadata.name === req.name,
    )?.spec;
  };
  return {
    meta(): ConsoleMeta {
      return {
        mode: 'standalone',
        servedBy: pod,
        listener: {
          host: o.config.listenHost,
          port: o.listenerPort() ?? o.config.listenPort,
          maxConnections: o.config.maxConnections,
          tls: o.config.listenTlsCertFile !== undefined,
        },
        actions: actionsAllowed ? 'local' : 'off',
        manifests: o.dir,
      };
    },
    rows(): BindRow[] {
      const now = new Date();
      const rows: BindRow[] = [];
      const seen = new Set<string>();
      for (const v of o.gateway.statuses()) {
        const row =
          v.kind === 'SmppClientBind'
            ? rowFromLocalClient(v.namespace, v.name, v.spec, v.status, pod, now)
            : rowFromLocalServer(v.namespace, v.name, v.spec, v.status, pod, now);
        const note = o.overrides.describe(row.key);
        if (note !== undefined) row.override = note;
        seen.add(row.key);
        rows.push(row);
      }
      const f = o.folder();
      for (const e of f?.resolved.errors ?? []) {
        const mode = e.kind === 'SmppClientBind' ? 'client' : 'server';
        if (seen.has(rowKey(mode, e.namespace, e.name))) continue;
        const list: readonly (SmppClientBind | SmppServerBind)[] =
          mode === 'client' ? (f?.clientBinds ?? []) : (f?.serverBinds ?? []);
        const spec = list.find(
          (b) => (b.metadata.namespace ?? 'default') === e.namespace && b.metadata.name === e.name,
        )?.spec;
        rows.push(rowFromBindError(e, spec, pod));
      }
      return rows;
    },
    onChange(cb) {
      o.gateway.on('status', cb);
      const offFolder = o.onFolderChange(cb);
      const offOverrides = o.overrides.onChange(cb);
      return () => {
        o.gateway.off('status', cb);
        offFolder();
        offOverrides();
      };
    },
    async viewer(): Promise<Viewer> {
      return actionsAllowed ? { username: 'local', canPatch: { '*': true } } : { canPatch: {} };
    },
    async act(req): Promise<ActionResult> {
      if (!actionsAllowed) {
        return {
          status: 403,
          message: `actions are off: the console listens on ${o.host}, not on a loopback address`,
        };
      }
      const spec = fileSpec(req);
      if (spec === undefined)
        return { status: 404, message: `no ${req.mode} bind ${req.namespace}/${req.name}` };
      const inFiles = spec.suspend === true;
      switch (req.action) {
        case 'reconnect':
          if (req.mode !== 'client') return { status: 400, message: 'only client binds reconnect' };
          o.overrides.reconnect(req.namespace, req.name);
          return { status: 200, message: `${req.namespace}/${req.name}: reconnecting` };
        case 'disconnect':
          o.overrides.setSuspend(req.mode, req.namespace, req.name, true, inFiles);
          return { status: 200, message: `${req.namespace}/${req.name}: suspended (runtime override)` };
        case 'connect':
          o.overrides.setSuspend(req.mode, req.namespace, req.name, false, inFiles);
          return { status: 200, message: `${req.namespace}/${req.name}: resumed` };
      }
    },
  };
}
