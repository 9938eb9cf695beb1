/**
 * A plain authenticated GET against the API server for any resource path, with the KubeConfig's
 * credentials and TLS settings (the generated API classes need one method per resource kind,
 * and an informer must list core and custom resources alike).
 */
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';

export type Query = Record<string, string | number | boolean | undefined>;

/** Path of a resource collection: core `v1` under /api, everything else under /apis. */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${base}/${plural}`;
}

/** GETs JSON; non-2xx answers throw ApiException whose body is the server's Status. */
export async function getJson<T>(
  kc: KubeConfig,
  path: string,
  query: Query = {},
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<T> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('KubeConfig has no current cluster');
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  const reqOpts: RequestOptions & { headers: Record<string, string> } = {
    method: 'GET',
    headers: { accept: 'application/json' },
  };
  await kc.applyToHTTPSOptions(reqOpts);
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = send(url, { ...reqOpts, signal: opts.signal, timeout: opts.timeoutMs ?? 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the raw text for the error
  }
  if (status < 200 || status > 299) {
    const msg = (body as { message?: unknown } | null)?.message;
    throw new ApiException(status, typeof msg === 'string' ? msg : `HTTP ${status}`, body, {});
  }
  return body as T;
}

/** The HTTP status of an error from the client library, our getJson or a watch; else undefined. */
export function httpStatusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; statusCode?: unknown };
    if (typeof e.statusCode === 'number') return e.statusCode;
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}
