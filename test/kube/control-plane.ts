// Starting and stopping the test control plane (hack/control-plane.sh) from Node: used by the
// vitest global setup (one plane per run) and by tests that need a private plane they can break.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CONTROL_PLANE_SCRIPT = resolve(import.meta.dirname, '../../hack/control-plane.sh');

/** What a test needs to reach the plane; all paths are absolute. */
export interface ControlPlaneInfo {
  stateDir: string;
  server: string; // https://127.0.0.1:PORT
  etcd: string; // http://127.0.0.1:PORT
  adminKubeconfig: string; // client certificate in system:masters
  restrictedKubeconfig: string; // token of a ServiceAccount with no RBAC
  restrictedUser: string; // system:serviceaccount:default:smpp-restricted
  kubectl: string;
  kubeVersion: string;
  /** true when the plane was started by this process (and must be stopped by it) */
  owned: boolean;
}

async function script(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    const { stdout } = await run('bash', [CONTROL_PLANE_SCRIPT, ...args], {
      env,
      maxBuffer: 64 * 1024 * 1024,
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`hack/control-plane.sh ${args.join(' ')} failed: ${e.stderr ?? e.message}`);
  }
}

export function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function infoFromEnv(env: Record<string, string>, owned: boolean): ControlPlaneInfo {
  const need = (k: string): string => {
    const v = env[k];
    if (!v) throw new Error(`control plane env has no ${k}`);
    return v;
  };
  return {
    stateDir: need('SMPP_CP_STATE'),
    server: need('SMPP_CP_SERVER'),
    etcd: need('SMPP_CP_ETCD'),
    adminKubeconfig: need('SMPP_CP_ADMIN_KUBECONFIG'),
    restrictedKubeconfig: need('SMPP_CP_RESTRICTED_KUBECONFIG'),
    restrictedUser: need('SMPP_CP_RESTRICTED_USER'),
    kubectl: need('SMPP_CP_KUBECTL'),
    kubeVersion: need('SMPP_CP_KUBE_VERSION'),
    owned,
  };
}

/** Builds (cached) and starts a plane in a fresh temp dir; the watchdog stops it if we die. */
export async function startControlPlane(opts: { apiserverArgs?: string[] } = {}): Promise<ControlPlaneInfo> {
  const dir = await mkdtemp(join(tmpdir(), 'smpp-cp-'));
  const stdout = await script(['start', dir], {
    ...process.env,
    SMPP_CP_OWNER_PID: String(process.pid),
    SMPP_CP_APISERVER_EXTRA_ARGS: (opts.apiserverArgs ?? []).join(' '),
  });
  return infoFromEnv(parseEnv(stdout), true);
}

/** A plane someone started by hand (`hack/control-plane.sh start DIR`), reused and left running. */
export async function attachControlPlane(stateDir: string): Promise<ControlPlaneInfo> {
  return infoFromEnv(parseEnv(await readFile(join(stateDir, 'env'), 'utf8')), false);
}

export async function stopControlPlane(info: ControlPlaneInfo): Promise<void> {
  if (info.owned) await script(['stop', info.stateDir]);
}

export async function stopApiserver(info: ControlPlaneInfo): Promise<void> {
  await script(['stop-apiserver', info.stateDir]);
}

export async function startApiserver(info: ControlPlaneInfo): Promise<void> {
  await script(['start-apiserver', info.stateDir]);
}
