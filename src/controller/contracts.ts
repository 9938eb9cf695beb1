/**
 * The narrow shapes the controller reads from resources and from the Gateway. They are
 * structural on purpose: the real types of src/api and src/gateway are assignable to them,
 * so the reconcile layer depends only on the fields it actually uses.
 */
import type { Condition } from './conditions.js';

export type Phase = 'Pending' | 'Connecting' | 'Bound' | 'Reconnecting' | 'Suspended' | 'Error';

export interface SecretKeyRef {
  name: string;
  key?: string;
}

export interface BindMeta {
  name: string;
  namespace?: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  deletionTimestamp?: string | Date;
  finalizers?: string[];
}

export interface ClientSpecRefs {
  host: string;
  port: number;
  bindType: string;
  systemId: string;
  passwordSecretRef: SecretKeyRef;
  suspend?: boolean;
  tls?: { enabled?: boolean; caSecretRef?: SecretKeyRef };
}

export interface ServerSpecRefs {
  systemId: string;
  passwordSecretRef: SecretKeyRef;
  suspend?: boolean;
}

export interface SessionEntry {
  pod: string;
  id: string;
  peerAddress: string;
  peerPort?: number;
  bindType: string;
  since: string;
}

export interface ClientBindStatusShape {
  observedGeneration?: number;
  phase?: Phase;
  gatewayPod?: string;
  boundSince?: string;
  lastError?: string;
  conditions?: Condition[];
}

export interface ServerBindStatusShape extends ClientBindStatusShape {
  sessions?: SessionEntry[];
}

export interface ClientBindObject<S extends ClientSpecRefs = ClientSpecRefs> {
  apiVersion?: string;
  kind?: string;
  metadata: BindMeta;
  spec: S;
  status?: ClientBindStatusShape;
}

export interface ServerBindObject<S extends ServerSpecRefs = ServerSpecRefs> {
  apiVersion?: string;
  kind?: string;
  metadata: BindMeta;
  spec: S;
  status?: ServerBindStatusShape;
}

/** What the Gateway reports for one bind (src/gateway BindRuntimeStatus). */
export interface RuntimeStatus {
  phase: Phase;
  boundSince?: Date;
  lastError?: string;
  sessions?: {
    id: string;
    peerAddress: string;
    peerPort?: number;
    bindType: string;
    since: Date;
  }[];
}

export type BindKind = 'SmppClientBind' | 'SmppServerBind';

export interface ResolvedClient<S extends ClientSpecRefs = ClientSpecRefs> {
  namespace: string;
  name: string;
  generation?: number;
  spec: S;
  password: string;
  tlsCa?: string;
  reconnectToken?: string;
}

export interface ResolvedServer<S extends ServerSpecRefs = ServerSpecRefs> {
  namespace: string;
  name: string;
  generation?: number;
  spec: S;
  password: string;
}

/** The part of src/gateway's Gateway the controller drives. */
export interface GatewayPort<
  C extends ClientSpecRefs = ClientSpecRefs,
  SV extends ServerSpecRefs = ServerSpecRefs,
> {
  setClientBinds(binds: ResolvedClient<C>[]): void;
  setServerBinds(binds: ResolvedServer<SV>[]): void;
  status(namespace: string, name: string, kind: BindKind): RuntimeStatus | undefined;
  on(
    event: 'status',
    listener: (kind: BindKind, namespace: string, name: string, s: RuntimeStatus) => void,
  ): unknown;
  off(
    event: 'status',
    listener: (kind: BindKind, namespace: string, name: string, s: RuntimeStatus) => void,
  ): unknown;
}

export const GROUP = 'smpp.omnimessage.io';
export const VERSION = 'v1alpha1';
export const FINALIZER = 'smpp.omnimessage.io/finalizer';
export const RECONNECT_ANNOTATION = 'smpp.omnimessage.io/reconnect';
export const CLIENT_PLURAL = 'smppclientbinds';
export const SERVER_PLURAL = 'smppserverbinds';

export function objectKey(meta: { namespace?: string; name: string }): string {
  return `${meta.namespace ?? ''}/${meta.name}`;
}
