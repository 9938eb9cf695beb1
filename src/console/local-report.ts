/**
 * What one gateway process knows about its own binds: counters read back from its Prometheus
 * registry (the same numbers /metrics shows) and its partner sessions. The standalone console
 * shows it directly; in a cluster every pod serves it as JSON (`GET /api/v1/pod`) and the pod
 * serving the page gathers them.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { BindView } from '../gateway/index.js';
import type { Metrics } from '../metrics.js';
import { rowKey, type BindCounters, type BindMode, type SessionRow } from './types.js';

export interface PodBindReport {
  key: string;
  counters: BindCounters;
  sessions?: SessionRow[];
}

export interface PodReport {
  pod: string;
  binds: PodBindReport[];
}

/** The read-only view of a gateway the console needs (Gateway implements it). */
export interface GatewayView {
  statuses(): BindView[];
}

type CounterMetrics = Pick<
  Metrics,
  'messagesSent' | 'messagesReceived' | 'deliveryFailures' | 'inflightMessages'
>;

function keyOfLabels(labels: Partial<Record<string, string | number>>): string | undefined {
  const mode = labels.mode;
  if (mode !== 'client' && mode !== 'server') return undefined;
  return rowKey(mode, String(labels.namespace ?? ''), String(labels.bind_name ?? ''));
}

function sumByBind(
  m: MetricObjectWithValues<MetricValue<string>>,
  into: Map<string, BindCounters>,
  field: keyof BindCounters,
): void {
  for (const v of m.values) {
    const key = keyOfLabels(v.labels);
    if (key === undefined) continue;
    let c = into.get(key);
    if (c === undefined) {
      c = { sent: 0, received: 0, failed: 0, inFlight: 0 };
      into.set(key, c);
    }
    c[field] += v.value;
  }
}

/** Per-bind counters of this process, by row key. get() also folds in the hot-path counts. */
export async function readCounters(metrics: CounterMetrics): Promise<Map<string, BindCounters>> {
  const [sent, received, failed, inFlight] = await Promise.all([
    metrics.messagesSent.get(),
    metrics.messagesReceived.get(),
    metrics.deliveryFailures.get(),
    metrics.inflightMessages.get(),
  ]);
  const out = new Map<string, BindCounters>();
  sumByBind(sent, out, 'sent');
  sumByBind(received, out, 'received');
  sumByBind(failed, out, 'failed');
  sumByBind(inFlight, out, 'inFlight');
  return out;
}

function modeOf(kind: BindView['kind']): BindMode {
  return kind === 'SmppClientBind' ? 'client' : 'server';
}

function sessionRows(pod: string, v: BindView): SessionRow[] | undefined {
  if (v.kind !== 'SmppServerBind') return undefined;
  return (v.status.sessions ?? []).map((s) => ({
    pod,
    peer: `${s.peerAddress}:${s.peerPort}`,
    bindType: s.bindType,
    since: s.since.toISOString(),
  }));
}

/** This process's binds with their counters and sessions. */
export async function podReport(
  pod: string,
  gateway: GatewayView,
  metrics: CounterMetrics,
): Promise<PodReport> {
  const counters = await readCounters(metrics);
  const binds: PodBindReport[] = [];
  for (const v of gateway.statuses()) {
    const key = rowKey(modeOf(v.kind), v.namespace, v.name);
    const r: PodBindReport = {
      key,
      counters: counters.get(key) ?? { sent: 0, received: 0, failed: 0, inFlight: 0 },
    };
    const sessions = sessionRows(pod, v);
    if (sessions !== undefined) r.sessions = sessions;
    binds.push(r);
  }
  return { pod, binds };
}
