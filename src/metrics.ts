import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type LabelValues } from 'prom-client';
import { FoldedHistogram } from './metrics-histogram.js';

/**
 * Labels of every per-bind series. The first six are the seeds' labels, in the seeds' order
 * (bind_name, mode, host, port, bind_type, system_id); `namespace` is ours, because the same
 * bind name may exist in two namespaces. The seeds give host, port and bind_type "only in
 * client mode": Prometheus needs a fixed label set per metric, so server binds carry "" there.
 */
export const BIND_LABEL_NAMES = [
  'bind_name',
  'mode',
  'host',
  'port',
  'bind_type',
  'system_id',
  'namespace',
] as const;
export type BindLabelName = (typeof BIND_LABEL_NAMES)[number];
export type BindLabels = Record<BindLabelName, string>;

export type BindMode = 'client' | 'server';

export interface BindLabelInput {
  namespace: string;
  name: string;
  mode: BindMode;
  systemId: string;
  host?: string;
  port?: number | string;
  bindType?: string;
}

/** Builds the label set for one bind; server binds leave host/port/bind_type empty as the seeds do. */
export function makeBindLabels(b: BindLabelInput): BindLabels {
  const client = b.mode === 'client';
  return {
    bind_name: b.name,
    mode: b.mode,
    host: client ? (b.host ?? '') : '',
    port: client && b.port !== undefined ? String(b.port) : '',
    bind_type: client ? (b.bindType ?? '') : '',
    system_id: b.systemId,
    namespace: b.namespace,
  };
}

/** Logical names of core API calls: the `endpoint` label (never a path with an id in it). */
export const CORE_ENDPOINTS = [
  'poll',
  'mark_sent',
  'return_for_retry',
  'mark_failed',
  'post_message',
  'report_receipt',
  'get_message',
  'heartbeat',
  'status',
] as const;
export type CoreEndpoint = (typeof CORE_ENDPOINTS)[number];

/** `outcome` label of core API calls. */
export const CORE_OUTCOMES = [
  'success',
  'client_error', // 4xx other than 408/429: the core refused this request
  'server_error', // 5xx, 408, 429
  'timeout',
  'connection_error', // refused, reset, TLS, DNS
  'invalid_response', // 2xx whose body is not the documented JSON
] as const;
export type CoreOutcome = (typeof CORE_OUTCOMES)[number];

type B = BindLabelName;

