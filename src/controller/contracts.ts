/**
 * Shapes the controller shares between its modules: resource types come from src/api; the
 * Gateway is seen through the narrow port the controller drives (src/gateway's Gateway is
 * assignable to it).
 */
import type {
  BindStatus,
  Phase,
  ResolvedClientBind,
  ResolvedServerBind,
  ServerBindStatus,
  ServerSessionStatus,
  SmppClientBind,
  SmppServerBind,
} from '../api/index.js';

export type { Phase, ResolvedClientBind, ResolvedServerBind, SmppClientBind, SmppServerBind };
export type ClientBindStatusShape = BindStatus;
export type ServerBindStatusShape = ServerBindStatus;
export type SessionEntry = ServerSessionStatus;

/** What the Gateway reports for one bind (src/gateway BindRuntimeStatus). */
export interface RuntimeStatus {
  phase: Phase;
  boundSince?: Date;
  lastError?: string;
  sessions?: {
    id?: string;
    peerAddress: string;
    peerPort?: number;
    bindType: string;
    since: Date;
  }[];
}

export type BindKind = 'SmppClientBind' | 'SmppServerBind';

export type StatusListener = (kind: BindKind, namespace: string, name: string, s: RuntimeStatus) => void;

/** The part of src/gateway's Gateway the controller drives. */
export interface GatewayPort {
  setClientBinds(binds: ResolvedClientBind[]): void;
  setServerBinds(binds: ResolvedServerBind[]): void;
  status(namespace: string, name: string, kind: BindKind): RuntimeStatus | undefined;
  /**
   * Optional: resolves once the bind's previous session has fully unbound. Without it the
   * controller polls status() and then waits a short grace before handing the Lease on.
   */
  clientStopped?(namespace: string, name: string): Promise<void>;
  /**
   * Optional: the server binds (namespace/name keys) whose MT pump may poll the core; null means
   * every one that has a receiver session (standalone). The controller sets [] at start.
   */
  setServerPollers?(keys: string[] | null): void;
  /** Optional: resolves once every message the server bind's pump took has been reported. */
  serverPollIdle?(namespace: string, name: string): Promise<void>;
  on(event: 'status', listener: StatusListener): unknown;
  off(event: 'status', listener: StatusListener): unknown;
}

export const FINALIZER = 'smpp.omnimessage.io/finalizer';

export function objectKey(meta: { namespace?: string; name: string }): string {
  return `${meta.namespace ?? ''}/${meta.name}`;
}
