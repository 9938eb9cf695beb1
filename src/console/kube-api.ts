/**
 * What the console needs beyond src/kube/http.ts for its API server calls (TokenReview and
 * SubjectAccessReview with the pod's own ServiceAccount, the bind patch with the viewer's
 * token): a KubeConfig that holds only the viewer's token, and the message of a Status.
 */
import { KubeConfig } from '@kubernetes/client-node';

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