export interface Metrics {
  readonly registry: Registry;
  // The seeds' metrics (names, types and labels exactly as the old gateway's guide).
  /** 1 = bound, 0 = not bound. */
  connectionStatus: Gauge<B>;
  /** Seconds since the current session bound; 0 while down. Set it, or register a source with trackUptime. */
  uptimeSeconds: Gauge<B>;
  /**
   * Computes smpp_uptime_seconds for this bind at every scrape from `boundSince()` (undefined =
   * down = 0), so nobody has to tick a timer. Returns a function that stops tracking (and
   * removes the series).
   */
  trackUptime(labels: BindLabels, boundSince: () => Date | undefined): () => void;
  /** Stops every uptime source of this bind and removes its series. */
  untrackUptime(labels: BindLabels): void;
  /** Messages accepted by the peer: submit_sm_resp 0 (client bind) or deliver_sm_resp 0 (server bind). */
  messagesSent: Counter<B>;
  /** MO messages received from the peer and accepted by the core. */
  messagesReceived: Counter<B>;
  /** Messages that ended failed: permanent SMPP error or a failed delivery receipt. */
  deliveryFailures: Counter<B>;
  bindSuccess: Counter<B>;
  bindFailures: Counter<B>;
  connectionAttempts: Counter<B>;
  disconnections: Counter<B>;
  // Additions the seeds wished they had.
  /** Per message: a FoldedHistogram (see metrics-histogram.ts). */
  submitLatency: FoldedHistogram<B>;
  inflightMessages: Gauge<B>;
  throttled: Counter<B>;
  /** Messages handed back to the core for a later retry (PUT). */
  messagesReturned: Counter<B>;
  /** Messages never written to the peer, left in the core's queue without a retry attempt. */
  messagesReleased: Counter<B>;
  /** Delivery receipts for partners' submit_sm, by how tracking ended (sent, expired, ...). */
  partnerReceipts: Counter<B | 'result'>;
  /** Partner submit_sm whose final state the gateway is still waiting for, or still has to send. */
  partnerReceiptsPending: Gauge<B>;
  decodeErrors: Counter<B>;
  unmatchedReceipts: Counter<B>;
  /** Delivery receipts by outcome (delivered / failed / pending). */
  deliveryReceipts: Counter<B | 'outcome'>;
  serverSessions: Gauge<B>;
  /** 1 on the pod that polls the core for a server bind (one pod at a time in a cluster). */
  mtPollOwner: Gauge<'bind_name' | 'namespace'>;
  coreApiRequests: Counter<'endpoint' | 'outcome'>;
  coreApiDuration: FoldedHistogram<'endpoint'>;
  /** 1 while the last core API call reached the core, 0 while it is unreachable. */
  coreUp: Gauge;
  /** Messages from the core the gateway could not use (missing id, number or body). */
  coreInvalidMessages: Counter;
  reconcile: Counter<'kind' | 'result'>;
  reconcileDuration: Histogram<'kind'>;
  /** Claim Leases (shards of client binds, partner pollers) this pod holds. */
  leasesHeld: Gauge;
  /** Connections the listener closed before a bind succeeded, by reason. */
  listenerRejections: Counter<'reason'>;
  /** 1 while the receipt store answers (always 1 for the memory store), 0 while it does not. */
  receiptStoreUp: Gauge<'store'>;
  /** Receipt store round trips that failed, by operation (write, lookup, part, partner). */
  receiptStoreErrors: Counter<'op'>;
  /** Receipt store round trips, by operation (a batch written in one pipeline counts once). */
  receiptStoreOps: Counter<'op'>;
  /** Entries that could not be written to the receipt store before its buffer ran out, by kind. */
  receiptStoreLost: Counter<'kind'>;
  /** Entries waiting to be written to the receipt store. */
  receiptStorePendingWrites: Gauge;
  /**
   * A handle on one series of messagesSent or coreApiRequests for per-message paths: increments
   * are summed in a number and added when the registry is scraped. prom-client builds and looks
   * up a label key on every inc(), which at thousands of messages a second was a tenth of the
   * gateway's time. The same labels give the same handle.
   */
  hotCounter<L extends string>(metric: Counter<L>, labels: LabelValues<L>): HotCounter;
  /** The same for inflightMessages: the last value set is handed over at scrape time. */
  hotGauge<L extends string>(metric: Gauge<L>, labels: LabelValues<L>): HotGauge;
  /** Forgets the hot handles of these labels (removeBindSeries). */
  dropHot(labels: LabelValues<string>): void;
}

export interface HotCounter {
  inc(by?: number): void;
}

export interface HotGauge {
  set(value: number): void;
}

class CounterCell implements HotCounter {
  pending = 0;
  constructor(readonly labels: LabelValues<string>) {}
  inc(by = 1): void {
    this.pending += by;
  }
}

class GaugeCell implements HotGauge {
  value = 0;
  changed = false;
  constructor(readonly labels: LabelValues<string>) {}
  set(value: number): void {
    this.value = value;
    this.changed = true;
  }
}

/** Cells by metric, then by label values; only metrics created with a flushing collect() get any. */
class HotCells {
  private readonly counters = new Map<Counter<string>, Map<string, CounterCell>>();
  private readonly gauges = new Map<Gauge<string>, Map<string, GaugeCell>>();

  enableCounter(m: Counter<string>): void {
    this.counters.set(m, new Map());
  }

  enableGauge(m: Gauge<string>): void {
    this.gauges.set(m, new Map());
  }

  counter(m: Counter<string>, labels: LabelValues<string>): CounterCell {
    return cell(this.counters.get(m), labels, () => new CounterCell(labels));
  }

  gauge(m: Gauge<string>, labels: LabelValues<string>): GaugeCell {
    return cell(this.gauges.get(m), labels, () => new GaugeCell(labels));
  }

