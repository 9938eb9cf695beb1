/**
 * Binds with their Secrets resolved: what the gateway runtime consumes, whether the desired
 * state came from the apiserver (controller) or from a folder of manifests (standalone).
 */
import type { BindKind } from './constants.js';
import { CLIENT_BIND_KIND, RECONNECT_ANNOTATION, SERVER_BIND_KIND } from './constants.js';
import type { ClientBindSpec } from './client-bind.js';
import type { SmppClientBind, SmppServerBind } from './resources.js';
import { smscNameOf } from './resources.js';
import type { ServerBindSpec } from './server-bind.js';

/** spec.smscName is always set here (defaulted to metadata.name). */
export interface ResolvedClientBind {
  namespace: string;
  name: string;
  generation?: number;
  spec: ClientBindSpec & { smscName: string };
  password: string;
  tlsCa?: string;
  /** Value of the reconnect annotation; a change forces a rebind. */
  reconnectToken?: string;
}

export interface ResolvedServerBind {
  namespace: string;
  name: string;
  generation?: number;
  spec: ServerBindSpec & { smscName: string };
  password: string;
}

export type BindErrorReason = 'SecretNotFound' | 'SecretKeyNotFound' | 'InvalidSecret' | 'DuplicateSystemId';

/** Why a bind cannot run; reason is CamelCase so it can go straight into a condition. */
export interface BindError {
  kind: BindKind;
  namespace: string;
  name: string;
  reason: BindErrorReason;
  message: string;
}

/** Secret values by key, already decoded. */
export type SecretData = Readonly<Record<string, Buffer>>;
/** Finds a Secret's data; undefined when the Secret does not exist. */
export type SecretLookup = (namespace: string, name: string) => SecretData | undefined;

type Lookup = { ok: true; value: string } | { ok: false; reason: BindErrorReason; message: string };

function readKey(
  lookup: SecretLookup,
  namespace: string,
  ref: { name: string; key: string },
  what: string,
): Lookup {
  const data = lookup(namespace, ref.name);
  if (!data) {
    return {
      ok: false,
      reason: 'SecretNotFound',
      message: `${what}: Secret ${namespace}/${ref.name} not found`,
    };
  }
  const raw = data[ref.key];
  if (raw === undefined) {
    return {
      ok: false,
      reason: 'SecretKeyNotFound',
      message: `${what}: Secret ${namespace}/${ref.name} has no key "${ref.key}"`,
    };
  }
  const value = raw.toString('utf8');
  if (value.length === 0) {
    return {
      ok: false,
      reason: 'InvalidSecret',
      message: `${what}: key "${ref.key}" of Secret ${namespace}/${ref.name} is empty`,
    };
  }
  return { ok: true, value };
}

/**
 * SMPP passwords are C-Octet Strings: a NUL would cut them short on the wire, and a trailing
 * newline (echo without -n into a Secret) is almost always a mistake the peer will reject.
 */
function passwordProblem(password: string): string | undefined {
  if (password.includes('\0')) return 'contains a NUL character';
  if (/[\r\n]$/.test(password)) return 'ends with a newline (create the Secret with `echo -n` or stringData)';
  return undefined;
}

interface ResolvedCommon {
  namespace: string;
  name: string;
  generation?: number;
  password: string;
}

/** What both kinds share: the password from its Secret, checked, and the object's identity. */
function resolveCommon(
  kind: BindKind,
  bind: SmppClientBind | SmppServerBind,
  lookup: SecretLookup,
):
  | { ok: true; common: ResolvedCommon; fail: (reason: BindErrorReason, message: string) => BindError }
  | BindError {
  const { namespace, name } = bind.metadata;
  const fail = (reason: BindErrorReason, message: string): BindError => ({
    kind,
    namespace,
    name,
    reason,
    message,
  });
  const pw = readKey(lookup, namespace, bind.spec.passwordSecretRef, 'spec.passwordSecretRef');
  if (!pw.ok) return fail(pw.reason, pw.message);
  const problem = passwordProblem(pw.value);
  if (problem) return fail('InvalidSecret', `spec.passwordSecretRef: the password ${problem}`);
  const common: ResolvedCommon = { namespace, name, password: pw.value };
  if (bind.metadata.generation !== undefined) common.generation = bind.metadata.generation;
  return { ok: true, common, fail };
}

export function resolveClientBind(
  bind: SmppClientBind,
  lookup: SecretLookup,
): ResolvedClientBind | BindError {
  const base = resolveCommon(CLIENT_BIND_KIND, bind, lookup);
  if (!('ok' in base)) return base;
  const resolved: ResolvedClientBind = { ...base.common, spec: { ...bind.spec, smscName: smscNameOf(bind) } };
  const caRef = bind.spec.tls.enabled ? bind.spec.tls.caSecretRef : undefined;
  if (caRef) {
    const ca = readKey(lookup, resolved.namespace, caRef, 'spec.tls.caSecretRef');
    if (!ca.ok) return base.fail(ca.reason, ca.message);
    resolved.tlsCa = ca.value;
  }
  const token = bind.metadata.annotations?.[RECONNECT_ANNOTATION];
  if (token !== undefined) resolved.reconnectToken = token;
  return resolved;
}

export function resolveServerBind(
  bind: SmppServerBind,
  lookup: SecretLookup,
): ResolvedServerBind | BindError {
  const base = resolveCommon(SERVER_BIND_KIND, bind, lookup);
  if (!('ok' in base)) return base;
  return { ...base.common, spec: { ...bind.spec, smscName: smscNameOf(bind) } };
}

export function isBindError(x: ResolvedClientBind | ResolvedServerBind | BindError): x is BindError {
  return 'reason' in x && 'message' in x && !('password' in x);
}

/**
 * The listener identifies partners by system_id alone, so two server binds with the same
 * system_id would be ambiguous: the first by namespace/name keeps it, the others get an error.
 */
export function rejectDuplicateSystemIds(binds: ResolvedServerBind[]): {
  accepted: ResolvedServerBind[];
  errors: BindError[];
} {
  const sorted = [...binds].sort((a, b) =>
    `${a.namespace}/${a.name}` < `${b.namespace}/${b.name}`
      ? -1
      : `${a.namespace}/${a.name}` > `${b.namespace}/${b.name}`
        ? 1
        : 0,
  );
  const owner = new Map<string, ResolvedServerBind>();
  const accepted: ResolvedServerBind[] = [];
  const errors: BindError[] = [];
  for (const b of sorted) {
    const first = owner.get(b.spec.systemId);
    if (first) {
      errors.push({
        kind: SERVER_BIND_KIND,
        namespace: b.namespace,
        name: b.name,
        reason: 'DuplicateSystemId',
        message: `systemId "${b.spec.systemId}" is already used by SmppServerBind ${first.namespace}/${first.name}`,
      });
    } else {
      owner.set(b.spec.systemId, b);
      accepted.push(b);
    }
  }
  return { accepted, errors };
}
