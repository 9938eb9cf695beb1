/**
 * Status computation: (what the resource asks, whether its Secrets resolve, what the Gateway
 * reports) → the status subresource. Pure, so "unchanged status is not rewritten" is a simple
 * comparison of the computed value against the stored one.
 */
import { findCondition, formatTime, setCondition, type ConditionUpdate } from './conditions.js';
import type {
  ClientBindStatusShape,
  Phase,
  RuntimeStatus,
  ServerBindStatusShape,
  SessionEntry,
} from './contracts.js';
import type { ResolutionError } from './desired-state.js';

export interface ClientStatusInput {
  generation?: number;
  podName: string;
  suspended: boolean;
  resolutionError?: ResolutionError;
  runtime?: RuntimeStatus;
  previous?: ClientBindStatusShape;
  /** Used in the Ready message of a bound session. */
  target: { host: string; port: number; systemId: string; bindType: string };
  now: Date;
}

function readyFor(input: ClientStatusInput): { phase: Phase; ready: ConditionUpdate; lastError?: string } {
  const gen = input.generation;
  const cond = (status: 'True' | 'False', reason: string, message: string): ConditionUpdate => {
    const c: ConditionUpdate = { type: 'Ready', status, reason, message };
    if (gen !== undefined) c.observedGeneration = gen;
    return c;
  };
  if (input.resolutionError) {
    return {
      phase: 'Error',
      ready: cond('False', input.resolutionError.reason, input.resolutionError.message),
      lastError: input.resolutionError.message,
    };
  }
  if (input.suspended) {
    return { phase: 'Suspended', ready: cond('False', 'Suspended', 'spec.suspend is true: session unbound') };
  }
  const rt = input.runtime;
  const t = input.target;
  if (!rt) return { phase: 'Pending', ready: cond('False', 'Pending', 'waiting for the session to start') };
  const lastError = rt.lastError;
  switch (rt.phase) {
    case 'Bound':
      return {
        phase: 'Bound',
        ready: cond('True', 'Bound', `bound to ${t.host}:${t.port} as ${t.systemId} (${t.bindType})`),
        lastError,
      };
    case 'Suspended':
      return {
        phase: 'Suspended',
        ready: cond('False', 'Suspended', 'spec.suspend is true: session unbound'),
      };
    case 'Error':
      return { phase: 'Error', ready: cond('False', 'BindFailed', lastError ?? 'bind failed'), lastError };
    case 'Reconnecting':
      return lastError
        ? { phase: 'Reconnecting', ready: cond('False', 'BindFailed', lastError), lastError }
        : {
            phase: 'Reconnecting',
            ready: cond('False', 'Connecting', `reconnecting to ${t.host}:${t.port}`),
          };
    case 'Connecting':
      return {
        phase: 'Connecting',
        ready: cond('False', 'Connecting', `connecting to ${t.host}:${t.port}`),
        lastError,
      };
    case 'Pending':
    default:
      return {
        phase: 'Pending',
        ready: cond('False', 'Pending', 'waiting for the session to start'),
        lastError,
      };
  }
}

export function clientStatus(input: ClientStatusInput): ClientBindStatusShape {
  const { phase, ready, lastError } = readyFor(input);
  const out: ClientBindStatusShape = { phase, gatewayPod: input.podName };
  if (input.generation !== undefined) out.observedGeneration = input.generation;
  if (phase === 'Bound' && input.runtime?.boundSince) out.boundSince = formatTime(input.runtime.boundSince);
  if (lastError) out.lastError = lastError;
  out.conditions = setCondition(input.previous?.conditions, ready, input.now);
  return out;
}

/**
 * What a pod that stops gracefully leaves on a client bind it ran: no session here any more,
 * waiting for the next pod (whose Bound replaces it). Without it the bind would say Bound on a
 * pod that is gone until another pod writes.
 */
