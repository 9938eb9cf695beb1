import { EventEmitter } from 'node:events';
import { rootCertificates } from 'node:tls';
import type { Logger } from '../log.js';
import type { CoreEndpoint, CoreOutcome, HotCounter, Metrics } from '../metrics.js';
import type { HistogramSeries } from '../metrics-histogram.js';
import { CoreError, isTemporaryStatus } from './errors.js';
import type { CoreMessage, FrontendInfo, NewMessage, ReceiptReport } from './types.js';
import { PoolTransport, type PoolSettings } from './transport.js';
import { PollTransport } from './poll-transport.js';
import { backoffDelay, equalJitter } from '../backoff.js';

// Re-exported so `import { CoreClient, CoreError } from '../core/client.js'` works as well as '../core/index.js'.
export { CoreError, isTemporaryStatus } from './errors.js';
export type { CoreMessage, FrontendInfo, NewMessage, ReceiptReport } from './types.js';

export interface CoreClientOptions {
  /** API_BASE_URL, e.g. https://smsc-core:8443 (a path prefix is kept: https://gw/smsc → /smsc/api/...). */
  baseUrl: string;
  /** Timeout of each phase: connect, response headers, and the gap between body chunks (ms). Default 5000. */
  timeoutMs?: number;
  /** Verify the core's TLS certificate. Default true. */
  verifyTls?: boolean;
  /** Extra PEM CA(s) trusted for the core. */
  ca?: string;
  /** Sent as `Authorization: Bearer <token>`; never logged. */
  bearerToken?: string;
  /** Keep-alive connections to the core. Default 64 (~10k req/s at a few ms per request). */
  connections?: number;
  /** Polls in flight per poll connection (1: no pipelining). Default 8. See poll-transport.ts. */
  pollPipelining?: number;
  /** Backoff while the core is unreachable: first and largest delay, ms. Default 500 / 30000. */
  backoff?: { minDelayMs: number; maxDelayMs: number };
}

export interface PollOptions {
  /**
   * The core answers the SMSc header with messages routed to that SMSc AND unrouted ones
   * (dest_smsc null). Unrouted messages are not ours to take (DESIGN), so they are dropped
   * unless this is true.
   */
  includeUnrouted?: boolean;
}

/** Field names that never leave the process in a heartbeat's configuration. */
const SECRET_KEY = /pass(word)?|secret|token|authorization|credential|private|^key$|keyfile|key_file/i;

/** A copy of `value` without secret-looking keys, at any depth. */
export function scrubSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(scrubSecrets);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_KEY.test(k)) continue;
      out[k] = scrubSecrets(v);
    }
    return out;
  }
  return value;
}

function normaliseId(raw: unknown): string | undefined {
  if (typeof raw === 'string' && raw !== '') return raw;
  if (typeof raw === 'number' && Number.isFinite(raw)) return String(raw);
  return undefined;
}

/**
 * REST client of the SMS core (seeds: smsc-core-api.pt.txt). One keep-alive undici Pool per
 * base URL; every call has a timeout, is counted in smpp_core_api_requests_total and timed in
 * smpp_core_api_request_duration_seconds, and throws CoreError on failure.
 *
 * It also keeps the core's health: `healthy` turns false on a temporary failure that says the
 * core itself is unwell (unreachable, timeout, 5xx/429) and back to true on the next answer.
 * `retryDelayMs()` tells pollers how long to back off. Events: 'down' (err: CoreError), 'up' ().
 */
export class CoreClient extends EventEmitter {
  readonly baseUrl: string;
  private readonly transport: PoolTransport;
  /** The polls' own connections (poll-transport.ts): nearly all of an idle gateway's requests. */
  private readonly pollTransport: PollTransport;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  /** Request headers, built once: a report per message made a fresh object each time. */
  private readonly headers: { plain: Record<string, string>; json: Record<string, string> };
  private readonly pollHeaders = new Map<string, Record<string, string>>();
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private failures = 0;
  private nextTryAt = 0;
  private closed = false;
  /** Last time a warning was logged per "endpoint status", so a steady 401 does not flood the log. */
  private readonly warnedAt = new Map<string, number>();
  /** Handles on smpp_core_api_requests_total, one per endpoint and outcome (one request each per message). */
  private readonly requestCounters: Partial<Record<CoreEndpoint, Partial<Record<CoreOutcome, HotCounter>>>> =
    {};
  private readonly durations: Partial<Record<CoreEndpoint, HistogramSeries>> = {};
  /** False while the core is unreachable or failing with 5xx. */
  healthy = true;

