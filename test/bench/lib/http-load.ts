// A concurrent HTTP load generator over keep-alive connections (undici Pool), for feeding gateways
// through their HTTP interfaces in benchmarks.
import { Pool } from 'undici';

export interface HttpLoadOptions {
  origin: string;
  /** Path (with query) of the i-th request. */
  path(i: number): string;
  method?: 'GET' | 'POST';
  body?(i: number): string;
  headers?: Record<string, string>;
  total: number;
  concurrency: number;
  /** Status codes that count as accepted (default: any 2xx). */
  accept?(status: number): boolean;
  /** Stops issuing requests when this aborts. */
  signal?: AbortSignal;
}

export interface HttpLoadResult {
  ok: number;
  failed: number;
  statuses: Record<number, number>;
  firstError?: string;
  elapsedMs: number;
}

export async function runHttpLoad(o: HttpLoadOptions): Promise<HttpLoadResult> {
  const pool = new Pool(o.origin, { connections: o.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const accept = o.accept ?? ((s: number) => s >= 200 && s < 300);
  const result: HttpLoadResult = { ok: 0, failed: 0, statuses: {}, elapsedMs: 0 };
  let next = 0;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < o.total && !o.signal?.aborted) {
      const i = next++;
      try {
        const res = await pool.request({
          path: o.path(i),
          method: o.method ?? 'GET',
          ...(o.body ? { body: o.body(i) } : {}),
          ...(o.headers ? { headers: o.headers } : {}),
        });
        const text = await res.body.text();
        result.statuses[res.statusCode] = (result.statuses[res.statusCode] ?? 0) + 1;
        if (accept(res.statusCode)) result.ok++;
        else {
          result.failed++;
          result.firstError ??= `HTTP ${res.statusCode}: ${text.slice(0, 200)}`;
        }
      } catch (err) {
        result.failed++;
        result.firstError ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(o.concurrency, o.total) }, worker));
  } finally {
    result.elapsedMs = performance.now() - t0;
    await pool.close();
  }
  return result;
}
