import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * Paths whose values never reach a log line. Secrets travel through config objects, SMPP bind
 * PDUs and HTTP headers, so each of those shapes is covered.
 */
const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  'bearerToken',
  '*.bearerToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  'secret',
  '*.secret',
];

/** The userinfo of a URL (redis://:pass@host, https://user:token@host), up to its '@'. */
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@]*@/gi;

/** `text` with the credentials of every URL in it replaced. */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, '$1[REDACTED]@');
}

/**
 * Keys of an error's own properties that can carry secrets: ioredis puts a failed command's
 * arguments on its ReplyError (`command.args`: AUTH's password, or a receipt's fields), and an
 * error may carry the options or headers it was made with.
 */
const SECRET_ERROR_KEY = /^(args|password|passwd|pass|token|bearerToken|secret|authorization|auth|cookie)$/i;

function scrub(value: unknown, seen: Set<object>, depth: number): unknown {
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return value;
  if (seen.has(value) || depth > 4) return '[…]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => scrub(v, seen, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_ERROR_KEY.test(k) ? '[REDACTED]' : scrub(v, seen, depth + 1);
  }
  return out;
}

/**
 * pino's error serializer (type, message and stack with their causes, own properties), then
 * scrubbed: logs pass `{ err }` so the stack and cause survive, and nothing in an error — a
 * connection URL with its password in a message, a command's arguments — reaches the log.
 */
function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? redactUrlCredentials(err) : err;
  return scrub({ ...pino.stdSerializers.err(err) }, new Set(), 0);
}

export function createLogger(options: LoggerOptions = {}, destination?: pino.DestinationStream): Logger {
  const base: LoggerOptions = {
    level: process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: { err: serializeError },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
  };
  return destination ? pino(base, destination) : pino(base);
}

/** A logger scoped to one bind: every line names the bind and its namespace. */
export function bindLogger(parent: Logger, namespace: string, bind: string): Logger {
  return parent.child({ namespace, bind });
}
