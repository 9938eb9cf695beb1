/**
 * REDIS_URL → how to reach the server(s). One setting covers the three deployments:
 *
 *   redis://host:6379/0                      a single server (or a managed endpoint)
 *   rediss://host:6380/0                     the same over TLS
 *   redis+sentinel://s1:26379,s2:26379/mymaster?db=0    Sentinel: sentinels, then the master's name
 *   rediss+sentinel://...                    Sentinel, TLS to the sentinels and to the master
 *   redis+cluster://n1:6379,n2:6379          Cluster: any reachable nodes (seed list)
 *   rediss+cluster://...                     Cluster over TLS
 *
 * A user name may be given in the URL (`redis://user@host`); the password belongs in
 * REDIS_PASSWORD_FILE (a password in the URL is accepted but never logged).
 */
export type RedisTopology = 'single' | 'sentinel' | 'cluster';

export interface RedisEndpoint {
  host: string;
  port: number;
}

export interface RedisTarget {
  topology: RedisTopology;
  tls: boolean;
  nodes: RedisEndpoint[];
  /** Sentinel: the monitored master's name. */
  masterName?: string;
  db: number;
  username?: string;
  password?: string;
}

const SCHEMES: Record<string, { topology: RedisTopology; tls: boolean }> = {
  redis: { topology: 'single', tls: false },
  rediss: { topology: 'single', tls: true },
  'redis+sentinel': { topology: 'sentinel', tls: false },
  'rediss+sentinel': { topology: 'sentinel', tls: true },
  'redis+cluster': { topology: 'cluster', tls: false },
  'rediss+cluster': { topology: 'cluster', tls: true },
};

export class RedisUrlError extends Error {}

function endpoint(s: string, defaultPort: number): RedisEndpoint {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d+))?$/.exec(s);
  if (!m) throw new RedisUrlError(`"${s}" is not host or host:port`);
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new RedisUrlError(`port of "${s}" is not 1-65535`);
  const host = (m[1] as string).replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}

function db(v: string | null | undefined): number {
  if (v === null || v === undefined || v === '') return 0;
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new RedisUrlError(`database "${v}" is not a number`);
  return Number(v);
}

/** Parses REDIS_URL; throws RedisUrlError with a message fit for `REDIS_URL: <message>`. */
export function parseRedisUrl(raw: string): RedisTarget {
  const url = raw.trim();
  const m = /^([a-z+]+):\/\/(?:([^@/]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url);
  if (!m)
    throw new RedisUrlError(
      'must look like redis://host:6379 (or rediss://, redis+sentinel://, redis+cluster://)',
    );
  const scheme = SCHEMES[(m[1] as string).toLowerCase()];
  if (!scheme)
    throw new RedisUrlError(
      `scheme "${m[1]}" is not one of ${Object.keys(SCHEMES)
        .map((s) => `${s}://`)
        .join(', ')}`,
    );
  const hosts = (m[3] ?? '').split(',').filter((h) => h !== '');
  if (hosts.length === 0) throw new RedisUrlError('has no host');
  if (scheme.topology === 'single' && hosts.length > 1)
    throw new RedisUrlError('lists several hosts: use redis+sentinel:// or redis+cluster:// for those');
  const defaultPort = scheme.topology === 'sentinel' ? 26379 : 6379;
  const nodes = hosts.map((h) => endpoint(h, defaultPort));
  const params = new URLSearchParams((m[5] ?? '').slice(1));
  const path = decodeURIComponent((m[4] ?? '').replace(/^\//, ''));
  const target: RedisTarget = { topology: scheme.topology, tls: scheme.tls, nodes, db: 0 };
  if (scheme.topology === 'sentinel') {
    if (path === '')
      throw new RedisUrlError('names no master: redis+sentinel://s1:26379,s2:26379/<master name>');
    target.masterName = path;
    target.db = db(params.get('db'));
  } else if (scheme.topology === 'cluster') {
    if (path !== '' || params.has('db')) throw new RedisUrlError('a cluster has only database 0');
  } else {
    target.db = db(path !== '' ? path : params.get('db'));
  }
  const userinfo = m[2];
  if (userinfo !== undefined && userinfo !== '') {
    const i = userinfo.indexOf(':');
    const user = decodeURIComponent(i < 0 ? userinfo : userinfo.slice(0, i));
    if (user !== '') target.username = user;
    if (i >= 0) target.password = decodeURIComponent(userinfo.slice(i + 1));
  }
  return target;
}

/** The URL with any password replaced, for logs and the heartbeat. */
export function redactRedisUrl(raw: string): string {
  return raw.replace(/^([a-z+]+:\/\/)([^@/:]*):[^@/]*@/i, '$1$2:[REDACTED]@');
}
