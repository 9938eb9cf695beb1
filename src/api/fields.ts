/**
 * Building blocks shared by both bind kinds. Each field is declared once as a zod schema; its
 * description, range, default and CEL rules flow from here into the TypeScript types (z.infer),
 * standalone validation (parse) and the CRD's OpenAPI schema (crd.ts), so the three never drift.
 */
import { z } from 'zod';
import { DURATION_PATTERN, formatDuration, isDuration, parseDuration } from './duration.js';
import { isIpOrCidr } from './ip.js';

/** An `x-kubernetes-validations` entry. */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

/** A CEL rule for the apiserver plus the same check in TypeScript for standalone mode. */
export interface Rule<T> extends CelRule {
  check: (value: T) => boolean;
  /** Where the zod issue points, relative to the checked value (mirrors fieldPath). */
  path?: string[];
}

/** Attaches description, extra OpenAPI keywords and CEL rules (with their TypeScript twins). */
export function field<T extends z.ZodType>(
  schema: T,
  description: string,
  rules: Rule<z.output<T>>[] = [],
  openapi: Record<string, unknown> = {},
): T {
  let s = schema;
  for (const r of rules) {
    s = s.refine(r.check, { message: r.message, ...(r.path ? { path: r.path } : {}) });
  }
  const meta: Record<string, unknown> = { description, ...openapi };
  if (rules.length > 0) {
    meta['x-kubernetes-validations'] = rules.map(({ rule, message, fieldPath, reason }) => ({
      rule,
      message,
      ...(fieldPath ? { fieldPath } : {}),
      ...(reason ? { reason } : {}),
    }));
  }
  return s.meta(meta);
}

/**
 * A regular-expression check published as a CEL rule rather than an OpenAPI `pattern`, so the
 * apiserver answers with the message instead of "should match '^[a-z0-9]...'". The pattern is
 * kept to the RE2/JavaScript common subset and inserted as a CEL raw string.
 */
export function matching(pattern: string, message: string): Rule<string> {
  if (pattern.includes("'")) throw new Error(`pattern ${pattern} cannot be a CEL raw string`);
  const re = new RegExp(pattern);
  return { rule: `self.matches(r'${pattern}')`, message, check: (v: string) => re.test(v) };
}

export function intRange(min: number, max: number, description: string): z.ZodInt {
  const msg = `must be a whole number between ${min} and ${max}`;
  return field(z.int(msg).min(min, msg).max(max, msg), description);
}

/** A string with a unit ("500ms", "30s", "1m", "1h30m") bounded by [min, max]. */
export function duration(min: string, max: string, description: string): z.ZodString {
  const lo = parseDuration(min);
  const hi = parseDuration(max);
  const range = `must be between ${formatDuration(lo)} and ${formatDuration(hi)}`;
  return field(
    z.string().max(32, 'is too long for a duration'),
    `${description} A duration with a unit, e.g. "500ms", "30s", "1m"; between ${min} and ${max}.`,
    [
      matching(DURATION_PATTERN, DURATION_MESSAGE),
      {
        // Guarded: on a malformed value duration() would fail with a type-conversion error.
        rule: `!self.matches(r'${DURATION_PATTERN}') || (duration(self) >= duration('${min}') && duration(self) <= duration('${max}'))`,
        message: range,
        check: (v: string) => !isDuration(v) || (parseDuration(v) >= lo && parseDuration(v) <= hi),
      },
    ],
  );
}

const DURATION_MESSAGE = 'must be a duration with a unit, e.g. "500ms", "30s", "1m"';

export const DNS_SUBDOMAIN_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const SECRET_KEY_PATTERN = '^[-._a-zA-Z0-9]+$';

export function secretName(description: string): z.ZodString {
  return field(
    z.string().min(1, 'must name a Secret').max(253, 'must be at most 253 characters'),
    description,
    [
      matching(
        DNS_SUBDOMAIN_PATTERN,
        'must be a valid Secret name (lower case letters, digits, "-" and ".")',
      ),
    ],
  );
}

export function secretKey(description: string): z.ZodString {
  return field(
    z.string().min(1, 'must name a key of the Secret').max(253, 'must be at most 253 characters'),
    description,
    [matching(SECRET_KEY_PATTERN, 'must be a valid Secret key (letters, digits, "-", "_" and ".")')],
  );
}

/** A key in a Secret of the bind's own namespace. */
export const secretKeySelectorSchema = field(
  z.strictObject({
    name: secretName('Name of a Secret in the same namespace as the bind.'),
    key: secretKey('Key within the Secret.'),
  }),
  'A key of a Secret in the same namespace.',
);

export const bindTypeSchema = z.enum(['transmitter', 'receiver', 'transceiver'], {
  error: 'must be one of transmitter, receiver, transceiver',
});
export type BindType = z.infer<typeof bindTypeSchema>;
export const BIND_TYPES: readonly BindType[] = bindTypeSchema.options;

/** SMPP 3.4 system_id is a C-Octet String of at most 16 octets including the terminating NUL. */
export const systemIdSchema = field(
  z.string().min(1, 'must not be empty').max(15, 'must be at most 15 characters (SMPP 3.4 system_id limit)'),
  'SMPP system_id (user name), 1-15 printable ASCII characters.',
  [matching('^[!-~]*$', 'must be printable ASCII without spaces')],
);

