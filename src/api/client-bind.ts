import { z } from 'zod';
import { DURATION_PATTERN, parseDuration } from './duration.js';
import {
  addressingSchema,
  bindTypeSchema,
  codecSchema,
  duration,
  field,
  intRange,
  queueCheckIntervalSchema,
  secretKeySelectorSchema,
  smscNameSchema,
  suspendSchema,
  systemIdSchema,
  tpsLimitSchema,
  matching,
  secretKey,
  secretName,
} from './fields.js';

/** Host names (RFC 1123, upper case tolerated) or IPv4/IPv6 literals without brackets. */
const HOST_PATTERN = '^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)$';

function lessOrEqual(a: string, b: string): boolean {
  try {
    return parseDuration(a) <= parseDuration(b);
  } catch {
    return true; // the malformed duration has its own error
  }
}

const tlsSchema = field(
  z.strictObject({
    enabled: field(z.boolean('must be true or false').default(false), 'Connect with TLS (SMPP over TLS).'),
    caSecretRef: field(
      z
        .strictObject({
          name: secretName('Secret in the same namespace holding the PEM CA bundle.'),
          key: secretKey('Key within the Secret.').default('ca.crt'),
        })
        .optional(),
      'CA bundle that signs the SMSC certificate, when it is not signed by a public CA.',
    ),
    serverName: field(
      z.string().min(1, 'must not be empty').max(253, 'must be at most 253 characters').optional(),
      'Name expected in the SMSC certificate (and sent as SNI), when it differs from host.',
    ),
    insecureSkipVerify: field(
      z.boolean('must be true or false').default(false),
      'Do not check the SMSC certificate. For tests only: anyone on the path can read the traffic.',
    ),
  }),
  'TLS to the SMSC. Certificates are checked by default.',
  [
    {
      rule: '(has(self.enabled) && self.enabled) || !has(self.caSecretRef)',
      message: 'tls.caSecretRef is only used when tls.enabled is true',
      fieldPath: '.caSecretRef',
      reason: 'FieldValueForbidden',
      path: ['caSecretRef'],
      check: (t) => t.enabled || t.caSecretRef === undefined,
    },
    {
      rule: '(has(self.enabled) && self.enabled) || !has(self.serverName)',
      message: 'tls.serverName is only used when tls.enabled is true',
      fieldPath: '.serverName',
      reason: 'FieldValueForbidden',
      path: ['serverName'],
      check: (t) => t.enabled || t.serverName === undefined,
    },
    {
      rule: '(has(self.enabled) && self.enabled) || !has(self.insecureSkipVerify) || !self.insecureSkipVerify',
      message: 'tls.insecureSkipVerify is only used when tls.enabled is true',
      fieldPath: '.insecureSkipVerify',
      reason: 'FieldValueForbidden',
      path: ['insecureSkipVerify'],
      check: (t) => t.enabled || !t.insecureSkipVerify,
    },
    {
      rule: '!has(self.caSecretRef) || !has(self.insecureSkipVerify) || !self.insecureSkipVerify',
      message: 'tls.caSecretRef has no effect with tls.insecureSkipVerify: true; set one or the other',
      fieldPath: '.caSecretRef',
      reason: 'FieldValueForbidden',
      path: ['caSecretRef'],
      check: (t) => t.caSecretRef === undefined || !t.insecureSkipVerify,
    },
  ],
);

const reconnectSchema = field(
  z.strictObject({
    minDelay: duration('100ms', '10m', 'First wait after a lost or refused session.').default('1s'),
    maxDelay: duration('1s', '1h', 'Longest wait between attempts.').default('60s'),
  }),
  'Reconnect backoff: exponential from minDelay up to maxDelay, with jitter, on a fresh session each time.',
  [
    {
      rule: `!has(self.minDelay) || !has(self.maxDelay) || !self.minDelay.matches(r'${DURATION_PATTERN}') || !self.maxDelay.matches(r'${DURATION_PATTERN}') || duration(self.minDelay) <= duration(self.maxDelay)`,
      message: 'reconnect.minDelay must not be longer than reconnect.maxDelay',
      fieldPath: '.minDelay',
      path: ['minDelay'],
      check: (r) => lessOrEqual(r.minDelay, r.maxDelay),
    },
  ],
);

export const clientBindSpecSchema = field(
  z.strictObject({
    smscName: smscNameSchema.optional(),
    host: field(
      z.string().min(1, 'must not be empty').max(253, 'must be at most 253 characters'),
      'Host name or IP address of the carrier SMSC.',
      [matching(HOST_PATTERN, 'must be a host name or an IP address (no scheme, no port)')],
    ),
    port: intRange(1, 65535, 'TCP port of the SMSC.').default(2775),
    bindType: field(
      bindTypeSchema.default('transceiver'),
      'transmitter (send only), receiver (receive only) or transceiver (both; most common).',
    ),
    systemId: systemIdSchema,
    passwordSecretRef: field(
      secretKeySelectorSchema,
      'Secret key holding the SMPP password. The password itself never appears in the bind.',
    ),
    systemType: field(
      z.string().max(12, 'must be at most 12 characters (SMPP 3.4 system_type limit)').optional(),
      'SMPP system_type sent in the bind, when the carrier asks for one.',
    ),
    addressRange: field(
      z.string().max(40, 'must be at most 40 characters (SMPP 3.4 address_range limit)').optional(),
      'SMPP address_range sent in receiver/transceiver binds, when the carrier asks for one.',
    ),
    interfaceVersion: intRange(
      0,
      255,
      'SMPP interface_version sent in the bind: 52 (0x34) for SMPP 3.4, 51 (0x33) for 3.3 peers.',
    ).default(0x34),
    tls: tlsSchema.prefault({}),
    tpsLimit: tpsLimitSchema.default(100),
    window: intRange(1, 1000, 'Maximum requests awaiting a response on the session.').default(10),
    queueCheckInterval: queueCheckIntervalSchema.optional(),
    enquireLinkInterval: duration('1s', '1h', 'Interval of enquire_link keep-alives.').default('30s'),
    responseTimeout: duration(
      '100ms',
      '5m',
      'How long to wait for a response before a request counts as failed (temporary).',
    ).default('10s'),
    bindTimeout: duration('1s', '5m', 'How long to wait for the bind response.').default('10s'),
    reconnect: reconnectSchema.prefault({}),
    suspend: suspendSchema.default(false),
    codec: codecSchema.prefault({}),
    addressing: addressingSchema.optional(),
  }),
  'Desired state of an outbound SMPP session to a carrier SMSC.',
);

/** Spec after defaults (what .parse returns and what the apiserver stores). */
export type ClientBindSpec = z.output<typeof clientBindSpecSchema>;
/** Spec as written in a manifest (defaults may be omitted). */
export type ClientBindSpecInput = z.input<typeof clientBindSpecSchema>;
