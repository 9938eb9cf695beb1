// Test-side access to the shared control plane: KubeConfigs, a namespace per test, kubectl.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeEach, inject } from 'vitest';
import { poll } from '../helpers/wait.js';
import type { ControlPlaneInfo } from './control-plane.js';

export function controlPlane(): ControlPlaneInfo {
  return inject('controlPlane');
}

function load(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** Admin (system:masters) KubeConfig of the shared plane, or of `info` if given. */
export function adminKubeConfig(info: ControlPlaneInfo = controlPlane()): KubeConfig {
  return load(info.adminKubeconfig);
}

/** KubeConfig of the ServiceAccount default/smpp-restricted, which has no RBAC unless granted. */
export function restrictedKubeConfig(info: ControlPlaneInfo = controlPlane()): KubeConfig {
  return load(info.restrictedKubeconfig);
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/**
 * Gives each test of the calling file its own namespace, created before and deleted after
 * each test. Call at file or describe level; read `.name` inside the test.
 */
export function useNamespace(prefix = 't'): { readonly name: string } {
  let current: string | undefined;
  const api = (): CoreV1Api => adminKubeConfig().makeApiClient(CoreV1Api);
  beforeEach(async () => {
    current = uniqueName(prefix);
    await api().createNamespace({ body: { metadata: { name: current } } });
  });
  afterEach(async () => {
    if (!current) return;
    const name = current;
    current = undefined;
    // Namespace deletion is asynchronous (no controller-manager runs here, so it stays
    // Terminating); names are unique, so that never collides.
    await api()
      .deleteNamespace({ name })
      .catch(() => undefined);
  });
  return {
    get name(): string {
      if (!current) throw new Error('useNamespace(): only available inside a test');
      return current;
    },
  };
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the cached kubectl as the admin (or the given kubeconfig); never throws on exit codes. */
export function kubectl(
  args: string[],
  opts: { input?: string; kubeconfig?: string; info?: ControlPlaneInfo } = {},
): Promise<KubectlResult> {
  const info = opts.info ?? controlPlane();
  return new Promise((resolvePromise) => {
    const child = execFile(
      info.kubectl,
      ['--kubeconfig', opts.kubeconfig ?? info.adminKubeconfig, ...args],
      { maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolvePromise({ code, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Polls `check` until it returns a value other than undefined (or throws after timeoutMs). */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  // A check may return false as a value here, which poll() would take for "not yet".
  const box = await poll(
    async () => {
      const v = await check();
      return v === undefined ? undefined : { v };
    },
    { timeoutMs, what, intervalMs: 100, ignoreErrors: true },
  );
  return box.v;
}

/** Compacts etcd's history up to its current revision (through etcd's JSON gateway). */
export async function compactEtcd(etcdUrl: string): Promise<void> {
  const range = await fetch(`${etcdUrl}/v3/kv/range`, {
    method: 'POST',
    body: JSON.stringify({ key: Buffer.from('/').toString('base64') }),
  });
  const body = (await range.json()) as { header: { revision: string } };
  const res = await fetch(`${etcdUrl}/v3/kv/compaction`, {
    method: 'POST',
    body: JSON.stringify({ revision: body.header.revision, physical: true }),
  });
  if (res.status !== 200) throw new Error(`etcd compaction failed: HTTP ${res.status} ${await res.text()}`);
}
