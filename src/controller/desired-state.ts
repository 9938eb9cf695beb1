/**
 * Desired state: bind resources + Secrets → what the Gateway should run. Pure functions over
 * the informer stores, so a reconcile can recompute everything from scratch at any time
 * (level-triggered) and the result only depends on what the API server says now.
 */
import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import {
  RECONNECT_ANNOTATION,
  objectKey,
  type ClientBindObject,
  type ClientSpecRefs,
  type ResolvedClient,
  type ResolvedServer,
  type SecretKeyRef,
  type ServerBindObject,
  type ServerSpecRefs,
} from './contracts.js';

export type ResolutionReason = 'SecretNotFound' | 'SecretKeyNotFound' | 'SecretInvalid';

export interface ResolutionError {
  reason: ResolutionReason;
  /** Names the Secret and key, never a value. */
  message: string;
  secret: string;
}

export type SecretLookup = (namespace: string, name: string) => V1Secret | undefined;

export type Resolution<T> =
  | { ok: true; value: T; fingerprint: string }
  | { ok: false; error: ResolutionError };

const DEFAULT_PASSWORD_KEY = 'password';
const DEFAULT_CA_KEY = 'ca.crt';

function readSecretKey(
  namespace: string,
  ref: SecretKeyRef,
  defaultKey: string,
  what: string,
  secrets: SecretLookup,
): { ok: true; value: string } | { ok: false; error: ResolutionError } {
  const key = ref.key ?? defaultKey;
  const secret = secrets(namespace, ref.name);
  if (!secret) {
    return {
      ok: false,
      error: {
        reason: 'SecretNotFound',
        secret: ref.name,
        message: `${what}: Secret ${namespace}/${ref.name} not found`,
      },
    };
  }
  const raw = secret.data?.[key];
  if (raw === undefined) {
    const plain = secret.stringData?.[key];
    if (plain !== undefined) return { ok: true, value: plain };
    return {
      ok: false,
      error: {
        reason: 'SecretKeyNotFound',
        secret: ref.name,
        message: `${what}: Secret ${namespace}/${ref.name} has no key "${key}"`,
      },
    };
  }
  const value = Buffer.from(raw, 'base64').toString('utf8');
  if (value.length === 0) {
    return {
      ok: false,
      error: {
        reason: 'SecretInvalid',
        secret: ref.name,
        message: `${what}: key "${key}" of Secret ${namespace}/${ref.name} is empty`,
      },
    };
  }
  return { ok: true, value };
}

/** A hash standing for the credentials, so rotation can be noticed without keeping the secret around. */
export function fingerprint(...parts: (string | undefined)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p ?? '\u0000').update('\u0001');
  return h.digest('hex').slice(0, 16);
}

export function resolveClientBind<S extends ClientSpecRefs>(
  obj: ClientBindObject<S>,
  secrets: SecretLookup,
): Resolution<ResolvedClient<S>> {
  const namespace = obj.metadata.namespace ?? '';
  const pw = readSecretKey(namespace, obj.spec.passwordSecretRef, DEFAULT_PASSWORD_KEY, 'password', secrets);
  if (!pw.ok) return pw;
  let tlsCa: string | undefined;
  const caRef = obj.spec.tls?.enabled ? obj.spec.tls.caSecretRef : undefined;
  if (caRef) {
    const ca = readSecretKey(namespace, caRef, DEFAULT_CA_KEY, 'TLS CA', secrets);
    if (!ca.ok) return ca;
    tlsCa = ca.value;
  }
  const reconnectToken = obj.metadata.annotations?.[RECONNECT_ANNOTATION];
  const value: ResolvedClient<S> = {
    namespace,
    name: obj.metadata.name,
    spec: obj.spec,
    password: pw.value,
  };
  if (obj.metadata.generation !== undefined) value.generation = obj.metadata.generation;
  if (tlsCa !== undefined) value.tlsCa = tlsCa;
  if (reconnectToken !== undefined) value.reconnectToken = reconnectToken;
  return { ok: true, value, fingerprint: fingerprint(pw.value, tlsCa) };
}

export function resolveServerBind<S extends ServerSpecRefs>(
  obj: ServerBindObject<S>,
  secrets: SecretLookup,
): Resolution<ResolvedServer<S>> {
  const namespace = obj.metadata.namespace ?? '';
  const pw = readSecretKey(namespace, obj.spec.passwordSecretRef, DEFAULT_PASSWORD_KEY, 'password', secrets);
  if (!pw.ok) return pw;
  const value: ResolvedServer<S> = { namespace, name: obj.metadata.name, spec: obj.spec, password: pw.value };
  if (obj.metadata.generation !== undefined) value.generation = obj.metadata.generation;
  return { ok: true, value, fingerprint: fingerprint(pw.value) };
}

/** Secrets a bind reads, as `namespace/name` keys: the index that maps a Secret event to binds. */
export function secretKeysOf(obj: ClientBindObject | ServerBindObject): string[] {
  const ns = obj.metadata.namespace ?? '';
  const keys = [`${ns}/${obj.spec.passwordSecretRef.name}`];
  const tls = (obj.spec as ClientSpecRefs).tls;
  if (tls?.enabled && tls.caSecretRef) keys.push(`${ns}/${tls.caSecretRef.name}`);
  return keys;
}

export function isDeleting(obj: { metadata: { deletionTimestamp?: string | Date } }): boolean {
  return obj.metadata.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

export interface DesiredState<C extends ClientSpecRefs, SV extends ServerSpecRefs> {
  clientBinds: ResolvedClient<C>[];
  serverBinds: ResolvedServer<SV>[];
  /** bind key (`namespace/name`) → why it cannot run; keyed separately per kind. */
  clientErrors: Map<string, ResolutionError>;
  serverErrors: Map<string, ResolutionError>;
}

/**
 * Everything this pod should run right now. Client binds: only those `owns` says this pod
 * holds, and never a suspended or deleting one (the session is stopped by leaving it out).
 * Server binds: all of them — every pod's listener serves every partner; a suspended one is
 * kept (the listener rejects its binds and drops its sessions) so its status stays truthful.
 */
export function computeDesiredState<C extends ClientSpecRefs, SV extends ServerSpecRefs>(input: {
  clientBinds: Iterable<ClientBindObject<C>>;
  serverBinds: Iterable<ServerBindObject<SV>>;
  secrets: SecretLookup;
  owns: (key: string) => boolean;
}): DesiredState<C, SV> {
  const out: DesiredState<C, SV> = {
    clientBinds: [],
    serverBinds: [],
    clientErrors: new Map(),
    serverErrors: new Map(),
  };
  for (const obj of input.clientBinds) {
    const key = objectKey(obj.metadata);
    if (!input.owns(key) || isDeleting(obj) || obj.spec.suspend) continue;
    const r = resolveClientBind(obj, input.secrets);
    if (r.ok) out.clientBinds.push(r.value);
    else out.clientErrors.set(key, r.error);
  }
  for (const obj of input.serverBinds) {
    if (isDeleting(obj)) continue;
    const r = resolveServerBind(obj, input.secrets);
    if (r.ok) out.serverBinds.push(r.value);
    else out.serverErrors.set(objectKey(obj.metadata), r.error);
  }
  return out;
}
