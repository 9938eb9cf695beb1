/**
 * Status is written only through the status subresource, by the controller. Its schema lives
 * here (not in the controller) so the CRD and the TypeScript types come from one place.
 */
import { z } from 'zod';
import { bindTypeSchema, field } from './fields.js';

export const PHASES = ['Pending', 'Connecting', 'Bound', 'Reconnecting', 'Suspended', 'Error'] as const;
export const phaseSchema = z.enum(PHASES);
export type Phase = z.infer<typeof phaseSchema>;

const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

const time = (description: string) => field(z.string(), description, [], { format: 'date-time' });
const generation = (description: string) => field(z.int().min(0), description, [], { format: 'int64' });

/** metav1.Condition, with the same limits the upstream type declares. */
export const conditionSchema = field(
  z.object({
    type: field(
      z
        .string()
        .min(1)
        .max(316)
        .regex(
          /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/,
        ),
      'Type of condition in CamelCase, e.g. Ready.',
    ),
    status: field(z.enum(CONDITION_STATUSES), 'True, False or Unknown.'),
    observedGeneration: generation('metadata.generation the condition was set from.').optional(),
    lastTransitionTime: time('Last time the condition changed status.'),
    reason: field(
      z
        .string()
        .min(1)
        .max(1024)
        .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
      'Machine-readable CamelCase reason for the last transition.',
    ),
    message: field(z.string().max(32768), 'Human-readable details of the last transition.'),
  }),
  'A condition in metav1.Condition shape.',
);
export type Condition = z.infer<typeof conditionSchema>;

const bindStatusShape = {
  observedGeneration: generation('metadata.generation this status was computed from.').optional(),
  phase: field(phaseSchema, 'Pending, Connecting, Bound, Reconnecting, Suspended or Error.').optional(),
  gatewayPod: field(z.string().max(253), 'Gateway pod that runs the session.').optional(),
  boundSince: time('When the current session bound.').optional(),
  lastError: field(
    z.string().max(4096),
    'Last SMPP or connection error, e.g. "bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)".',
  ).optional(),
  conditions: field(z.array(conditionSchema).max(32), 'Ready tells whether the bind does its job.', [], {
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  }).optional(),
};

export const bindStatusSchema = field(z.object(bindStatusShape), 'Observed state of the bind.');
export type BindStatus = z.infer<typeof bindStatusSchema>;

export const serverSessionStatusSchema = field(
  z.object({
    pod: field(z.string().max(253), 'Gateway pod holding the session.'),
    peerAddress: field(z.string().max(64), 'Partner source address (IP:port).'),
    bindType: bindTypeSchema,
    since: time('When the session bound.'),
  }),
  'A live partner session.',
);
export type ServerSessionStatus = z.infer<typeof serverSessionStatusSchema>;

export const serverBindStatusSchema = field(
  z.object({
    ...bindStatusShape,
    sessionCount: field(z.int().min(0), 'Live sessions of this partner across all gateway pods.').optional(),
    sessions: field(
      z.array(serverSessionStatusSchema).max(10000),
      'Live sessions, per gateway pod.',
    ).optional(),
  }),
  'Observed state of the partner bind.',
);
export type ServerBindStatus = z.infer<typeof serverBindStatusSchema>;
