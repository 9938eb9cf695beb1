/**
 * CustomResourceDefinitions generated from the zod schemas. The apiserver only accepts
 * "structural" schemas, so the JSON Schema zod emits is narrowed here, and anything that
 * cannot be made structural fails generation instead of failing at `kubectl apply`.
 */
import { z } from 'zod';
import { stringify } from 'yaml';
import { clientBindSpecSchema } from './client-bind.js';
import {
  CLIENT_BIND_KIND,
  CLIENT_BIND_PLURAL,
  GROUP,
  SERVER_BIND_KIND,
  SERVER_BIND_PLURAL,
  VERSION,
} from './constants.js';
import { BIND_NAME_MAX_LENGTH, BIND_NAME_MESSAGE } from './resources.js';
import { serverBindSpecSchema } from './server-bind.js';
import { bindStatusSchema, serverBindStatusSchema } from './status.js';

export type JsonSchema = { [key: string]: unknown };

/** Keywords a structural schema may carry (apiextensions.k8s.io/v1 JSONSchemaProps). */
const ALLOWED_KEYWORDS = new Set([
  'type',
  'description',
  'properties',
  'required',
  'items',
  'additionalProperties',
  'enum',
  'default',
  'format',
  'pattern',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'uniqueItems',
  'minProperties',
  'maxProperties',
  'multipleOf',
  'nullable',
  'example',
  'title',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
]);

export class StructuralSchemaError extends Error {
  override name = 'StructuralSchemaError';
}

function isObject(x: unknown): x is JsonSchema {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Narrows zod's JSON Schema to what the apiserver accepts: no `additionalProperties: false`
 * beside `properties` (the apiserver prunes unknown fields instead), no JavaScript safe-integer
 * bounds, and every node typed. Throws StructuralSchemaError naming the path otherwise.
 */
export function toStructural(schema: JsonSchema, path = ''): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema') continue;
    if (!ALLOWED_KEYWORDS.has(key)) {
      throw new StructuralSchemaError(
        `${path || '<root>'}: keyword "${key}" is not allowed in a structural schema`,
      );
    }
    if (key === 'additionalProperties' && value === false) continue;
    if ((key === 'minimum' || key === 'maximum') && Math.abs(Number(value)) === Number.MAX_SAFE_INTEGER)
      continue;
    if (key === 'properties' && isObject(value)) {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, sub]) => {
          if (!isObject(sub)) throw new StructuralSchemaError(`${path}.${name}: not a schema`);
          return [name, toStructural(sub, `${path}.${name}`)];
        }),
      );
      continue;
    }
    if (key === 'items') {
      if (!isObject(value)) throw new StructuralSchemaError(`${path}[]: items must be a single schema`);
      out.items = toStructural(value, `${path}[]`);
      continue;
    }
    if (key === 'additionalProperties' && isObject(value)) {
      out.additionalProperties = toStructural(value, `${path}.*`);
      continue;
    }
    out[key] = value;
  }
  if (typeof out.type !== 'string' && out['x-kubernetes-preserve-unknown-fields'] !== true) {
    throw new StructuralSchemaError(`${path || '<root>'}: every schema node needs a single "type"`);
  }
  if (out.properties !== undefined && out.additionalProperties !== undefined) {
    throw new StructuralSchemaError(`${path}: properties and additionalProperties are mutually exclusive`);
  }
  return out;
}

/** JSON Schema of a zod schema as written in a manifest (defaults optional), made structural. */
export function openApiOf(schema: z.ZodType): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input', target: 'openapi-3.0', unrepresentable: 'throw' });
  return toStructural(json as JsonSchema);
}

interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

const READY_PATH = '.status.conditions[?(@.type=="Ready")].status';

