/**
 * How the core client's requests reach the core: a keep-alive undici Pool, driven through the
 * dispatcher API.
 *
 * Tried and measured slower: pipelining the reports (8 per connection) with each turn's writes
 * coalesced into one syscall. The gateway made fewer syscalls, but the core answered pipelined
 * requests one write each all the same and spent more per request; end to end it lost 15%.
 */
import { Pool, type Dispatcher } from 'undici';
import { utf8Text } from './http1-responses.js';

/** Everything the Pool needs. */
export interface PoolSettings {
  origin: string;
  connections: number;
  /** Connect, response-headers and body-gap timeout, ms. */
  timeoutMs: number;
  /** For https origins. */
  tls?: { rejectUnauthorized: boolean; ca?: string[] };
}

export interface Exchange {
  path: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH';
  headers: Record<string, string>;
  body: string | null;
  /** Keep a 2xx body (error bodies are always kept for the message). */
  keepSuccessBody: boolean;
}

export interface ExchangeResult {
  status: number;
  text: string;
}

function createPool(s: PoolSettings): Pool {
  return new Pool(s.origin, {
    connections: s.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: s.timeoutMs,
    bodyTimeout: s.timeoutMs,
    connect: { timeout: s.timeoutMs, ...(s.tls ?? {}) },
  });
}

/**
 * One request through undici's dispatcher, answering the status and the body as text. Used
 * instead of pool.request(), whose streaming body and promise chain cost more per call than
 * the rest of a report: the core answers small JSON documents, read whole.
 */
export function exchange(pool: Dispatcher, x: Exchange): Promise<ExchangeResult> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let keep = false;
    const chunks: Buffer[] = [];
    const handler: Dispatcher.DispatchHandler = {
      // Its presence tells undici this handler speaks the controller API (it wraps the others).
      onRequestStart() {},
      onResponseStart(_c, statusCode) {
        status = statusCode;
        keep = x.keepSuccessBody || statusCode < 200 || statusCode >= 300;
      },
      onResponseData(_c, chunk) {
        if (keep) chunks.push(chunk);
      },
      onResponseEnd() {
        resolve({ status, text: utf8Text(chunks) });
      },
      onResponseError(_c, err) {
        reject(err);
      },
    };
    pool.dispatch({ path: x.path, method: x.method, headers: x.headers, body: x.body }, handler);
  });
}

export class PoolTransport {
  private readonly pool: Pool;

  constructor(s: PoolSettings) {
    this.pool = createPool(s);
  }

  exchange(x: Exchange): Promise<ExchangeResult> {
    return exchange(this.pool, x);
  }

  async close(): Promise<void> {
    await this.pool.close().catch(() => this.pool.destroy());
  }
}
