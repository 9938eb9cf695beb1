import { z } from 'zod';
import {
  addressingSchema,
  BIND_TYPES,
  bindTypeSchema,
  codecSchema,
  field,
  intRange,
  ipAllowlistEntrySchema,
  queueCheckIntervalSchema,
  secretKeySelectorSchema,
  smscNameSchema,
  suspendSchema,
  systemIdSchema,
  tpsLimitSchema,
} from './fields.js';

function unique<T>(list: readonly T[]): boolean {
  return new Set(list).size === list.length;
}

export const serverBindSpecSchema = field(
  z.strictObject({
    smscName: smscNameSchema.optional(),
    systemId: field(systemIdSchema, 'system_id the partner must present when binding to our listener.'),
    passwordSecretRef: field(
      secretKeySelectorSchema,
      'Secret key holding the password the partner must present. The password itself never appears in the bind.',
    ),
    allowedBindTypes: field(
      z
        .array(bindTypeSchema)
        .min(1, 'must allow at least one bind type')
        .max(3, 'must list each bind type at most once')
        .refine(unique, { message: 'must list each bind type at most once' })
        .default([...BIND_TYPES]),
      'Bind types the partner may use.',
      [],
      { 'x-kubernetes-list-type': 'set' },
    ),
    ipAllowlist: field(
      z
        .array(ipAllowlistEntrySchema)
        .max(256, 'must have at most 256 entries')
        .refine(unique, { message: 'must not list an entry twice' })
        .default([]),
      'Source addresses the partner may bind from: IPv4/IPv6 addresses or CIDR blocks. Empty allows any address (not recommended in production).',
      [],
      { 'x-kubernetes-list-type': 'set' },
    ),
    tpsLimit: field(tpsLimitSchema, 'Maximum deliver_sm per second we send to this partner.').default(100),
    inboundTpsLimit: intRange(
      1,
      10000,
      'Maximum submit_sm per second the partner may send; beyond it the partner gets ESME_RTHROTTLED.',
    ).default(100),
    queueCheckInterval: queueCheckIntervalSchema.optional(),
    maxSessions: intRange(1, 1000, 'Maximum concurrent sessions of this partner, per gateway pod.').default(
      4,
    ),
    suspend: field(
      suspendSchema,
      "true closes the partner's sessions and refuses new binds; false accepts them.",
    ).default(false),
    codec: codecSchema.prefault({}),
    addressing: addressingSchema.optional(),
  }),
  'A partner ESME allowed to bind to our SMPP listener.',
);

export type ServerBindSpec = z.output<typeof serverBindSpecSchema>;
export type ServerBindSpecInput = z.input<typeof serverBindSpecSchema>;