  flushCounter(m: Counter<string>): void {
    for (const c of this.counters.get(m)?.values() ?? []) {
      if (c.pending === 0) continue;
      m.inc(c.labels, c.pending);
      c.pending = 0;
    }
  }

  flushGauge(m: Gauge<string>): void {
    for (const c of this.gauges.get(m)?.values() ?? []) {
      if (!c.changed) continue;
      m.set(c.labels, c.value);
      c.changed = false;
    }
  }

  /** Forgets the cells of these labels (their series are being removed). */
  drop(labels: LabelValues<string>): void {
    const key = labelKey(labels);
    for (const cells of this.counters.values()) cells.delete(key);
    for (const cells of this.gauges.values()) cells.delete(key);
  }
}

function cell<C>(cells: Map<string, C> | undefined, labels: LabelValues<string>, make: () => C): C {
  // A handle on a metric whose collect() does not flush would count into nothing.
  if (cells === undefined) throw new Error('this metric has no hot-path handles');
  const key = labelKey(labels);
  let c = cells.get(key);
  if (c === undefined) {
    c = make();
    cells.set(key, c);
  }
  return c;
}

function labelKey(labels: LabelValues<string>): string {
  return JSON.stringify(
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]),
  );
}

export interface CreateMetricsOptions {
  /** Also register Node's process_* and nodejs_* metrics (off by default so tests see only ours). */
  defaultMetrics?: boolean;
}

