import {
  isBindError,
  rejectDuplicateSystemIds,
  resolveClientBind,
  resolveServerBind,
  type BindError,
  type ResolvedClientBind,
  type ResolvedServerBind,
  type SecretData,
  type SecretLookup,
} from '../api/index.js';
import type { LoadResult, SecretManifest } from './loader.js';

export interface ResolvedBinds {
  client: ResolvedClientBind[];
  server: ResolvedServerBind[];
  /** One per bind that cannot run (missing Secret or key, empty password, duplicate system_id). */
  errors: BindError[];
}

export function secretLookup(secrets: readonly SecretManifest[]): SecretLookup {
  const byKey = new Map<string, SecretData>(secrets.map((s) => [`${s.namespace}/${s.name}`, s.data]));
  return (namespace, name) => byKey.get(`${namespace}/${name}`);
}

/** Binds of a loaded folder with their passwords (and TLS CAs) read from the folder's Secrets. */
export function resolveBinds(
  result: Pick<LoadResult, 'clientBinds' | 'serverBinds' | 'secrets'>,
): ResolvedBinds {
  const lookup = secretLookup(result.secrets);
  const client: ResolvedClientBind[] = [];
  const server: ResolvedServerBind[] = [];
  const errors: BindError[] = [];
  for (const b of result.clientBinds) {
    const r = resolveClientBind(b, lookup);
    if (isBindError(r)) errors.push(r);
    else client.push(r);
  }
  for (const b of result.serverBinds) {
    const r = resolveServerBind(b, lookup);
    if (isBindError(r)) errors.push(r);
    else server.push(r);
  }
  const dedup = rejectDuplicateSystemIds(server);
  return { client, server: dedup.accepted, errors: [...errors, ...dedup.errors] };
}
