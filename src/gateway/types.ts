import type { Phase } from '../api/index.js';
import type { ServerSessionInfo } from '../smpp/server-listener.js';

export type { ResolvedClientBind, ResolvedServerBind, Phase } from '../api/index.js';

/** What the gateway reports for one bind; the controller turns it into the resource's status. */
export interface BindRuntimeStatus {
  phase: Phase;
  boundSince?: Date;
  lastError?: string;
  /** Server binds: live partner sessions on this process. */
  sessions?: ServerSessionInfo[];
}

export type BindKind = 'SmppClientBind' | 'SmppServerBind';

export function sameStatus(a: BindRuntimeStatus | undefined, b: BindRuntimeStatus): boolean {
  if (!a) return false;
  if (a.phase !== b.phase || a.lastError !== b.lastError) return false;
  if (a.boundSince?.getTime() !== b.boundSince?.getTime()) return false;
  const sa = a.sessions ?? [];
  const sb = b.sessions ?? [];
  if (sa.length !== sb.length) return false;
  return sa.every((s, i) => s.id === sb[i]?.id);
}

/** Core message ids currently handled anywhere in this process: never taken twice. */
export type InFlightIds = Set<string>;