/** Creates every metric on `registry` (a fresh one when omitted). Call once per registry. */
export function createMetrics(registry: Registry = new Registry(), opts: CreateMetricsOptions = {}): Metrics {
  const registers = [registry];
  const bindLabels = [...BIND_LABEL_NAMES];
  const gauge = (name: string, help: string): Gauge<B> =>
    new Gauge({ name, help, labelNames: bindLabels, registers });
  const counter = (name: string, help: string): Counter<B> =>
    new Counter({ name, help, labelNames: bindLabels, registers });

  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const hot = new HotCells();

  const uptimeSources = new Map<string, { labels: BindLabels; since: () => Date | undefined }>();
  const uptimeSeconds = new Gauge<B>({
    name: 'smpp_uptime_seconds',
    help: 'Seconds the current SMPP session of the bind has been bound',
    labelNames: bindLabels,
    registers,
    collect() {
      const now = Date.now();
      for (const { labels, since } of uptimeSources.values()) {
        const t = since();
        this.labels(labels).set(t === undefined ? 0 : Math.max(0, Math.floor((now - t.getTime()) / 1000)));
      }
    },
  });

  return {
    registry,
    connectionStatus: gauge(
      'smpp_connection_status',
      'Current SMPP bind connection status (1 = connected, 0 = disconnected)',
    ),
    uptimeSeconds,
    untrackUptime(labels) {
      uptimeSources.delete(uptimeKey(labels));
      uptimeSeconds.remove(labels);
    },
    trackUptime(labels, boundSince) {
      const key = uptimeKey(labels);
      const entry = { labels, since: boundSince };
      uptimeSources.set(key, entry);
      return () => {
        if (uptimeSources.get(key) === entry) uptimeSources.delete(key);
        uptimeSeconds.remove(labels);
      };
    },
    messagesSent: hotCounterMetric(hot, {
      name: 'smpp_messages_sent_total',
      help: 'Messages sent through the SMPP bind and accepted by the peer',
      labelNames: bindLabels,
      registers,
    }),
    messagesReceived: counter('smpp_messages_received_total', 'Messages received through the SMPP bind'),
    deliveryFailures: counter('smpp_delivery_failures_total', 'Message deliveries that failed'),
    bindSuccess: counter('smpp_bind_success_total', 'Successful bind operations'),
    bindFailures: counter('smpp_bind_failures_total', 'Failed bind operations'),
    connectionAttempts: counter('smpp_connection_attempts_total', 'Connection attempts'),
    disconnections: counter('smpp_disconnection_total', 'Disconnections'),
    submitLatency: new FoldedHistogram<B>({
      name: 'smpp_submit_latency_seconds',
      help: 'Time from sending submit_sm/deliver_sm to receiving its response',
      labelNames: bindLabels,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    inflightMessages: hotGaugeMetric(hot, {
      name: 'smpp_inflight_messages',
      help: 'Messages taken from the core and not yet resolved',
      labelNames: bindLabels,
      registers,
    }),
    throttled: counter('smpp_throttled_total', 'ESME_RTHROTTLED responses received or sent'),
    messagesReturned: counter(
      'smpp_messages_returned_total',
      'Messages returned to the core for a later retry',
    ),
    messagesReleased: counter(
      'smpp_messages_released_total',
      'Messages never written to the peer (session closed or stopping), left in the core queue without a retry attempt',
    ),
    decodeErrors: counter('smpp_decode_errors_total', 'PDUs or message bodies that could not be decoded'),
    unmatchedReceipts: counter(
      'smpp_unmatched_receipts_total',
      'Delivery receipts whose carrier message id matched no message we submitted',
    ),
    deliveryReceipts: new Counter({
      name: 'smpp_delivery_receipts_total',
      help: 'Delivery receipts received, by outcome',
      labelNames: [...bindLabels, 'outcome'],
      registers,
    }),
    partnerReceipts: new Counter({
      name: 'smpp_partner_receipts_total',
      help: 'Delivery receipts for partner submit_sm, by how tracking ended',
      labelNames: [...bindLabels, 'result'],
      registers,
    }),
    partnerReceiptsPending: gauge(
      'smpp_partner_receipts_pending',
      'Partner submit_sm with registered_delivery whose receipt is not sent yet',
    ),
    serverSessions: gauge('smpp_server_sessions', 'Live partner sessions of a server bind on this pod'),
    mtPollOwner: new Gauge({
      name: 'smpp_mt_poll_owner',
      help: '1 on the pod that polls the core for this server bind (at most one pod in a cluster)',
      labelNames: ['bind_name', 'namespace'],
      registers,
    }),
    coreApiRequests: hotCounterMetric(hot, {
      name: 'smpp_core_api_requests_total',
      help: 'Requests to the SMS core REST API by endpoint and outcome',
      labelNames: ['endpoint', 'outcome'],
      registers,
    }),
    coreApiDuration: new FoldedHistogram<'endpoint'>({
      name: 'smpp_core_api_request_duration_seconds',
      help: 'Duration of SMS core REST API requests by endpoint',
      labelNames: ['endpoint'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    coreUp: new Gauge({
      name: 'smpp_core_up',
      help: '1 while the SMS core REST API answers, 0 while it is unreachable',
      registers,
    }),
    coreInvalidMessages: new Counter({
      name: 'smpp_core_invalid_messages_total',
      help: 'Messages returned by the core that lack an id, a number or a body and were skipped',
      registers,
    }),
    reconcile: new Counter({
      name: 'smpp_reconcile_total',
      help: 'Reconcile runs by resource kind and result',
      labelNames: ['kind', 'result'],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'smpp_reconcile_duration_seconds',
      help: 'Duration of reconcile runs by resource kind',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    }),
    leasesHeld: new Gauge({
      name: 'smpp_leases_held',
      help: 'Claim Leases (shards of client binds, partner pollers) held by this gateway pod',
      registers,
    }),
    listenerRejections: new Counter({
      name: 'smpp_listener_rejections_total',
      help: 'Partner connections, binds or PDUs the SMPP listener rejected, by reason',
      labelNames: ['reason'],
      registers,
    }),
    receiptStoreUp: new Gauge({
      name: 'smpp_receipt_store_up',
      help: '1 while the receipt store (carrier ids, partner receipts) answers, 0 while it does not',
      labelNames: ['store'],
      registers,
    }),
    receiptStoreErrors: new Counter({
      name: 'smpp_receipt_store_errors_total',
      help: 'Receipt store round trips that failed, by operation',
      labelNames: ['op'],
      registers,
    }),
    receiptStoreOps: new Counter({
      name: 'smpp_receipt_store_ops_total',
      help: 'Receipt store round trips, by operation (a batch written in one pipeline counts once)',
      labelNames: ['op'],
      registers,
    }),
    receiptStoreLost: new Counter({
      name: 'smpp_receipt_store_lost_total',
      help: 'Receipt store entries given up unwritten (the store was away longer than its buffer lasts), by kind',
      labelNames: ['kind'],
      registers,
    }),
    receiptStorePendingWrites: new Gauge({
      name: 'smpp_receipt_store_pending_writes',
      help: 'Receipt store entries buffered, waiting to be written',
      registers,
    }),
    hotCounter: (metric, labels) => hot.counter(metric as Counter<string>, labels),
    hotGauge: (metric, labels) => hot.gauge(metric as Gauge<string>, labels),
    dropHot: (labels) => hot.drop(labels),
  };
}

function hotCounterMetric<L extends string>(
  hot: HotCells,
  config: { name: string; help: string; labelNames: L[]; registers: Registry[] },
): Counter<L> {
  const m: Counter<L> = new Counter<L>({
    ...config,
    collect() {
      hot.flushCounter(m as Counter<string>);
    },
  });
  hot.enableCounter(m as Counter<string>);
  return m;
}

function hotGaugeMetric<L extends string>(
  hot: HotCells,
  config: { name: string; help: string; labelNames: L[]; registers: Registry[] },
): Gauge<L> {
  const m: Gauge<L> = new Gauge<L>({
    ...config,
    collect() {
      hot.flushGauge(m as Gauge<string>);
    },
  });
  hot.enableGauge(m as Gauge<string>);
  return m;
}

function uptimeKey(labels: BindLabels): string {
  return JSON.stringify(BIND_LABEL_NAMES.map((n) => labels[n]));
}

/** `result` label of smpp_partner_receipts_total. */
export const PARTNER_RECEIPT_RESULTS = [
  'sent', // delivered to the partner
  'not_requested', // a final state the partner did not ask for (registered_delivery 2, delivered)
  'refused', // the partner answered the receipt with a permanent error
  'expired', // no final state, or no session to send it on, before the tracking age ran out
  'unknown_message', // the core no longer has the message
  'evicted', // more messages tracked than the limit: the oldest was dropped
  'dropped', // the bind was removed or the gateway stopped
] as const;
export type PartnerReceiptResult = (typeof PARTNER_RECEIPT_RESULTS)[number];

/** The per-bind counters (labels: the bind's only). */
function bindCounters(metrics: Metrics): Counter<BindLabelName>[] {
  return [
    metrics.messagesSent,
    metrics.messagesReceived,
    metrics.deliveryFailures,
    metrics.bindSuccess,
    metrics.bindFailures,
    metrics.connectionAttempts,
    metrics.disconnections,
    metrics.throttled,
    metrics.messagesReturned,
    metrics.messagesReleased,
    metrics.decodeErrors,
    metrics.unmatchedReceipts,
  ];
}

/**
 * Creates a bind's counters at 0, so rate() and absent-based alerts work before its first
 * event.
 */
export function zeroBindCounters(metrics: Metrics, labels: BindLabels): void {
  for (const c of bindCounters(metrics)) c.labels(labels).inc(0);
}

/** Removes every per-bind series of one bind (when the bind is deleted or its labels change). */
export function removeBindSeries(metrics: Metrics, labels: BindLabels): void {
  const perBind = [
    ...bindCounters(metrics),
    metrics.connectionStatus,
    metrics.uptimeSeconds,
    metrics.submitLatency,
    metrics.inflightMessages,
    metrics.serverSessions,
    metrics.partnerReceiptsPending,
  ];
  for (const m of perBind) m.remove(labels);
  metrics.untrackUptime(labels);
  metrics.dropHot(labels);
  for (const outcome of ['delivered', 'failed', 'pending'])
    metrics.deliveryReceipts.remove({ ...labels, outcome });
  for (const result of PARTNER_RECEIPT_RESULTS) metrics.partnerReceipts.remove({ ...labels, result });
}
