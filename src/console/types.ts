/**
 * What the console shows and does, independent of where the binds come from (the standalone
 * gateway's files, or the custom resources of a cluster). The browser receives BindRow objects
 * as JSON; nothing here may ever carry a password, a token or Secret data.
 */
import type { Phase } from '../api/index.js';
import type { CounterSnapshot } from './hub.js';
import type { PodReport } from './local-report.js';

export type BindMode = 'client' | 'server';

/** Per-bind counters, from the pods running the sessions (summed over pods). */
export interface BindCounters {
  sent: number;
  received: number;
  failed: number;
  inFlight: number;
}

export interface SessionRow {
  pod: string;
  peer: string;
  bindType: string;
  since: string;
}

export interface BindRow {
  /** `client/<namespace>/<name>` or `server/<namespace>/<name>`: stable id of a row. */
  key: string;
  mode: BindMode;
  namespace: string;
  name: string;
  smscName: string;
  systemId: string;
  phase: Phase;
  /** Ready condition: status and reason (e.g. False / BindFailed). */
  ready?: { status: string; reason: string; message?: string };
  lastError?: string;
  gatewayPod?: string;
  /** ISO time the current session bound (the page shows the uptime from it). */
  boundSince?: string;
  /** Client: the bind type; server: the allowed bind types. */
  bindType: string;
  host?: string;
  port?: number;
  tpsLimit?: number;
  suspended: boolean;
  counters?: BindCounters;
  /** Server binds: live partner sessions, per pod. */
  sessions?: SessionRow[];
  /** Standalone: what the console changed at runtime, apart from the files. */
  override?: string;
}

export interface ListenerInfo {
  host: string;
  port: number;
  maxConnections: number;
  tls: boolean;
}

/** Facts about the console itself, shown in the header. */
export interface ConsoleMeta {
  mode: 'standalone' | 'cluster';
  /** The pod (or standalone gateway) serving this page. */
  servedBy: string;
  listener: ListenerInfo;
  /**
   * How actions are authorized: `kubernetes` (the viewer's bearer token), `local` (standalone
   * on a loopback address: anyone who reaches the page), `off` (standalone on another address).
   */
  actions: 'kubernetes' | 'local' | 'off';
  /** Standalone: where the files are, so the page can say overrides are kept apart from them. */
  manifests?: string;
  /** Cluster: pods whose counters could not be read at the last gathering. */
  unreachablePods?: string[];
}

export const ACTIONS = ['reconnect', 'disconnect', 'connect'] as const;
export type ActionName = (typeof ACTIONS)[number];

export interface ActionRequest {
  mode: BindMode;
  namespace: string;
  name: string;
  action: ActionName;
}

/** An action's outcome: HTTP status and a sentence for the page. */
export interface ActionResult {
  status: number;
  message: string;
}

/** The viewer, as far as the console knows (cluster: from TokenReview). */
export interface Viewer {
  /** undefined: anonymous (read-only in a cluster) */
  username?: string;
  /** Per `<mode>/<namespace>`: may this viewer patch binds there (SubjectAccessReview). */
  canPatch: Record<string, boolean>;
}

/** Where the rows come from and how actions are carried out: standalone or cluster. */
export interface ConsoleSource {
  meta(): ConsoleMeta;
  /** Current rows (without counters in a cluster: those are gathered by the console). */
  rows(): BindRow[];
  /** Calls back whenever a row may have changed; returns an unsubscribe function. */
  onChange(cb: () => void): () => void;
  /** Identifies the viewer from a bearer token (or none). */
  viewer(bearer: string | undefined): Promise<Viewer | { status: number; message: string }>;
  act(req: ActionRequest, bearer: string | undefined): Promise<ActionResult>;
  /**
   * Counters of every bind (cluster: gathered from the pods running the sessions). Without it
   * the console shows this process's own counters.
   */
  counters?(local: () => Promise<PodReport>): Promise<CounterSnapshot>;
  close?(): Promise<void>;
}

export function rowKey(mode: BindMode, namespace: string, name: string): string {
  return `${mode}/${namespace}/${name}`;
}
