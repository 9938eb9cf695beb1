import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { parseRedisUrl, redactRedisUrl, RedisUrlError } from './receipt-store/redis-url.js';

/** A setting has a wrong value. The message always starts with the environment variable's name. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    super(`${setting}: ${problem}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Global settings of a gateway process. Per-bind settings live in the SmppClientBind/SmppServerBind resources. */
export interface GatewayConfig {
  /** API_BASE_URL: the SMS core, e.g. https://smsc-core:8443 (required, as in the seeds). */
  apiBaseUrl: string;
  /** SMPP_POLL_INTERVAL (ms): default queue poll interval for binds that do not set queueCheckInterval. Seeds default 100. */
  pollIntervalMs: number;
  /** VERIFY_SSL_PEER: verify the core's TLS certificate. Default TRUE (the seeds defaulted to false). */
  verifySslPeer: boolean;
  /** SMSC_NAME: identifies this gateway to the core (frontend_name of the heartbeat). Seeds default "smpp_gateway". */
  smscName: string;
  /** CORE_CA_FILE: PEM bundle trusted for the core's certificate, in addition to the system CAs. */
  coreCaFile?: string;
  /** Contents of CORE_CA_FILE. */
  coreCa?: string;
  /** CORE_TOKEN_FILE (preferred) or CORE_TOKEN: bearer token for the core. A secret: never log it. */
  coreToken?: string;
  /** CORE_TIMEOUT_MS: timeout of every core API request. Default 5000. */
  coreTimeoutMs: number;
  /** CORE_CONNECTIONS: keep-alive connections to the core. Default 64. */
  coreConnections: number;
  /** CORE_POLL_PIPELINING: polls in flight per poll connection; 1 turns pipelining off. Default 8. */
  corePollPipelining: number;
  /** HEARTBEAT_INTERVAL_SECONDS: POST /api/frontends period; the core expires a frontend after 90 s. Default 30. */
  heartbeatIntervalSeconds: number;
  /** METRICS_HOST / METRICS_PORT: /metrics, /healthz, /readyz. Default 0.0.0.0:4000 (seeds' port). */
  metricsHost: string;
  metricsPort: number;
  /** SMPP_LISTEN_HOST / SMPP_LISTEN_PORT: the partner listener (server binds). Default 0.0.0.0:2775. */
  listenHost: string;
  listenPort: number;
  /** SMPP_MAX_CONNECTIONS: partner connections accepted by the listener. Default 1000. */
  maxConnections: number;
  /** SMPP_TLS_CERT_FILE / SMPP_TLS_KEY_FILE: serve the listener over TLS (both or neither). */
  listenTlsCertFile?: string;
  listenTlsKeyFile?: string;
  /** SHUTDOWN_GRACE_SECONDS: time to drain in-flight messages on SIGTERM. Default 25. */
  shutdownGraceSeconds: number;
  /** LOG_LEVEL. Default info. */
  logLevel: LogLevel;
  /** POD_NAME (downward API); defaults to the host name. */
  podName: string;
  /** POD_NAMESPACE (downward API), if running in a cluster. */
  podNamespace?: string;
  /** WATCH_NAMESPACES: comma-separated namespaces to watch; empty = all namespaces. */
  watchNamespaces: string[];
  /** RECEIPT_STORE: where carrier ids and partner receipts are kept. Default memory. */
  receiptStore: 'memory' | 'redis';
  /** RECEIPT_TTL_HOURS: how long a carrier id waits for its receipt. Default 72. */
  receiptTtlHours: number;
  /** REDIS_URL (RECEIPT_STORE=redis): redis://, rediss://, redis+sentinel://, redis+cluster:// ... */
  redisUrl?: string;
  /** Contents of REDIS_PASSWORD_FILE. A secret: never log it. */
  redisPassword?: string;
  redisPasswordFile?: string;
  /** REDIS_KEY_PREFIX: prefix of every key. Default "smpp:". */
  redisKeyPrefix: string;
  /** CONSOLE_PORT: the Live Status console (seeds' port 8087); 0 = no console. */
  consolePort: number;
  /** CONSOLE_HOST: the console's address; unset = 0.0.0.0 in a cluster, 127.0.0.1 standalone. */
  consoleHost?: string;
  /**
   * CONSOLE_SERVICE: the console's Service in POD_NAMESPACE; its EndpointSlices list the pods
   * whose counters the console gathers. Unset: this pod's own counters only.
   */
  consoleService?: string;
}

type Env = Record<string, string | undefined>;

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

const boolean = z
  .string()
  .trim()
  .transform((v, ctx) => {
    const s = v.toLowerCase();
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
    ctx.addIssue({ code: 'custom', message: `must be true or false, got "${v}"` });
    return z.NEVER;
  });

