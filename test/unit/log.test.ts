import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bindLogger, createLogger, redactUrlCredentials } from '../../src/log.js';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, stream };
}

describe('logger', () => {
  it('redacts passwords, tokens and authorization headers', () => {
    const { lines, stream } = capture();
    const log = createLogger({ level: 'info' }, stream);
    log.info(
      {
        password: 'hunter2',
        config: { password: 'p2', token: 't1' },
        headers: { authorization: 'Bearer abc' },
      },
      'bind',
    );
    const out = lines.join('');
    expect(out).not.toContain('hunter2');
    expect(out).not.toContain('p2');
    expect(out).not.toContain('t1');
    expect(out).not.toContain('Bearer abc');
    expect(out).toContain('[REDACTED]');
  });

  it('names the bind and namespace on every line', () => {
    const { lines, stream } = capture();
    const log = bindLogger(createLogger({}, stream), 'sms', 'vodafone-uk');
    log.info('bound');
    const rec = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    expect(rec).toMatchObject({ namespace: 'sms', bind: 'vodafone-uk', msg: 'bound' });
  });
});

describe('logged errors', () => {
  it('keep type, stack and cause', () => {
    const { lines, stream } = capture();
    const log = createLogger({ level: 'info' }, stream);
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    log.warn({ err: new TypeError('write failed', { cause }) }, 'store');
    const rec = JSON.parse(lines[0] ?? '{}') as { err: { type: string; message: string; stack: string } };
    expect(rec.err.type).toBe('TypeError');
    expect(rec.err.message).toContain('write failed');
    expect(rec.err.message).toContain('ECONNREFUSED');
    expect(rec.err.stack).toContain('caused by');
    expect(rec.err.stack).toContain('log.test.ts');
  });

  it('carry no URL credentials and no command arguments (ioredis puts AUTH on the error)', () => {
    const { lines, stream } = capture();
    const log = createLogger({ level: 'info' }, stream);
    const reply = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      command: { name: 'auth', args: ['gateway', 's3cret-pw'] },
    });
    const url = new Error('cannot reach redis://gateway:s3cret-url@redis.example:6379/0', {
      cause: new Error('lookup of rediss://:s3cret-cause@10.0.0.1 failed'),
    });
    log.warn({ err: reply }, 'auth');
    log.warn({ err: url }, 'url');
    log.warn({ err: 'https://user:s3cret-str@core.example/api' }, 'string');
    const out = lines.join('');
    expect(out).not.toContain('s3cret');
    expect(out).toContain('redis://[REDACTED]@redis.example:6379/0');
    expect(out).toContain('rediss://[REDACTED]@10.0.0.1');
    const rec = JSON.parse(lines[0] ?? '{}') as { err: { command: { name: string; args: string } } };
    expect(rec.err.command).toEqual({ name: 'auth', args: '[REDACTED]' });
  });

  it('leave a URL without credentials as it is', () => {
    expect(redactUrlCredentials('GET http://127.0.0.1:8080/x failed')).toBe(
      'GET http://127.0.0.1:8080/x failed',
    );
    expect(redactUrlCredentials('user@example.com wrote')).toBe('user@example.com wrote');
  });
});
