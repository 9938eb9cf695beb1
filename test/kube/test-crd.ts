// A small CRD of our own for the kube/ primitives' tests (the operator's real CRDs live in crds/).
import { ApiextensionsV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import type { ControlPlaneInfo } from './control-plane.js';
import { controlPlane, eventually, kubectl } from './helpers.js';

export const WIDGET = {
  group: 'kubetest.smpp.omnimessage.io',
  version: 'v1',
  plural: 'widgets',
  kind: 'Widget',
} as const;

export interface Widget {
  apiVersion: string;
  kind: 'Widget';
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number; uid?: string };
  spec: { size: number; note?: string };
  status?: { phase?: string; observedGeneration?: number; message?: string };
}

export function widget(name: string, size = 1): Widget {
  return {
    apiVersion: `${WIDGET.group}/${WIDGET.version}`,
    kind: 'Widget',
    metadata: { name },
    spec: { size },
  };
}

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${WIDGET.plural}.${WIDGET.group}` },
  spec: {
    group: WIDGET.group,
    scope: 'Namespaced',
    names: { plural: WIDGET.plural, singular: 'widget', kind: WIDGET.kind, listKind: 'WidgetList' },
    versions: [
      {
        name: WIDGET.version,
        served: true,
        storage: true,
        subresources: { status: {} },
        additionalPrinterColumns: [
          { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
          { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
        ],
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                required: ['size'],
                properties: {
                  size: { type: 'integer', minimum: 1, maximum: 100 },
                  note: { type: 'string' },
                },
              },
              status: {
                type: 'object',
                properties: {
                  phase: { type: 'string', enum: ['Pending', 'Ready', 'Error'] },
                  observedGeneration: { type: 'integer' },
                  message: { type: 'string' },
                },
              },
            },
          },
        },
      },
    ],
  },
};

/**
 * Installs the Widget CRD (idempotent) and waits until widgets can be listed. Through kubectl:
 * the client library's typed ApiextensionsV1Api silently drops schema keywords whose model
 * names differ from the JSON names (`enum`, `default`, `x-kubernetes-*`).
 */
export async function ensureWidgetCrd(
  kc: KubeConfig,
  info: ControlPlaneInfo = controlPlane(),
): Promise<void> {
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  await eventually(
    async () => {
      // Parallel test files apply the same CRD; a conflict just means "try again".
      const r = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(crd), info });
      if (r.code !== 0) throw new Error(r.stderr);
      return true;
    },
    30_000,
    'Widget CRD applied',
  );
  await eventually(
    async () => {
      const got = await ext.readCustomResourceDefinition({ name: crd.metadata.name });
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
        ? true
        : undefined;
    },
    30_000,
    'Widget CRD Established',
  );
  const objects = kc.makeApiClient(CustomObjectsApi);
  // Established is set before the resource is served by every handler; list until it works.
  await eventually(
    async () => {
      await objects.listClusterCustomObject({ ...WIDGET });
      return true;
    },
    30_000,
    'widgets served',
  );
}
