// One real control plane (etcd + kube-apiserver) for the whole `kube` test project. Tests reach
// it through inject('controlPlane') (see helpers.ts). Set SMPP_CP_STATE to the state dir of a
// plane started by hand to reuse it across runs (it is then left running).
import type { TestProject } from 'vitest/node';
import {
  attachControlPlane,
  startControlPlane,
  stopControlPlane,
  type ControlPlaneInfo,
} from './control-plane.js';

declare module 'vitest' {
  export interface ProvidedContext {
    controlPlane: ControlPlaneInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const existing = process.env.SMPP_CP_STATE;
  const info = existing ? await attachControlPlane(existing) : await startControlPlane();
  project.provide('controlPlane', info);
  return async () => {
    await stopControlPlane(info);
  };
}
