/**
 * The few API server calls the console makes, as plain HTTP with a KubeConfig's credentials:
 * TokenReview and SubjectAccessReview with the pod's own ServiceAccount, and the bind patch
 * with the viewer's token (a KubeConfig that holds only that token; see userKubeConfig).
 */
import { request as httpRequest, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

export interface KubeAnswer<T> {
  status: number;
  body: T;
}

export async function kubeRequest<T>(
  kc: KubeConfig,
  method: 'POST' | 'PATCH' | 'GET',
  path: string,
  body?: unknown,
  contentType = 'application/json',
  timeoutMs = 10_000,
): Promise<KubeAnswer<T>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('KubeConfig has no current cluster');
  const url = new URL(cluster.server + path);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const opts: RequestOptions & { headers: Record<string, string> } = {
    method,
    headers: { accept: 'application/json' },
  };
  if (payload !== undefined) {
    opts.headers['content-type'] = contentType;
    opts.headers['content-length'] = String(Buffer.byteLength(payload));
  }
  await kc.applyToHTTPSOptions(opts);
  const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = send(url, { ...opts, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // a non-JSON answer (a proxy's error page): keep the text
  }
  return { status, body: parsed as T };
}

/**
 * The API server of `base` with nothing but the viewer's bearer token as credentials: requests
 * made with it are the viewer's own, authorized by the API server like kubectl's would be.
 */
export function userKubeConfig(base: KubeConfig, token: string): KubeConfig {
  const cluster = base.getCurrentCluster();
  if (!cluster) throw new Error('KubeConfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'api' }],
    users: [{ name: 'viewer', token }],
    contexts: [{ name: 'viewer', cluster: 'api', user: 'viewer' }],
    currentContext: 'viewer',
  });
  return kc;
}

/** message of a Kubernetes Status body, or a fallback. */
export function statusMessage(body: unknown, fallback: string): string {
  const m = (body as { message?: unknown } | null)?.message;
  return typeof m === 'string' && m !== '' ? m : fallback;
}
