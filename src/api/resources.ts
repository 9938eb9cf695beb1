import { z } from 'zod';
import { API_VERSION, CLIENT_BIND_KIND, DEFAULT_NAMESPACE, SERVER_BIND_KIND } from './constants.js';
import { clientBindSpecSchema, type ClientBindSpec } from './client-bind.js';
import { DNS_SUBDOMAIN_PATTERN } from './fields.js';
import { serverBindSpecSchema, type ServerBindSpec } from './server-bind.js';
import {
  bindStatusSchema,
  serverBindStatusSchema,
  type BindStatus,
  type ServerBindStatus,
} from './status.js';

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  deletionTimestamp?: string;
  finalizers?: string[];
  creationTimestamp?: string;
}

export interface SmppClientBind {
  apiVersion: string;
  kind: typeof CLIENT_BIND_KIND;
  metadata: ObjectMeta;
  spec: ClientBindSpec;
  status?: BindStatus;
}

export interface SmppServerBind {
  apiVersion: string;
  kind: typeof SERVER_BIND_KIND;
  metadata: ObjectMeta;
  spec: ServerBindSpec;
  status?: ServerBindStatus;
}

const DNS_LABEL_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Bind names appear in metric labels, logs and the console, and a DNS-label length keeps room for
 * names derived from them; the CRD enforces the same limit with CEL.
 */
export const BIND_NAME_MAX_LENGTH = 63;
export const BIND_NAME_MESSAGE = `must be at most ${BIND_NAME_MAX_LENGTH} characters`;

/** metadata of a manifest: unknown fields (managedFields, ...) are dropped, as standalone mode ignores them. */
const objectMetaSchema = z.object({
  name: z
    .string('is required')
    .min(1, 'is required')
    .max(BIND_NAME_MAX_LENGTH, BIND_NAME_MESSAGE)
    .regex(new RegExp(DNS_SUBDOMAIN_PATTERN), 'must be lower case letters, digits, "-" and "."'),
  namespace: z
    .string()
    .max(63, 'must be at most 63 characters')
    .regex(DNS_LABEL_PATTERN, 'must be lower case letters, digits and "-"')
    .default(DEFAULT_NAMESPACE),
  uid: z.string().optional(),
  generation: z.int().optional(),
  resourceVersion: z.string().optional(),
  annotations: z.record(z.string(), z.string('annotation values must be strings')).optional(),
  labels: z.record(z.string(), z.string('label values must be strings')).optional(),
  deletionTimestamp: z.string().optional(),
  finalizers: z.array(z.string()).optional(),
  creationTimestamp: z.string().optional(),
});

/** A whole SmppClientBind manifest, for standalone mode (the apiserver does this with the CRD). */
export const smppClientBindSchema = z.object({
  apiVersion: z.literal(API_VERSION, `must be ${API_VERSION}`),
  kind: z.literal(CLIENT_BIND_KIND),
  metadata: objectMetaSchema,
  spec: clientBindSpecSchema,
  status: bindStatusSchema.optional(),
});

export const smppServerBindSchema = z.object({
  apiVersion: z.literal(API_VERSION, `must be ${API_VERSION}`),
  kind: z.literal(SERVER_BIND_KIND),
  metadata: objectMetaSchema,
  spec: serverBindSpecSchema,
  status: serverBindStatusSchema.optional(),
});

/** The SMS core name of a bind: spec.smscName, or metadata.name when unset. */
export function smscNameOf(bind: {
  metadata: { name: string };
  spec: { smscName?: string | undefined };
}): string {
  return bind.spec.smscName ?? bind.metadata.name;
}

/** Formats zod issues as "spec.port: must be a whole number between 1 and 65535" lines. */
export function formatIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => {
    const path = issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
      .join('');
    const where = [prefix, path]
      .filter((s) => s !== '')
      .join(prefix && path && !path.startsWith('[') ? '.' : '');
    return where ? `${where}: ${issue.message}` : issue.message;
  });
}