  constructor(
    opts: CoreClientOptions,
    private readonly log: Logger,
    private readonly metrics?: Metrics,
  ) {
    super();
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw new CoreError(`invalid core base URL "${opts.baseUrl}"`, {
        endpoint: 'config',
        temporary: false,
        outcome: 'client_error',
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new CoreError(`core base URL must be http(s): "${opts.baseUrl}"`, {
        endpoint: 'config',
        temporary: false,
        outcome: 'client_error',
      });
    }
    this.baseUrl = url.origin + url.pathname.replace(/\/+$/, '');
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.minBackoffMs = opts.backoff?.minDelayMs ?? 500;
    this.maxBackoffMs = opts.backoff?.maxDelayMs ?? 30_000;
    const auth: Record<string, string> = opts.bearerToken
      ? { authorization: `Bearer ${opts.bearerToken}` }
      : {};
    this.headers = {
      plain: Object.freeze({ accept: 'application/json', ...auth }),
      json: Object.freeze({ accept: 'application/json', 'content-type': 'application/json', ...auth }),
    };
    const settings: PoolSettings = {
      origin: url.origin,
      connections: opts.connections ?? 64,
      timeoutMs: this.timeoutMs,
    };
    if (url.protocol === 'https:') {
      settings.tls = { rejectUnauthorized: opts.verifyTls ?? true };
      // Added to, not instead of, the system CAs: a core with a public certificate keeps working.
      if (opts.ca) settings.tls.ca = [...rootCertificates, opts.ca];
    }
    this.transport = new PoolTransport(settings);
    this.pollTransport = new PollTransport({ ...settings, pipelining: opts.pollPipelining ?? 8 });
    metrics?.coreUp.set(1);
    if (opts.verifyTls === false && url.protocol === 'https:') {
      log.warn(
        { coreUrl: this.baseUrl },
        'TLS verification of the SMS core is disabled (VERIFY_SSL_PEER=false)',
      );
    }
  }

  /** Milliseconds until the next call is worth trying; 0 while the core is healthy. */
  retryDelayMs(now = Date.now()): number {
    return this.healthy ? 0 : Math.max(0, this.nextTryAt - now);
  }

  /** GET /api/messages with header `SMSc: <smscName>`: queued messages ready for this SMSc, oldest first. */
  async poll(smscName: string, opts: PollOptions = {}): Promise<CoreMessage[]> {
    const list = await this.call(
      'poll',
      'GET',
      '/api/messages',
      { headers: this.pollHeadersFor(smscName), polls: true },
      (body) =>
        Array.isArray(body) ? body : isRecord(body) && Array.isArray(body.data) ? body.data : undefined,
      'expected an array or {status, data: [...]}',
    );
    const out: CoreMessage[] = [];
    let invalid = 0;
    for (const raw of list) {
      const m = this.toMessage(raw);
      if (m === undefined) {
        invalid++;
        continue;
      }
      if (m.dest_smsc === smscName || (opts.includeUnrouted === true && (m.dest_smsc ?? null) === null))
        out.push(m);
    }
    if (invalid > 0) {
      this.metrics?.coreInvalidMessages.inc(invalid);
      this.log.warn({ smscName, invalid }, 'core returned messages without id, numbers or body; skipped');
    }
    return out;
  }

  /**
   * The carrier accepted the message: PATCH /api/messages/{id} with deliver_time (which takes it
   * out of the queue: the SMSc-header GET returns only messages whose deliver_time is null),
   * status "sent", and the carrier's id in smsc_message_id (a field of ours: the reference has none).
   */
  async markSent(id: string, carrierMessageId: string): Promise<void> {
    await this.call('mark_sent', 'PATCH', messagePath(id), {
      body: { status: 'sent', deliver_time: new Date().toISOString(), smsc_message_id: carrierMessageId },
    });
  }

  /**
   * A partner (server bind) acknowledged the deliver_sm: no receipt will ever follow, since the
   * partner is the message's destination, so it is delivered now (status delivered, delivered_at),
   * as well as out of the queue (deliver_time). Counted as mark_sent.
   */
  async markDelivered(id: string, messageId: string): Promise<void> {
    const now = new Date().toISOString();
    await this.call('mark_sent', 'PATCH', messagePath(id), {
      body: { status: 'delivered', deliver_time: now, delivered_at: now, smsc_message_id: messageId },
    });
  }

  /** Temporary failure: PUT /api/messages/{id} (no body: the core adds an attempt and sets deliver_after). */
  async returnForRetry(id: string, reason: string): Promise<void> {
    await this.call('return_for_retry', 'PUT', messagePath(id), {});
    this.log.debug({ messageId: id, reason }, 'message returned to the core for retry');
  }

  /**
   * Permanent failure: PATCH status "failed", deadletter true, and expires now. The reference's
   * queue filter does not look at deadletter, only at deliver_time, deliver_after and expires;
   * expiring the message is what takes it out of every SMSc's queue without claiming a delivery
   * (the core dead-letters on expiry). The reason travels in failure_reason (a field of ours).
   */
  async markFailed(id: string, reason: string): Promise<void> {
    await this.call('mark_failed', 'PATCH', messagePath(id), {
      body: { status: 'failed', deadletter: true, expires: new Date().toISOString(), failure_reason: reason },
    });
  }

  /** MO: POST /api/messages; resolves with the core's id (as a string). */
  async postMessage(m: NewMessage): Promise<{ id: string }> {
    const id = await this.call(
      'post_message',
      'POST',
      '/api/messages',
      { body: m },
      (body) => {
        const data = isRecord(body) && isRecord(body.data) ? body.data : body;
        return isRecord(data) ? normaliseId(data.id) : undefined;
      },
      'response has no message id',
    );
    return { id };
  }

  /**
   * A delivery receipt for message `id`: PATCH with status delivered / failed / enroute and, when
   * delivered, delivered_at (the reference's PATCH example: {"status": ..., "delivered_at": ...}).
   * The receipt's raw stat and err go in dlr_state / dlr_error (fields of ours).
   */
  async reportReceipt(id: string, r: ReceiptReport): Promise<void> {
    const body: Record<string, unknown> = {
      status: r.outcome === 'pending' ? 'enroute' : r.outcome,
      dlr_state: r.state,
      smsc_message_id: r.messageId,
    };
    if (r.err !== undefined) body.dlr_error = r.err;
    if (r.outcome === 'delivered') body.delivered_at = (r.doneDate ?? new Date()).toISOString();
    await this.call('report_receipt', 'PATCH', messagePath(id), { body });
  }

  /**
   * GET /api/messages/{id}: one message as the core holds it now (a bare object or
   * {status, data}); null when the core no longer has it (404).
   */
  async getMessage(id: string): Promise<Record<string, unknown> | null> {
    try {
      return await this.call(
        'get_message',
        'GET',
        messagePath(id),
        {},
        (body) => {
          const data = isRecord(body) && isRecord(body.data) ? body.data : body;
          return isRecord(data) ? data : undefined;
        },
        'expected a message object',
      );
    } catch (err) {
      if (err instanceof CoreError && err.status === 404) return null;
      throw err;
    }
  }

  /** POST /api/frontends: register / extend this frontend's registration (expires after 90 s). */
  async heartbeat(info: FrontendInfo): Promise<void> {
    const body: Record<string, unknown> = {
      frontend_name: info.name,
      frontend_type: 'SMPP',
      hostname: info.hostname,
      uptime_seconds: Math.floor(info.uptimeSeconds),
    };
    if (info.ipAddress !== undefined) body.ip_address = info.ipAddress;
    if (info.configuration !== undefined)
      body.configuration = JSON.stringify(scrubSecrets(info.configuration));
    await this.call('heartbeat', 'POST', '/api/frontends', { body });
  }

  /**
   * Heartbeats every `intervalMs` (the reference: every 30-60 s; registrations expire after 90 s),
   * the first one at once. Failures are logged and counted, never thrown. Returns a stop function.
   */
  startHeartbeat(info: () => FrontendInfo, intervalMs = 30_000): () => void {
    let stopped = false;
    let running = false;
    const beat = (): void => {
      if (stopped || running || this.closed) return;
      running = true;
      this.heartbeat(info())
        .catch((err: unknown) => this.log.debug({ err }, 'heartbeat failed'))
        .finally(() => (running = false));
    };
    beat();
    const timer = setInterval(beat, intervalMs);
    timer.unref();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }

  /** GET /api/status: whatever the core reports about itself. */
  async status(): Promise<unknown> {
    return this.call('status', 'GET', '/api/status', {}, (body) => body ?? null, 'empty');
  }

  private pollHeadersFor(smscName: string): Record<string, string> {
    let h = this.pollHeaders.get(smscName);
    if (h === undefined) {
      // SMSc is spelled as the reference spells it.
      h = Object.freeze({ ...this.headers.plain, SMSc: smscName });
      this.pollHeaders.set(smscName, h);
    }
    return h;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.transport.close(), this.pollTransport.close()]);
  }

  private toMessage(raw: unknown): CoreMessage | undefined {
    if (!isRecord(raw)) return undefined;
    const id = normaliseId(raw.id);
    const { source_msisdn, destination_msisdn, message_body } = raw;
    if (id === undefined || typeof source_msisdn !== 'string' || typeof destination_msisdn !== 'string')
      return undefined;
    if (typeof message_body !== 'string') return undefined;
    // raw is this response's own parsed JSON, so it becomes the message in place: polls return
    // every ready message each time (the core has no lock), and a copy each was measurable.
    const m = raw as CoreMessage;
    m.id = id;
    // get_by_smsc spells it destination_smsc; the SMSc-header listing spells it dest_smsc.
    if (m.dest_smsc === undefined && typeof raw.destination_smsc === 'string')
      m.dest_smsc = raw.destination_smsc;
    return m;
  }

  /**
   * One request. `parse` turns the JSON body into the caller's result; undefined means the body
   * is not the documented shape (outcome invalid_response). Without `parse` any 2xx will do.
   */
  private async call<T = undefined>(
    endpoint: CoreEndpoint,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH',
    path: string,
    req: { headers?: Record<string, string>; body?: unknown; polls?: boolean },
    parse?: (body: unknown) => T | undefined,
    expected = 'JSON',
  ): Promise<T> {
    if (this.closed) {
      throw new CoreError(`core api ${endpoint}: client closed`, {
        endpoint,
        temporary: true,
        outcome: 'connection_error',
      });
    }
    const started = performance.now();
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers = req.headers ?? (payload === undefined ? this.headers.plain : this.headers.json);
    let status: number;
    let text: string;
    // Timeouts are undici's: connect, headers (from dispatch on a socket) and body. The wait for
    // a free pooled connection is deliberately not timed: a burst queued behind busy connections
    // is not a core failure, and a stuck connection is already cut by headersTimeout.
    try {
      // A success whose body nobody reads (PATCH, PUT) is dropped as it arrives.
      ({ status, text } = await (req.polls === true ? this.pollTransport : this.transport).exchange({
        path: this.basePath + path,
        method,
        headers,
        body: payload ?? null,
        keepSuccessBody: parse !== undefined,
      }));
    } catch (err) {
      const ce = transportError(endpoint, err, this.timeoutMs);
      this.finish(endpoint, started, ce.outcome);
      this.failed(ce, method, path);
      throw ce;
    }

    if (status < 200 || status >= 300) {
      const temporary = isTemporaryStatus(status);
      const ce = new CoreError(`core api ${endpoint}: http ${status}${detail(text)}`, {
        endpoint,
        status,
        temporary,
        outcome: temporary ? 'server_error' : 'client_error',
      });
      this.finish(endpoint, started, ce.outcome);
      if (temporary) this.failed(ce, method, path);
      else {
        this.recovered();
        this.rejected(endpoint, method, path, status, ce.message);
      }
      throw ce;
    }

    // The core answered: whatever the body, it is reachable.
    this.recovered();
    if (parse === undefined) {
      this.finish(endpoint, started, 'success');
      return undefined as T;
    }
    let result: T | undefined;
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
      result = parse(body);
    } catch {
      expected = 'body is not JSON';
    }
    if (result === undefined) {
      this.finish(endpoint, started, 'invalid_response');
      // Temporary: a proxy's error page or a core mid-deploy; dropping the message would lose it.
      const ce = new CoreError(`core api ${endpoint}: invalid response (${expected})`, {
        endpoint,
        status,
        temporary: true,
        outcome: 'invalid_response',
      });
      this.log.warn({ endpoint, method, path, status }, ce.message);
      throw ce;
    }
    this.finish(endpoint, started, 'success');
    return result;
  }

  /** A 4xx: the core is up but refused this request. Warn once a minute per endpoint and status. */
  private rejected(
    endpoint: CoreEndpoint,
    method: string,
    path: string,
    status: number,
    message: string,
  ): void {
    const key = `${endpoint} ${status}`;
    const now = Date.now();
    const last = this.warnedAt.get(key);
    if (last === undefined || now - last >= 60_000) {
      this.warnedAt.set(key, now);
      this.log.warn({ endpoint, method, path, status }, message);
    } else {
      this.log.debug({ endpoint, method, path, status }, message);
    }
  }

  private finish(endpoint: CoreEndpoint, started: number, outcome: CoreOutcome): void {
    if (!this.metrics) return;
    const byOutcome = (this.requestCounters[endpoint] ??= {});
    (byOutcome[outcome] ??= this.metrics.hotCounter(this.metrics.coreApiRequests, {
      endpoint,
      outcome,
    })).inc();
    (this.durations[endpoint] ??= this.metrics.coreApiDuration.labels({ endpoint })).observe(
      (performance.now() - started) / 1000,
    );
  }

  private failed(err: CoreError, method: string, path: string): void {
    this.failures++;
    const delay = backoffDelay(this.failures - 1, this.minBackoffMs, this.maxBackoffMs);
    // Jitter spreads the retries of many binds so a recovering core is not hit all at once.
    this.nextTryAt = Date.now() + equalJitter(delay);
    const fields = {
      endpoint: err.endpoint,
      method,
      path,
      status: err.status,
      outcome: err.outcome,
      failures: this.failures,
    };
    if (this.healthy) {
      this.healthy = false;
      this.metrics?.coreUp.set(0);
      // "core api ... connection refused/timeout/http 503": the seeds' log-based alerts match these words.
      this.log.error(fields, err.message);
      this.emit('down', err);
    } else {
      this.log.debug(fields, err.message);
    }
  }

  private recovered(): void {
    if (this.healthy) return;
    this.log.info({ failures: this.failures }, 'core api reachable again');
    this.healthy = true;
    this.failures = 0;
    this.nextTryAt = 0;
    this.metrics?.coreUp.set(1);
    this.emit('up');
  }
}

function messagePath(id: string): string {
  return `/api/messages/${encodeURIComponent(id)}`;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function detail(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t === '' ? '' : `: ${t.length > 200 ? t.slice(0, 200) + '…' : t}`;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'ETIMEDOUT',
]);

function transportError(endpoint: CoreEndpoint, err: unknown, timeoutMs: number): CoreError {
  const e = err as {
    code?: string;
    name?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  const code = e.code ?? e.cause?.code;
  if (
    (code !== undefined && TIMEOUT_CODES.has(code)) ||
    e.name === 'TimeoutError' ||
    e.name === 'AbortError'
  ) {
    return new CoreError(`core api ${endpoint}: timeout after ${timeoutMs} ms`, {
      endpoint,
      temporary: true,
      outcome: 'timeout',
      cause: err,
    });
  }
  const what =
    code === 'ECONNREFUSED' ? 'connection refused' : `connection error (${code ?? e.message ?? 'unknown'})`;
  // Every transport failure is temporary, TLS ones included: the gateway must keep messages
  // (and tell SMPP peers to retry) rather than drop them while someone fixes the certificate.
  return new CoreError(`core api ${endpoint}: ${what}`, {
    endpoint,
    temporary: true,
    outcome: 'connection_error',
    cause: err,
  });
}