const int = (min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

const port = (min = 1) => int(min, 65535);

const nonEmpty = z.string().trim().min(1, 'must not be empty');

const url = z
  .string()
  .trim()
  .min(1, 'is required (the SMS core URL, e.g. https://smsc-core:8443)')
  .refine((v) => {
    try {
      const u = new URL(v);
      return u.protocol === 'http:' || u.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL')
  .transform((v) => v.replace(/\/+$/, ''));

const namespaceList = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  )
  .refine(
    (list) => list.every((n) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(n)),
    'must be a comma-separated list of namespace names',
  );

// Keys are the environment variable names so a zod issue path is the setting to name in the error.
const schema = z.object({
  API_BASE_URL: url,
  SMPP_POLL_INTERVAL: int(10, 60_000).default(100),
  VERIFY_SSL_PEER: boolean.default(true),
  SMSC_NAME: nonEmpty.default('smpp_gateway'),
  CORE_CA_FILE: nonEmpty.optional(),
  CORE_TOKEN_FILE: nonEmpty.optional(),
  CORE_TOKEN: z.string().optional(),
  CORE_TIMEOUT_MS: int(100, 300_000).default(5000),
  CORE_CONNECTIONS: int(1, 4096).default(64),
  CORE_POLL_PIPELINING: int(1, 64).default(8),
  HEARTBEAT_INTERVAL_SECONDS: int(1, 80).default(30),
  METRICS_HOST: nonEmpty.default('0.0.0.0'),
  METRICS_PORT: port(0).default(4000),
  SMPP_LISTEN_HOST: nonEmpty.default('0.0.0.0'),
  SMPP_LISTEN_PORT: port(0).default(2775),
  SMPP_MAX_CONNECTIONS: int(1, 1_000_000).default(1000),
  SMPP_TLS_CERT_FILE: nonEmpty.optional(),
  SMPP_TLS_KEY_FILE: nonEmpty.optional(),
  SHUTDOWN_GRACE_SECONDS: int(0, 3600).default(25),
  LOG_LEVEL: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }))
    .default('info'),
  POD_NAME: nonEmpty.optional(),
  POD_NAMESPACE: nonEmpty.optional(),
  WATCH_NAMESPACES: namespaceList.default([]),
  RECEIPT_STORE: z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(['memory', 'redis'], { message: 'must be memory or redis' }))
    .default('memory'),
  RECEIPT_TTL_HOURS: int(1, 720).default(72),
  REDIS_URL: z.string().trim().optional(),
  REDIS_PASSWORD_FILE: nonEmpty.optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.:/-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . : / -')
    .default('smpp:'),
  CONSOLE_PORT: port(0).default(8087),
  CONSOLE_HOST: nonEmpty.optional(),
  CONSOLE_SERVICE: z
    .string()
    .trim()
    .regex(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Service name (lower case, digits, -)')
    .optional(),
});

export const CONFIG_SETTINGS = Object.keys(schema.shape);

function readSetting(setting: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError(setting, `cannot read ${path} (${code})`);
  }
}

