import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command as runCommand } from '../../src/commands/run.js';
import { CONFIG_SETTINGS, ConfigError, loadConfig, publicConfig } from '../../src/config.js';

const BASE = { API_BASE_URL: 'https://smsc-core:8443' };

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`no ConfigError for ${JSON.stringify(env)}`);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  writeFileSync(join(dir, 'token'), 'tok-123\n');
  writeFileSync(join(dir, 'empty'), '\n');
  writeFileSync(join(dir, 'ca.pem'), '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  writeFileSync(join(dir, 'notpem'), 'hello');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('applies defaults: seeds where they exist, VERIFY_SSL_PEER true (unlike the seeds)', () => {
    const c = loadConfig(BASE);
    expect(c).toEqual({
      apiBaseUrl: 'https://smsc-core:8443',
      pollIntervalMs: 100,
      verifySslPeer: true,
      smscName: 'smpp_gateway',
      coreTimeoutMs: 5000,
      coreConnections: 64,
      corePollPipelining: 8,
      heartbeatIntervalSeconds: 30,
      metricsHost: '0.0.0.0',
      metricsPort: 4000,
      listenHost: '0.0.0.0',
      listenPort: 2775,
      maxConnections: 1000,
      shutdownGraceSeconds: 25,
      logLevel: 'info',
      podName: hostname(),
      watchNamespaces: [],
      receiptStore: 'memory',
      receiptTtlHours: 72,
      redisKeyPrefix: 'smpp:',
      consolePort: 8087,
    });
  });

  it('reads the Redis receipt store settings, the password from its file', () => {
    const c = loadConfig({
      ...BASE,
      RECEIPT_STORE: 'Redis',
      RECEIPT_TTL_HOURS: '24',
      REDIS_URL: 'redis+sentinel://s1:26379,s2:26379/mymaster?db=2',
      REDIS_PASSWORD_FILE: join(dir, 'token'),
      REDIS_KEY_PREFIX: 'prod:smpp:',
    });
    expect(c).toMatchObject({
      receiptStore: 'redis',
      receiptTtlHours: 24,
      redisUrl: 'redis+sentinel://s1:26379,s2:26379/mymaster?db=2',
      redisPassword: 'tok-123',
      redisKeyPrefix: 'prod:smpp:',
    });
  });

  it('reads every setting', () => {
    const c = loadConfig({
      API_BASE_URL: 'http://core.sms.svc:8080/',
      SMPP_POLL_INTERVAL: '500',
      VERIFY_SSL_PEER: 'FALSE',
      SMSC_NAME: 'smpp_prod',
      CORE_CA_FILE: join(dir, 'ca.pem'),
      CORE_TOKEN_FILE: join(dir, 'token'),
      CORE_TIMEOUT_MS: '2000',
      CORE_CONNECTIONS: '16',
      CORE_POLL_PIPELINING: '1',
      HEARTBEAT_INTERVAL_SECONDS: '45',
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: '9100',
      SMPP_LISTEN_HOST: '::',
      SMPP_LISTEN_PORT: '2776',
      SMPP_MAX_CONNECTIONS: '50',
      SMPP_TLS_CERT_FILE: '/tls/tls.crt',
      SMPP_TLS_KEY_FILE: '/tls/tls.key',
      SHUTDOWN_GRACE_SECONDS: '10',
      LOG_LEVEL: 'DEBUG',
      POD_NAME: 'smpp-operator-0',
      POD_NAMESPACE: 'sms',
      WATCH_NAMESPACES: 'sms, partners ,',
      CONSOLE_PORT: '9087',
      CONSOLE_HOST: '::',
      CONSOLE_SERVICE: 'smpp-operator-console',
    });
    expect(c).toMatchObject({
      apiBaseUrl: 'http://core.sms.svc:8080',
      pollIntervalMs: 500,
      verifySslPeer: false,
      smscName: 'smpp_prod',
      coreCaFile: join(dir, 'ca.pem'),
      coreToken: 'tok-123',
      coreTimeoutMs: 2000,
      coreConnections: 16,
      corePollPipelining: 1,
      heartbeatIntervalSeconds: 45,
      metricsHost: '127.0.0.1',
      metricsPort: 9100,
      listenHost: '::',
      listenPort: 2776,
      maxConnections: 50,
      listenTlsCertFile: '/tls/tls.crt',
      listenTlsKeyFile: '/tls/tls.key',
      shutdownGraceSeconds: 10,
      logLevel: 'debug',
      podName: 'smpp-operator-0',
      podNamespace: 'sms',
      watchNamespaces: ['sms', 'partners'],
      consolePort: 9087,
      consoleHost: '::',
      consoleService: 'smpp-operator-console',
    });
    expect(c.coreCa).toContain('BEGIN CERTIFICATE');
  });

  it('empty variables count as unset', () => {
    expect(loadConfig({ ...BASE, SMPP_POLL_INTERVAL: '', VERIFY_SSL_PEER: ' ' }).pollIntervalMs).toBe(100);
  });

  it('CORE_TOKEN is used when there is no CORE_TOKEN_FILE', () => {
    expect(loadConfig({ ...BASE, CORE_TOKEN: 'abc' }).coreToken).toBe('abc');
  });

  it.each([
    [{ API_BASE_URL: '' }, 'API_BASE_URL', 'required'],
    [{ API_BASE_URL: 'smsc-core:8443' }, 'API_BASE_URL', 'http'],
    [{ API_BASE_URL: 'ftp://core' }, 'API_BASE_URL', 'http'],
    [{ SMPP_POLL_INTERVAL: 'fast' }, 'SMPP_POLL_INTERVAL', 'whole number'],
    [{ SMPP_POLL_INTERVAL: '1.5' }, 'SMPP_POLL_INTERVAL', 'whole number'],
    [{ SMPP_POLL_INTERVAL: '5' }, 'SMPP_POLL_INTERVAL', 'at least 10'],
    [{ VERIFY_SSL_PEER: 'maybe' }, 'VERIFY_SSL_PEER', 'true or false'],
    [{ CORE_CA_FILE: '/nonexistent/ca.pem' }, 'CORE_CA_FILE', 'cannot read'],
    [{ CORE_TOKEN_FILE: '/nonexistent/token' }, 'CORE_TOKEN_FILE', 'cannot read'],
    [{ CORE_TIMEOUT_MS: '0' }, 'CORE_TIMEOUT_MS', 'at least'],
    [{ CORE_CONNECTIONS: '0' }, 'CORE_CONNECTIONS', 'at least 1'],
    [{ HEARTBEAT_INTERVAL_SECONDS: '120' }, 'HEARTBEAT_INTERVAL_SECONDS', 'at most 80'],
    [{ METRICS_PORT: '70000' }, 'METRICS_PORT', 'at most 65535'],
    [{ SMPP_LISTEN_PORT: '-1' }, 'SMPP_LISTEN_PORT', 'at least 0'],
    [{ SMPP_MAX_CONNECTIONS: 'lots' }, 'SMPP_MAX_CONNECTIONS', 'whole number'],
    [{ SMPP_TLS_CERT_FILE: '/tls/tls.crt' }, 'SMPP_TLS_KEY_FILE', 'together'],
    [{ SMPP_TLS_KEY_FILE: '/tls/tls.key' }, 'SMPP_TLS_CERT_FILE', 'together'],
    [{ SHUTDOWN_GRACE_SECONDS: '1h' }, 'SHUTDOWN_GRACE_SECONDS', 'whole number'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', 'one of'],
    [{ WATCH_NAMESPACES: 'sms,Bad_NS' }, 'WATCH_NAMESPACES', 'namespace'],
    [{ CORE_TOKEN: 'a\nb' }, 'CORE_TOKEN', 'single line'],
    [{ RECEIPT_STORE: 'mysql' }, 'RECEIPT_STORE', 'memory or redis'],
    [{ RECEIPT_STORE: 'redis' }, 'REDIS_URL', 'required'],
    [{ REDIS_URL: 'redis://r:6379' }, 'RECEIPT_STORE', 'RECEIPT_STORE=redis'],
    [{ RECEIPT_STORE: 'redis', REDIS_URL: 'http://r:6379' }, 'REDIS_URL', 'scheme'],
    [{ RECEIPT_STORE: 'redis', REDIS_URL: 'redis://a:1,b:2' }, 'REDIS_URL', 'several hosts'],
    [{ RECEIPT_STORE: 'redis', REDIS_URL: 'redis+sentinel://s1:26379' }, 'REDIS_URL', 'names no master'],
    [{ RECEIPT_STORE: 'redis', REDIS_URL: 'redis://r:99999' }, 'REDIS_URL', '1-65535'],
    [
      { RECEIPT_STORE: 'redis', REDIS_URL: 'redis://r', REDIS_PASSWORD_FILE: '/nonexistent/pw' },
      'REDIS_PASSWORD_FILE',
      'cannot read',
    ],
    [{ REDIS_KEY_PREFIX: 'has space' }, 'REDIS_KEY_PREFIX', 'characters'],
    [{ RECEIPT_TTL_HOURS: '0' }, 'RECEIPT_TTL_HOURS', 'at least 1'],
    [{ CONSOLE_PORT: 'web' }, 'CONSOLE_PORT', 'whole number'],
    [{ CONSOLE_PORT: '65536' }, 'CONSOLE_PORT', 'at most 65535'],
    [{ CONSOLE_SERVICE: 'Console_Svc' }, 'CONSOLE_SERVICE', 'Service name'],
  ])('%o is rejected naming %s', (env, setting, problem) => {
    const err = errorOf(env as Record<string, string>);
    expect(err.setting).toBe(setting);
    expect(err.message.startsWith(`${setting}: `)).toBe(true);
    expect(err.message).toContain(problem);
  });

  it('names the file problem of CORE_TOKEN_FILE and CORE_CA_FILE', () => {
    expect(errorOf({ CORE_TOKEN_FILE: join(dir, 'empty') }).message).toMatch(/^CORE_TOKEN_FILE: .*is empty/);
    expect(errorOf({ CORE_CA_FILE: join(dir, 'notpem') }).message).toMatch(
      /^CORE_CA_FILE: .*no PEM certificate/,
    );
  });

  it('a missing API_BASE_URL is a ConfigError naming it', () => {
    expect(() => loadConfig({})).toThrow(/^API_BASE_URL: /);
  });

  it('publicConfig hides the Redis password, from its file or from the URL', () => {
    const c = loadConfig({
      ...BASE,
      RECEIPT_STORE: 'redis',
      REDIS_URL: 'rediss://app:url-secret@redis.example:6380/1',
      REDIS_PASSWORD_FILE: join(dir, 'token'),
    });
    const p = JSON.stringify(publicConfig(c));
    expect(p).not.toContain('url-secret');
    expect(p).not.toContain('tok-123');
    expect(p).toContain('rediss://app:[REDACTED]@redis.example:6380/1');
  });

  it('publicConfig hides the token and the CA body', () => {
    const c = loadConfig({ ...BASE, CORE_TOKEN: 'super-secret', CORE_CA_FILE: join(dir, 'ca.pem') });
    const p = JSON.stringify(publicConfig(c));
    expect(p).not.toContain('super-secret');
    expect(p).not.toContain('BEGIN CERTIFICATE');
    expect(p).toContain('smsc-core:8443');
  });

  it('`run --help` names every setting the gateway reads', () => {
    for (const name of [...CONFIG_SETTINGS, 'LEASE_DURATION_SECONDS'])
      expect(runCommand.usage).toContain(name);
  });
});
