/**
 * Plain authenticated requests against the API server for any resource path, with the
 * KubeConfig's credentials and TLS settings over kept-alive connections (the generated API
 * classes need one method per resource kind, an informer must list core and custom resources
 * alike, and the hot writes — status, finalizers, Leases — must not pay a TLS handshake each).
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import {
  Agent as HttpsAgent,
  request as httpsRequest,
  type RequestOptions as HttpsRequestOptions,
} from 'node:https';
import {
  createSecureContext,
  type ConnectionOptions,
  type SecureContext,
  type SecureContextOptions,
} from 'node:tls';
import { ApiException, type KubeConfig } from '@kubernetes/client-node';

export type Query = Record<string, string | number | boolean | undefined>;

/** Path of a resource collection: core `v1` under /api, everything else under /apis. */
export function collectionPath(apiVersion: string, plural: string, namespace?: string): string {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}` : `${base}/${plural}`;
}

export interface KubeRequestOptions {
  query?: Query;
  /** sent as JSON */
  body?: unknown;
  /** default application/json; merge patches: application/merge-patch+json */
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * One keep-alive connection pool per KubeConfig. The generated client opens a new TLS
 * connection (and builds a new SecureContext) for each call: at a thousand status writes that
 * was most of a pod's CPU and most of a failover's time. Credentials are applied per request,
 * so a rotated service-account token is picked up.
 */
const pools = new WeakMap<KubeConfig, { https: HttpsAgent; http: HttpAgent }>();

function poolOf(kc: KubeConfig): { https: HttpsAgent; http: HttpAgent } {
  let p = pools.get(kc);
  if (!p) {
    p = {
      https: new HttpsAgent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16 }),
      http: new HttpAgent({ keepAlive: true, maxSockets: 64, maxFreeSockets: 16 }),
    };
    pools.set(kc, p);
  }
  return p;
}

const sameMaterial = (a: unknown, b: unknown): boolean =>
  a === b || (Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b));

/** The last SecureContext built per KubeConfig, with what it was built from. */
const contexts = new WeakMap<
  KubeConfig,
  Pick<SecureContextOptions, 'ca' | 'cert' | 'key'> & { context: SecureContext }
>();

/**
 * Each new TLS connection otherwise parses the CA, certificate and key into a SecureContext of
 * its own (a failover opens dozens at once: 2% of the survivor's CPU while it took over). The
 * same material read again gets the same context; rotated material a new one.
 */
function reuseSecureContext(
  kc: KubeConfig,
  o: HttpsRequestOptions & Pick<ConnectionOptions, 'secureContext'>,
): void {
  if (o.pfx !== undefined || o.passphrase !== undefined) return;
  let c = contexts.get(kc);
  if (!c || !sameMaterial(c.ca, o.ca) || !sameMaterial(c.cert, o.cert) || !sameMaterial(c.key, o.key)) {
    const material = { ca: o.ca, cert: o.cert, key: o.key };
    c = { ...material, context: createSecureContext(material) };
    contexts.set(kc, c);
  }
  delete o.ca;
  delete o.cert;
  delete o.key;
  o.secureContext = c.context;
}

/** An answer of the API server: the HTTP status and the body (parsed JSON, or the raw text). */
export interface KubeAnswer<T> {
  status: number;
  body: T;
}

/**
 * Any request, JSON in and out, whatever the status. `pooled: false` for a short-lived
 * KubeConfig (one per console viewer): its connections are not kept open in a pool of their own.
 */
export async function requestAnswer<T>(
  kc: KubeConfig,
  method: string,
  path: string,
  opts: KubeRequestOptions & { pooled?: boolean } = {},
): Promise<KubeAnswer<T>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('KubeConfig has no current cluster');
  const url = new URL(cluster.server + path);
  for (const [k, v] of Object.entries(opts.query ?? {}))
    if (v !== undefined) url.searchParams.set(k, String(v));
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  const headers: Record<string, string> = { accept: 'application/json' };
  if (payload) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    headers['content-length'] = String(payload.length);
  }
  const reqOpts: HttpsRequestOptions & { headers: Record<string, string> } = { method, headers };
  await kc.applyToHTTPSOptions(reqOpts);
  const https = url.protocol !== 'http:';
  if (https) reuseSecureContext(kc, reqOpts);
  const pool = opts.pooled === false ? undefined : poolOf(kc);
  const send = https ? httpsRequest : httpRequest;
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = send(
      url,
      {
        ...reqOpts,
        agent: pool === undefined ? undefined : https ? pool.https : pool.http,
        signal: opts.signal,
        timeout: opts.timeoutMs ?? 60_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // a non-JSON answer (a proxy's error page): keep the text
  }
  return { status, body: body as T };
}

/** Any request; JSON in and out. Non-2xx answers throw ApiException whose body is the server's Status. */
export async function requestJson<T>(
  kc: KubeConfig,
  method: string,
  path: string,
  opts: KubeRequestOptions = {},
): Promise<T> {
  const { status, body } = await requestAnswer<unknown>(kc, method, path, opts);
  if (status < 200 || status > 299) {
    const msg = (body as { message?: unknown } | null)?.message;
    throw new ApiException(status, typeof msg === 'string' ? msg : `HTTP ${status}`, body, {});
  }
  return body as T;
}

/** GETs JSON; non-2xx answers throw ApiException whose body is the server's Status. */
export function getJson<T>(
  kc: KubeConfig,
  path: string,
  query: Query = {},
  opts: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<T> {
  return requestJson<T>(kc, 'GET', path, { query, ...opts });
}

/** Path of one namespaced object (or of its subresource). */
export function objectPath(
  apiVersion: string,
  plural: string,
  namespace: string,
  name: string,
  subresource?: string,
): string {
  const p = `${collectionPath(apiVersion, plural, namespace)}/${encodeURIComponent(name)}`;
  return subresource ? `${p}/${subresource}` : p;
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
