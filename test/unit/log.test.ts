import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { bindLogger, createLogger } from '../../src/log.js';

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