const CLIENT_COLUMNS: PrinterColumn[] = [
  { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Session phase' },
  { name: 'Host', type: 'string', jsonPath: '.spec.host', description: 'Carrier SMSC host' },
  { name: 'Port', type: 'integer', jsonPath: '.spec.port', priority: 1 },
  { name: 'System ID', type: 'string', jsonPath: '.spec.systemId', priority: 1 },
  { name: 'Bind Type', type: 'string', jsonPath: '.spec.bindType' },
  { name: 'TPS', type: 'integer', jsonPath: '.spec.tpsLimit', description: 'TPS limit' },
  {
    name: 'Gateway Pod',
    type: 'string',
    jsonPath: '.status.gatewayPod',
    description: 'Pod holding the session',
  },
  { name: 'Ready', type: 'string', jsonPath: READY_PATH },
  { name: 'Last Error', type: 'string', jsonPath: '.status.lastError', priority: 1 },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

const SERVER_COLUMNS: PrinterColumn[] = [
  { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
  {
    name: 'System ID',
    type: 'string',
    jsonPath: '.spec.systemId',
    description: 'system_id the partner binds with',
  },
  { name: 'Bind Types', type: 'string', jsonPath: '.spec.allowedBindTypes', priority: 1 },
  {
    name: 'TPS',
    type: 'integer',
    jsonPath: '.spec.tpsLimit',
    description: 'deliver_sm per second to the partner',
  },
  {
    name: 'Sessions',
    type: 'integer',
    jsonPath: '.status.sessionCount',
    description: 'Live partner sessions',
  },
  { name: 'Gateway Pod', type: 'string', jsonPath: '.status.gatewayPod', priority: 1 },
  { name: 'Ready', type: 'string', jsonPath: READY_PATH },
  { name: 'Last Error', type: 'string', jsonPath: '.status.lastError', priority: 1 },
  { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
];

interface KindDefinition {
  kind: string;
  plural: string;
  shortName: string;
  description: string;
  spec: z.ZodType;
  status: z.ZodType;
  columns: PrinterColumn[];
}

const KINDS: KindDefinition[] = [
  {
    kind: CLIENT_BIND_KIND,
    plural: CLIENT_BIND_PLURAL,
    shortName: 'scb',
    description: 'An outbound SMPP session to a carrier SMSC (a client bind).',
    spec: clientBindSpecSchema,
    status: bindStatusSchema,
    columns: CLIENT_COLUMNS,
  },
  {
    kind: SERVER_BIND_KIND,
    plural: SERVER_BIND_PLURAL,
    shortName: 'ssb',
    description: 'A partner ESME allowed to bind to the SMPP listener (a server bind).',
    spec: serverBindSpecSchema,
    status: serverBindStatusSchema,
    columns: SERVER_COLUMNS,
  },
];

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels: Record<string, string> };
  spec: JsonSchema;
}

function buildCrd(def: KindDefinition): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'smpp-operator', 'app.kubernetes.io/component': 'crd' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.kind.toLowerCase(),
        shortNames: [def.shortName],
        categories: ['smpp'],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.columns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: def.description,
              required: ['spec'],
              'x-kubernetes-validations': [
                {
                  rule: `self.metadata.name.size() <= ${BIND_NAME_MAX_LENGTH}`,
                  message: `metadata.name ${BIND_NAME_MESSAGE}`,
                },
              ],
              properties: {
                apiVersion: {
                  type: 'string',
                  description: 'APIVersion defines the versioned schema of this representation of an object.',
                },
                kind: {
                  type: 'string',
                  description: 'Kind is a string value representing the REST resource.',
                },
                metadata: { type: 'object' },
                spec: openApiOf(def.spec),
                status: openApiOf(def.status),
              },
            },
          },
        },
      ],
    },
  };
}

export function buildCrds(): CustomResourceDefinition[] {
  return KINDS.map(buildCrd);
}

const HEADER =
  '# Generated by `smpp-operator crds` from src/api/. Do not edit: change the schemas and regenerate.\n';

/** Deterministic YAML of one CRD (the --check in CI compares bytes). */
export function crdYaml(crd: CustomResourceDefinition): string {
  return HEADER + stringify(crd, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** File name under crds/ for a CRD, e.g. smppclientbinds.yaml. */
export function crdFileName(crd: CustomResourceDefinition): string {
  return `${crd.metadata.name.split('.')[0] ?? crd.metadata.name}.yaml`;
}
