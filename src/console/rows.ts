/**
 * Rows of the page from the two places binds are described: the custom resources (spec and
 * the status the controllers wrote) and, standalone, the manifest files plus what the local
 * gateway reports. Only non-secret fields are copied: a Secret reference is never shown either.
 */
import type { Condition, SmppClientBind, SmppServerBind } from '../api/index.js';
import type { BindError } from '../api/index.js';
import { clientStatus, serverStatus } from '../controller/status.js';
import type { BindRuntimeStatus } from '../gateway/index.js';
import { rowKey, type BindRow, type SessionRow } from './types.js';

type ClientSpec = SmppClientBind['spec'];
type ServerSpec = SmppServerBind['spec'];

function readyOf(conditions: readonly Condition[] | undefined): BindRow['ready'] {
  const c = conditions?.find((x) => x.type === 'Ready');
  if (c === undefined) return undefined;
  const r: NonNullable<BindRow['ready']> = { status: c.status, reason: c.reason };
  if (c.message) r.message = c.message;
  return r;
}

/** What both kinds of status have, as the controller writes it or as the standalone gateway computes it. */
interface StatusPart {
  phase?: BindRow['phase'];
  conditions?: readonly Condition[];
  lastError?: string;
  sessions?: readonly { pod: string; peerAddress: string; bindType: string; since: string }[];
}

function withStatus(row: BindRow, s: StatusPart | undefined): BindRow {
  if (s?.phase) row.phase = s.phase;
  const ready = readyOf(s?.conditions);
  if (ready) row.ready = ready;
  if (s?.lastError) row.lastError = s.lastError;
  if (row.mode === 'server')
    row.sessions = (s?.sessions ?? []).map(
      (x): SessionRow => ({ pod: x.pod, peer: x.peerAddress, bindType: x.bindType, since: x.since }),
    );
  return row;
}

function base(
  mode: BindRow['mode'],
  namespace: string,
  name: string,
  spec: ClientSpec | ServerSpec,
  bindType: string,
): BindRow {
  const row: BindRow = {
    key: rowKey(mode, namespace, name),
    mode,
    namespace,
    name,
    smscName: spec.smscName ?? name,
    systemId: spec.systemId,
    phase: 'Pending',
    bindType,
    suspended: spec.suspend === true,
  };
  if (spec.tpsLimit !== undefined) row.tpsLimit = spec.tpsLimit;
  return row;
}

function clientBase(namespace: string, name: string, spec: ClientSpec): BindRow {
  const row = base('client', namespace, name, spec, spec.bindType ?? 'transceiver');
  row.host = spec.host;
  row.port = spec.port ?? 2775;
  return row;
}

function serverBase(namespace: string, name: string, spec: ServerSpec): BindRow {
  const types = spec.allowedBindTypes ?? ['transmitter', 'receiver', 'transceiver'];
  return { ...base('server', namespace, name, spec, types.join(', ')), sessions: [] };
}

/** A server bind is up since its oldest live session. */
function firstSince(row: BindRow): void {
  const first = (row.sessions ?? []).map((x) => x.since).sort()[0];
  if (first !== undefined) row.boundSince = first;
}

/** A bind as the API server has it: spec from the user, status from the gateway pods. */
export function rowFromClientResource(b: SmppClientBind): BindRow {
  const row = withStatus(clientBase(b.metadata.namespace ?? '', b.metadata.name, b.spec), b.status);
  const s = b.status;
  if (s?.gatewayPod) row.gatewayPod = s.gatewayPod;
  if (s?.boundSince && row.phase === 'Bound') row.boundSince = s.boundSince;
  return row;
}

export function rowFromServerResource(b: SmppServerBind): BindRow {
  const row = withStatus(serverBase(b.metadata.namespace ?? '', b.metadata.name, b.spec), b.status);
  firstSince(row);
  return row;
}

/** Standalone: a bind the local gateway runs, with the status the controller would write. */
export function rowFromLocalClient(
  namespace: string,
  name: string,
  spec: ClientSpec,
  runtime: BindRuntimeStatus,
  pod: string,
  now: Date,
): BindRow {
  const row = clientBase(namespace, name, spec);
  const st = clientStatus({
    podName: pod,
    suspended: spec.suspend === true,
    runtime,
    target: { host: spec.host, port: spec.port ?? 2775, systemId: spec.systemId, bindType: row.bindType },
    now,
  });
  withStatus(row, st);
  row.gatewayPod = pod;
  if (runtime.boundSince && row.phase === 'Bound') row.boundSince = runtime.boundSince.toISOString();
  return row;
}

export function rowFromLocalServer(
  namespace: string,
  name: string,
  spec: ServerSpec,
  runtime: BindRuntimeStatus,
  pod: string,
  now: Date,
): BindRow {
  const row = serverBase(namespace, name, spec);
  const st = serverStatus({
    podName: pod,
    suspended: spec.suspend === true,
    runtime,
    livePods: new Set([pod]),
    now,
  });
  withStatus(row, st);
  row.gatewayPod = pod;
  firstSince(row);
  return row;
}

/** Standalone: a bind in the files that cannot run (missing Secret, duplicate system_id, ...). */
export function rowFromBindError(
  e: BindError,
  spec: ClientSpec | ServerSpec | undefined,
  pod: string,
): BindRow {
  const mode = e.kind === 'SmppClientBind' ? 'client' : 'server';
  let row: BindRow;
  if (spec !== undefined && mode === 'client') row = clientBase(e.namespace, e.name, spec as ClientSpec);
  else if (spec !== undefined) row = serverBase(e.namespace, e.name, spec as ServerSpec);
  else
    row = {
      key: rowKey(mode, e.namespace, e.name),
      mode,
      namespace: e.namespace,
      name: e.name,
      smscName: e.name,
      systemId: '',
      phase: 'Error',
      bindType: '',
      suspended: false,
    };
  row.phase = 'Error';
  row.ready = { status: 'False', reason: e.reason, message: e.message };
  row.lastError = e.message;
  row.gatewayPod = pod;
  return row;
}
