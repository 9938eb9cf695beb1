/**
 * Desired state: bind resources + Secrets → what the Gateway should run. Pure functions over
 * the informer stores, so a reconcile can recompute everything from scratch at any time
 * (level-triggered) and the result only depends on what the API server says now. Secret
 * resolution itself is src/api's (shared with standalone mode); this module adds what the
 * controller needs on top: spec defaults for objects read from the API, the Secret index,
 * credential fingerprints for rotation, and the "owned only" filter.
 */
import { createHash } from 'node:crypto';
import type { V1Secret } from '@kubernetes/client-node';
import {
  clientBindSpecSchema,
  formatIssues,
  isBindError,
  resolveClientBind as resolveClient,
  resolveServerBind as resolveServer,
  serverBindSpecSchema,
  type BindErrorReason,
  type ResolvedClientBind,
  type ResolvedServerBind,
  type SecretData,
  type SmppClientBind,
  type SmppServerBind,
} from '../api/index.js';
import { objectKey } from './contracts.js';

export type ResolutionReason = BindErrorReason | 'InvalidSpec';

export interface ResolutionError {
  reason: ResolutionReason;
  /** Names the Secret and key, never a value. */
  message: string;
}

export type SecretLookup = (namespace: string, name: string) => V1Secret | undefined;

export type Resolution<T> =
  | { ok: true; value: T; fingerprint: string }
  | { ok: false; error: ResolutionError };

/** Secret objects from the API carry base64 `data`; src/api's resolver wants decoded bytes. */
function secretData(secret: V1Secret | undefined): SecretData | undefined {
  if (!secret) return undefined;
  const out: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64');
  for (const [k, v] of Object.entries(secret.stringData ?? {})) out[k] = Buffer.from(v, 'utf8');
  return out;
}

/** A hash standing for the credentials, so rotation can be noticed without keeping the secret around. */
export function fingerprint(...parts: (string | undefined)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p ?? '\u0000').update('\u0001');
  return h.digest('hex').slice(0, 16);
}

/**
 * The API server applies the CRD's defaults, but an object stored before a field gained its
 * default (or one written by an older CRD) may lack it: parse through the same schema the CRD
 * is generated from, so the Gateway always gets a complete spec.
 */
export function withDefaults<T extends SmppClientBind | SmppServerBind>(
  obj: T,
): { ok: true; obj: T } | { ok: false; error: ResolutionError } {
  const memoKey = specMemoKey(obj);
  const known = memoKey === undefined ? undefined : parsedSpecs.get(memoKey);
  if (known) return { ok: true, obj: { ...obj, spec: known } as T };
  const schema = obj.kind === 'SmppServerBind' ? serverBindSpecSchema : clientBindSpecSchema;
  const parsed = schema.safeParse(obj.spec);
  if (!parsed.success) {
    return {
      ok: false,
      error: { reason: 'InvalidSpec', message: formatIssues(parsed.error, 'spec').join('; ') },
    };
  }
  if (memoKey !== undefined) {
    if (parsedSpecs.size >= 20_000) parsedSpecs.clear();
    parsedSpecs.set(memoKey, parsed.data);
  }
  return { ok: true, obj: { ...obj, spec: parsed.data } as T };
}

/**
 * Specs already parsed, by uid and generation: the API server bumps metadata.generation on every
 * spec change, so the pair names one spec. Each of our own status writes comes back as an update
 * and a reconcile; parsing the same spec again each time was most of a takeover's resolve cost.
 */
const parsedSpecs = new Map<string, SmppClientBind['spec'] | SmppServerBind['spec']>();

function specMemoKey(obj: SmppClientBind | SmppServerBind): string | undefined {
  const { uid, generation } = obj.metadata;
  return uid && typeof generation === 'number' ? `${obj.kind}/${uid}/${generation}` : undefined;
}

export function resolveClientBind(
  raw: SmppClientBind,
  secrets: SecretLookup,
): Resolution<ResolvedClientBind> {
  const d = withDefaults({ ...raw, kind: 'SmppClientBind' });
  if (!d.ok) return d;
  const r = resolveClient(d.obj, (ns, name) => secretData(secrets(ns, name)));
  if (isBindError(r)) return { ok: false, error: { reason: r.reason, message: r.message } };
  return { ok: true, value: r, fingerprint: fingerprint(r.password, r.tlsCa) };
}

export function resolveServerBind(
  raw: SmppServerBind,
  secrets: SecretLookup,
): Resolution<ResolvedServerBind> {
  const d = withDefaults({ ...raw, kind: 'SmppServerBind' });
  if (!d.ok) return d;
  const r = resolveServer(d.obj, (ns, name) => secretData(secrets(ns, name)));
  if (isBindError(r)) return { ok: false, error: { reason: r.reason, message: r.message } };
  return { ok: true, value: r, fingerprint: fingerprint(r.password) };
}

/** Secrets a bind reads, as `namespace/name` keys: the index that maps a Secret event to binds. */
export function secretKeysOf(obj: SmppClientBind | SmppServerBind): string[] {
  const ns = obj.metadata.namespace;
  const keys = [`${ns}/${obj.spec.passwordSecretRef.name}`];
  const tls = (obj.spec as { tls?: { enabled?: boolean; caSecretRef?: { name: string } } }).tls;
  if (tls?.enabled && tls.caSecretRef) keys.push(`${ns}/${tls.caSecretRef.name}`);
  return keys;
}

export function isDeleting(obj: { metadata: { deletionTimestamp?: string | Date | null } }): boolean {
  return obj.metadata.deletionTimestamp !== undefined && obj.metadata.deletionTimestamp !== null;
}

export interface DesiredState {
  clientBinds: ResolvedClientBind[];
  serverBinds: ResolvedServerBind[];
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
export function computeDesiredState(input: {
  clientBinds: Iterable<SmppClientBind>;
  serverBinds: Iterable<SmppServerBind>;
  secrets: SecretLookup;
  owns: (key: string) => boolean;
}): DesiredState {
  const out: DesiredState = {
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
