import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { getJson } from '../../src/kube/http.js';
import { adminKubeConfig } from './helpers.js';

/** The admin KubeConfig with its cluster's CA replaced (the server's chain no longer verifies). */
function withCa(base: KubeConfig, caData: string): KubeConfig {
  const kc = new KubeConfig();
  const cluster = base.getCurrentCluster();
  const user = base.getCurrentUser();
  if (!cluster || !user) throw new Error('admin kubeconfig without cluster or user');
  kc.loadFromOptions({
    clusters: [{ ...cluster, caFile: undefined, caData }],
    users: [user],
    contexts: [{ name: 'c', cluster: cluster.name, user: user.name }],
    currentContext: 'c',
  });
  return kc;
}

describe('kube http pool', () => {
  it('verifies the server against the configured CA, on reused and on rotated TLS material', async () => {
    const admin = adminKubeConfig();
    for (let i = 0; i < 3; i++) {
      const v = await getJson<{ major?: string }>(admin, '/version');
      expect(v.major).toBeDefined();
    }
    // The client certificate is not the CA that signed the server's: refused, not trusted
    // because a context was built before for the right CA.
    const cert = admin.getCurrentUser()?.certData;
    expect(cert).toBeDefined();
    const wrong = withCa(admin, cert as string);
    await expect(getJson(wrong, '/version')).rejects.toThrow(/certificate|self.signed|issuer/i);
    // And the right CA on that same KubeConfig's next request works again.
    const right = admin.getCurrentCluster()?.caData;
    if (right) {
      const back = withCa(admin, right);
      const v = await getJson<{ major?: string }>(back, '/version');
      expect(v.major).toBeDefined();
    }
  });
});