export function releasedStatus(
  previous: ClientBindStatusShape | undefined,
  podName: string,
  generation: number | undefined,
  now: Date,
): ClientBindStatusShape {
  const ready: ConditionUpdate = {
    type: 'Ready',
    status: 'False',
    reason: 'Released',
    message: `gateway pod ${podName} stopped: session unbound, waiting for another pod`,
  };
  if (generation !== undefined) ready.observedGeneration = generation;
  const out: ClientBindStatusShape = { phase: 'Pending', gatewayPod: podName };
  if (generation !== undefined) out.observedGeneration = generation;
  out.conditions = setCondition(previous?.conditions, ready, now);
  return out;
}

export interface ServerStatusInput {
  generation?: number;
  podName: string;
  suspended: boolean;
  resolutionError?: ResolutionError;
  /** This pod's live sessions for the bind, from the Gateway. */
  runtime?: RuntimeStatus;
  previous?: ServerBindStatusShape;
  /** Pods currently alive; entries of other pods not in this set are pruned (see pruneGraceMs). */
  livePods: ReadonlySet<string>;
  /**
   * An entry of a pod not (yet) seen live is kept while younger than this: a pod that just
   * joined may not be in this pod's membership view yet. Default 0.
   */
  pruneGraceMs?: number;
  now: Date;
}

/**
 * Every pod writes the same conditions (they depend only on spec and Secrets) and replaces only
 * its own `sessions` entries; entries of pods that are no longer live are dropped so a dead
 * pod's sessions do not linger.
 */
export function serverStatus(input: ServerStatusInput): ServerBindStatusShape {
  const mine: SessionEntry[] = (input.runtime?.sessions ?? []).map((s) => ({
    pod: input.podName,
    peerAddress: hostPort(s.peerAddress, s.peerPort),
    bindType: s.bindType as SessionEntry['bindType'],
    since: formatTime(s.since),
  }));
  const grace = input.pruneGraceMs ?? 0;
  const others = (input.previous?.sessions ?? []).filter(
    (e) =>
      e.pod !== input.podName &&
      (input.livePods.has(e.pod) || input.now.getTime() - Date.parse(e.since) < grace),
  );
  const sessions = [...others, ...mine].sort(
    (a, b) =>
      a.pod.localeCompare(b.pod) ||
      a.since.localeCompare(b.since) ||
      a.peerAddress.localeCompare(b.peerAddress),
  );
  const gen = input.generation;
  const cond = (status: 'True' | 'False', reason: string, message: string): ConditionUpdate => {
    const c: ConditionUpdate = { type: 'Ready', status, reason, message };
    if (gen !== undefined) c.observedGeneration = gen;
    return c;
  };
  let phase: Phase;
  let ready: ConditionUpdate;
  let lastError: string | undefined;
  if (input.resolutionError) {
    phase = 'Error';
    ready = cond('False', input.resolutionError.reason, input.resolutionError.message);
    lastError = input.resolutionError.message;
  } else if (input.suspended) {
    phase = 'Suspended';
    ready = cond('False', 'Suspended', 'spec.suspend is true: partner binds are refused');
  } else {
    // Ready means "partners can bind": the listeners accept it. The phase says whether one has.
    phase = sessions.length > 0 ? 'Bound' : 'Pending';
    ready = cond(
      'True',
      'Accepting',
      sessions.length > 0
        ? `${sessions.length} partner session(s) bound`
        : 'listeners accept binds; no partner session yet',
    );
  }
  const out: ServerBindStatusShape = { phase };
  if (gen !== undefined) out.observedGeneration = gen;
  if (lastError) out.lastError = lastError;
  out.conditions = setCondition(input.previous?.conditions, ready, input.now);
  out.sessionCount = sessions.length;
  out.sessions = sessions;
  return out;
}

/** "IP:port" as kubectl users read it; IPv6 in brackets. */
function hostPort(address: string, port: number | undefined): string {
  if (port === undefined) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Order-insensitive for object keys, so a status echoed back by the API server compares equal. */
export function sameStatus(a: unknown, b: unknown): boolean {
  return stableJson(a) === stableJson(b);
}

function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const o = value as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .filter((k) => o[k] !== undefined && o[k] !== null)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return value;
  });
}

export { findCondition };