/**
 * Reads the gateway's global settings from the environment. Empty variables count as unset
 * (Helm renders absent values as ""). Throws ConfigError naming the first bad setting.
 */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const input: Record<string, string> = {};
  for (const key of CONFIG_SETTINGS) {
    const v = env[key];
    if (v !== undefined && v.trim() !== '') input[key] = v;
  }
  if (input.API_BASE_URL === undefined) input.API_BASE_URL = '';

  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const setting = String(issue?.path[0] ?? 'configuration');
    throw new ConfigError(setting, issue?.message ?? 'invalid value');
  }
  const e = parsed.data;

  if ((e.SMPP_TLS_CERT_FILE === undefined) !== (e.SMPP_TLS_KEY_FILE === undefined)) {
    const missing = e.SMPP_TLS_CERT_FILE === undefined ? 'SMPP_TLS_CERT_FILE' : 'SMPP_TLS_KEY_FILE';
    throw new ConfigError(
      missing,
      'must be set together with ' +
        (missing === 'SMPP_TLS_CERT_FILE' ? 'SMPP_TLS_KEY_FILE' : 'SMPP_TLS_CERT_FILE'),
    );
  }

  let coreCa: string | undefined;
  if (e.CORE_CA_FILE !== undefined) {
    coreCa = readSetting('CORE_CA_FILE', e.CORE_CA_FILE);
    if (!coreCa.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError('CORE_CA_FILE', `${e.CORE_CA_FILE} holds no PEM certificate`);
    }
  }

  let coreToken: string | undefined;
  if (e.CORE_TOKEN_FILE !== undefined) {
    coreToken = readSetting('CORE_TOKEN_FILE', e.CORE_TOKEN_FILE).trim();
    if (coreToken === '') throw new ConfigError('CORE_TOKEN_FILE', `${e.CORE_TOKEN_FILE} is empty`);
  } else if (e.CORE_TOKEN !== undefined) {
    coreToken = e.CORE_TOKEN.trim();
  }
  if (coreToken !== undefined && /[\r\n]/.test(coreToken)) {
    // A token with a line break would be an invalid (or smuggled) HTTP header.
    throw new ConfigError(
      e.CORE_TOKEN_FILE !== undefined ? 'CORE_TOKEN_FILE' : 'CORE_TOKEN',
      'must be a single line',
    );
  }

  let redisPassword: string | undefined;
  if (e.RECEIPT_STORE === 'redis') {
    if (e.REDIS_URL === undefined)
      throw new ConfigError('REDIS_URL', 'is required when RECEIPT_STORE is redis');
    try {
      parseRedisUrl(e.REDIS_URL);
    } catch (err) {
      if (err instanceof RedisUrlError) throw new ConfigError('REDIS_URL', err.message);
      throw err;
    }
    if (e.REDIS_PASSWORD_FILE !== undefined) {
      redisPassword = readSetting('REDIS_PASSWORD_FILE', e.REDIS_PASSWORD_FILE).replace(/\r?\n$/, '');
      if (redisPassword === '')
        throw new ConfigError('REDIS_PASSWORD_FILE', `${e.REDIS_PASSWORD_FILE} is empty`);
    }
  } else if (e.REDIS_URL !== undefined) {
    // Most likely a forgotten RECEIPT_STORE: running on memory would lose receipts silently.
    throw new ConfigError(
      'RECEIPT_STORE',
      'is memory, but REDIS_URL is set: set RECEIPT_STORE=redis to use it',
    );
  }

  const config: GatewayConfig = {
    apiBaseUrl: e.API_BASE_URL,
    pollIntervalMs: e.SMPP_POLL_INTERVAL,
    verifySslPeer: e.VERIFY_SSL_PEER,
    smscName: e.SMSC_NAME,
    coreTimeoutMs: e.CORE_TIMEOUT_MS,
    coreConnections: e.CORE_CONNECTIONS,
    corePollPipelining: e.CORE_POLL_PIPELINING,
    heartbeatIntervalSeconds: e.HEARTBEAT_INTERVAL_SECONDS,
    metricsHost: e.METRICS_HOST,
    metricsPort: e.METRICS_PORT,
    listenHost: e.SMPP_LISTEN_HOST,
    listenPort: e.SMPP_LISTEN_PORT,
    maxConnections: e.SMPP_MAX_CONNECTIONS,
    shutdownGraceSeconds: e.SHUTDOWN_GRACE_SECONDS,
    logLevel: e.LOG_LEVEL,
    podName: e.POD_NAME ?? hostname(),
    watchNamespaces: e.WATCH_NAMESPACES,
    receiptStore: e.RECEIPT_STORE,
    receiptTtlHours: e.RECEIPT_TTL_HOURS,
    redisKeyPrefix: e.REDIS_KEY_PREFIX,
    consolePort: e.CONSOLE_PORT,
  };
  if (e.REDIS_URL !== undefined) config.redisUrl = e.REDIS_URL;
  if (e.REDIS_PASSWORD_FILE !== undefined) config.redisPasswordFile = e.REDIS_PASSWORD_FILE;
  if (redisPassword !== undefined) config.redisPassword = redisPassword;
  if (e.CONSOLE_HOST !== undefined) config.consoleHost = e.CONSOLE_HOST;
  if (e.CONSOLE_SERVICE !== undefined) config.consoleService = e.CONSOLE_SERVICE;
  if (e.CORE_CA_FILE !== undefined) config.coreCaFile = e.CORE_CA_FILE;
  if (coreCa !== undefined) config.coreCa = coreCa;
  if (coreToken !== undefined && coreToken !== '') config.coreToken = coreToken;
  if (e.SMPP_TLS_CERT_FILE !== undefined) config.listenTlsCertFile = e.SMPP_TLS_CERT_FILE;
  if (e.SMPP_TLS_KEY_FILE !== undefined) config.listenTlsKeyFile = e.SMPP_TLS_KEY_FILE;
  if (e.POD_NAMESPACE !== undefined) config.podNamespace = e.POD_NAMESPACE;
  return config;
}

/** The configuration without secrets: safe for logs and for the heartbeat's `configuration`. */
export function publicConfig(config: GatewayConfig): Record<string, unknown> {
  const { coreToken, coreCa, redisPassword, redisUrl, ...rest } = config;
  return {
    ...rest,
    coreToken: coreToken === undefined ? undefined : '[REDACTED]',
    coreCa: coreCa === undefined ? undefined : '[PEM]',
    redisUrl: redisUrl === undefined ? undefined : redactRedisUrl(redisUrl),
    redisPassword: redisPassword === undefined ? undefined : '[REDACTED]',
  };
}
