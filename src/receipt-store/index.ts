/**
 * Builds the receipt store the settings ask for: memory (default) or Redis through ioredis
 * (single server, Sentinel or Cluster from REDIS_URL; see redis-url.ts).
 */
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { GatewayConfig } from '../config.js';
import type { CarrierIdMapOptions } from '../gateway/carrier-id-map.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { MemoryReceiptStore } from './memory.js';
import { RedisReceiptStore, type RedisReceiptStoreOptions } from './redis.js';
import { parseRedisUrl, redactRedisUrl, type RedisTarget } from './redis-url.js';
import type { ReceiptStore } from './types.js';

export { MemoryReceiptStore, MemoryPartnerQueue } from './memory.js';
export { RedisReceiptStore } from './redis.js';
export type { RedisReceiptStoreOptions } from './redis.js';
export { parseRedisUrl, redactRedisUrl } from './redis-url.js';
export * from './types.js';

export interface RedisConnectOptions {
  url: string;
  password?: string;
  /** Per-command deadline inside ioredis. Default 2,000 ms. */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/**
 * An ioredis client for REDIS_URL. The offline queue is off: while Redis is away commands fail
 * at once and the store's own bounded buffer holds the writes, instead of an unbounded queue
 * inside the client. RESP2, which every Redis-protocol server speaks.
 */
export function connectRedis(o: RedisConnectOptions): Redis | Cluster {
  const t: RedisTarget = parseRedisUrl(o.url);
  const password = o.password ?? t.password;
  const common: RedisOptions = {
    connectionName: 'smpp-operator',
    protocol: 2,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: o.commandTimeoutMs ?? 2000,
    connectTimeout: o.connectTimeoutMs ?? 5000,
    // Reconnect forever, no faster than every 2 s once it has failed a few times.
    retryStrategy: (times) => Math.min(100 * times, 2000),
  };
  if (t.username !== undefined) common.username = t.username;
  if (password !== undefined) common.password = password;
  if (t.topology === 'cluster') {
    // The cluster client takes these two at its own level, not per node.
    const { retryStrategy: _retry, enableOfflineQueue: _queue, ...perNode } = common;
    const opts: ClusterOptions = {
      enableOfflineQueue: false,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
      redisOptions: { ...perNode, ...(t.tls ? { tls: {} } : {}) },
    };
    return new Cluster(t.nodes, opts);
  }
  if (t.topology === 'sentinel') {
    const opts: RedisOptions = {
      ...common,
      sentinels: t.nodes,
      name: t.masterName as string,
      db: t.db,
    };
    if (password !== undefined) opts.sentinelPassword = password;
    if (t.tls) {
      opts.tls = {};
      opts.sentinelTLS = {};
      opts.enableTLSForSentinelMode = true;
    }
    return new Redis(opts);
  }
  const node = t.nodes[0] as { host: string; port: number };
  return new Redis({
    ...common,
    host: node.host,
    port: node.port,
    db: t.db,
    ...(t.tls ? { tls: { servername: node.host } } : {}),
  });
}

export interface CreateReceiptStoreOptions {
  config: GatewayConfig;
  metrics: Metrics;
  log: Logger;
  /** Memory store limits (tests). */
  memory?: CarrierIdMapOptions;
  /** Redis store tuning (tests, benchmarks). */
  redis?: Partial<Omit<RedisReceiptStoreOptions, 'client' | 'metrics' | 'log'>>;
}

export function createReceiptStore(o: CreateReceiptStoreOptions): ReceiptStore {
  const ttlMs = o.config.receiptTtlHours * 3_600_000;
  if (o.config.receiptStore !== 'redis' || o.config.redisUrl === undefined)
    return new MemoryReceiptStore({ ttlMs, ...o.memory }, o.metrics);
  const log = o.log.child({ component: 'receipt-store' });
  const connect: RedisConnectOptions = { url: o.config.redisUrl };
  if (o.config.redisPassword !== undefined) connect.password = o.config.redisPassword;
  const client = connectRedis(connect);
  log.info(
    { url: redactRedisUrl(o.config.redisUrl), prefix: o.config.redisKeyPrefix },
    'receipt store: Redis',
  );
  return new RedisReceiptStore({
    client,
    metrics: o.metrics,
    log,
    prefix: o.config.redisKeyPrefix,
    ttlMs,
    ...o.redis,
  });
}