/** Name the SMS core uses in dest_smsc/source_smsc. */
export const smscNameSchema = field(
  z.string().min(1, 'must not be empty').max(128, 'must be at most 128 characters'),
  'Name the SMS core uses for this connection in dest_smsc/source_smsc (the header SMSc when polling). Defaults to metadata.name, applied by the gateway at run time.',
  [
    matching(
      '^([A-Za-z0-9][A-Za-z0-9_.:-]*)?$',
      'must be letters, digits, "_", ".", ":" or "-", starting with a letter or digit',
    ),
  ],
);

export const tpsLimitSchema = intRange(
  1,
  10000,
  'Maximum messages per second sent on this bind (seeds: tps_limit). Set it to 70-80% of what the peer allows.',
);

export const queueCheckIntervalSchema = intRange(
  100,
  10000,
  'How often, in milliseconds, to poll the SMS core for messages to send on this bind (seeds: queue_check_frequency). Unset: the gateway-wide SMPP_POLL_INTERVAL (default 100 ms).',
);

export const suspendSchema = field(
  z.boolean('must be true or false'),
  'true unbinds and keeps the bind down (the web UI\'s "Disconnect"); false (re)binds.',
);

const charsetSchema = z.enum(['gsm7', 'latin1', 'ucs2', '8bit'], {
  error: 'must be one of gsm7, latin1, ucs2, 8bit',
});
const longMessageModeSchema = z.enum(['udh8', 'udh16', 'sar', 'payload'], {
  error: 'must be one of udh8, udh16, sar, payload',
});

export const codecSchema = field(
  z.strictObject({
    dataCoding: field(
      charsetSchema.default('gsm7'),
      'Preferred encoding of outbound text: gsm7 (data_coding 0), latin1 (3), ucs2 (8) or 8bit (4). Text that does not fit gsm7/latin1 is sent as ucs2.',
    ),
    longMessage: field(
      longMessageModeSchema.default('udh8'),
      'How messages longer than one SMS are sent: udh8 / udh16 (concatenation UDH with 8- or 16-bit reference), sar (sar_* TLVs) or payload (one PDU with message_payload).',
    ),
    packed: field(
      z.boolean('must be true or false').default(false),
      'Pack GSM 7-bit text into septets (160 characters in 140 octets). Most SMSCs expect unpacked octets.',
    ),
    maxParts: field(
      z
        .int('must be a whole number between 1 and 255')
        .min(1, 'must be a whole number between 1 and 255')
        .max(255, 'must be a whole number between 1 and 255')
        .optional(),
      'Longest message accepted, in parts; longer ones are failed. Unset means the codec limit (255).',
    ),
  }),
  'Text encoding and long-message options for this bind.',
);

/** TON values of SMPP 3.4 section 5.2.5. */
const TON_VALUES = [0, 1, 2, 3, 4, 5, 6] as const;
/** NPI values of SMPP 3.4 section 5.2.6. */
const NPI_VALUES = [0, 1, 3, 4, 6, 8, 9, 10, 14, 18] as const;

function intEnum(values: readonly number[], description: string): z.ZodInt {
  const msg = `must be one of ${values.join(', ')}`;
  return field(
    z.int(msg).refine((v) => values.includes(v), { message: msg }),
    description,
    [],
    { enum: [...values] },
  );
}

const tonSchema = intEnum(
  TON_VALUES,
  'Type of number: 0 unknown, 1 international, 2 national, 3 network specific, 4 subscriber, 5 alphanumeric, 6 abbreviated.',
);
const npiSchema = intEnum(
  NPI_VALUES,
  'Numbering plan: 0 unknown, 1 ISDN/E.164, 3 data, 4 telex, 6 land mobile, 8 national, 9 private, 10 ERMES, 14 internet, 18 WAP.',
);

const addressOverrideSchema = field(
  z.strictObject({ ton: tonSchema.optional(), npi: npiSchema.optional() }),
  'TON/NPI to use instead of the values guessed from the number (digits with "+" => international/ISDN, letters => alphanumeric).',
);

export const addressingSchema = field(
  z.strictObject({
    source: addressOverrideSchema.optional(),
    destination: addressOverrideSchema.optional(),
  }),
  'TON/NPI overrides for source and destination addresses of messages sent on this bind.',
);

export const ipAllowlistEntrySchema = field(
  z
    .string()
    .min(2, 'must be an IPv4/IPv6 address or CIDR block')
    .max(43, 'must be an IPv4/IPv6 address or CIDR block')
    .refine(isIpOrCidr, {
      message:
        'must be an IPv4/IPv6 address or CIDR block, e.g. "203.0.113.7", "203.0.113.0/24", "2001:db8::/32"',
    }),
  'An IPv4/IPv6 address (treated as /32 or /128) or a CIDR block.',
  [],
  {
    'x-kubernetes-validations': [
      {
        rule: 'isIP(self) || isCIDR(self)',
        message:
          'must be an IPv4/IPv6 address or CIDR block, e.g. "203.0.113.7", "203.0.113.0/24", "2001:db8::/32"',
      },
    ],
  },
);
