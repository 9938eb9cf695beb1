// The RBAC written in docs/rbac.md is enough: a controller running as a ServiceAccount that has
// only those rules (as a Role in its one namespace) binds, writes status and events.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CoreV1Api, RbacAuthorizationV1Api, type V1PolicyRule } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSmscSim, type RunningSmscSim } from '../../../src/sim/index.js';
import { adminKubeConfig, controlPlane, eventually, restrictedKubeConfig, useNamespace } from '../helpers.js';
import {
  apis,
  clientBind,
  ensureCrds,
  getBind,
  GV,
  putSecret,
  ready,
  startPod,
  type Pod,
} from './harness.js';

async function documentedRules(): Promise<V1PolicyRule[]> {
  const md = await readFile(resolve(import.meta.dirname, '../../../docs/rbac.md'), 'utf8');
  const block = /```yaml\n([\s\S]*?)```/.exec(md)?.[1];
  if (!block) throw new Error('docs/rbac.md has no yaml block');
  return (parse(block) as { rules: V1PolicyRule[] }).rules;
}

describe('documented RBAC', () => {
  const ns = useNamespace('rbac');
  let sim: RunningSmscSim | undefined;
  let pod: Pod | undefined;

  beforeAll(async () => {
    await ensureCrds();
  });
  afterEach(async () => {
    await pod?.stop();
    await sim?.close();
  });

  it('is enough for the controller to run a bind', async () => {
    const rbac = adminKubeConfig().makeApiClient(RbacAuthorizationV1Api);
    const [saNamespace, saName] = controlPlane()
      .restrictedUser.replace('system:serviceaccount:', '')
      .split(':');
    await rbac.createNamespacedRole({
      namespace: ns.name,
      body: { metadata: { name: 'smpp-operator' }, rules: await documentedRules() },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns.name,
      body: {
        metadata: { name: 'smpp-operator' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'smpp-operator' },
        subjects: [{ kind: 'ServiceAccount', name: saName ?? '', namespace: saNamespace ?? '' }],
      },
    });
    // The restricted identity can do nothing outside the namespace it was granted.
    const denied = await restrictedKubeConfig()
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace: 'default' })
      .then(
        () => 'allowed',
        () => 'denied',
      );
    expect(denied).toBe('denied');

    sim = await startSmscSim({ httpPort: null });
    pod = await startPod({
      name: 'gw-rbac',
      operatorNamespace: ns.name,
      namespaces: [ns.name],
      leaseDurationMs: 4000,
      kc: restrictedKubeConfig(),
    });
    const { core, custom } = apis();
    await putSecret(core, ns.name, 'creds', 'pw');
    await custom.createNamespacedCustomObject({
      ...GV,
      plural: 'smppclientbinds',
      namespace: ns.name,
      body: clientBind(ns.name, 'vf', {
        host: '127.0.0.1',
        port: sim.smppPort,
        systemId: 'sys',
        passwordSecretRef: { name: 'creds', key: 'password' },
      }),
    });
    const b = await eventually(
      async () => {
        const x = await getBind(custom, ns.name, 'vf');
        return ready(x)?.status === 'True' ? x : undefined;
      },
      30_000,
      'Ready as the restricted ServiceAccount',
    );
    expect(b.status?.gatewayPod).toBe('gw-rbac');
    const events = await core.listNamespacedEvent({ namespace: ns.name });
    expect(events.items.some((e) => e.reason === 'Bound' && e.involvedObject.name === 'vf')).toBe(true);
  });
});
