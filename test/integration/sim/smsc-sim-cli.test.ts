import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { command } from '../../../src/commands/smsc-sim.js';
import { connectRaw, http } from './raw-client.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('smpp-operator smsc-sim', () => {
  it('prints its options and control routes on --help', async () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await command.run(['--help'])).toBe(0);
    const text = out.mock.calls.flat().join('\n');
    for (const flag of [
      '--port',
      '--http-port',
      '--host',
      '--user',
      '--receipt-delay',
      '--sink',
      'POST /mo',
      'POST /faults',
    ])
      expect(text).toContain(flag);
  });

  it.each([
    [['--port', 'seventy'], /--port must be a port number/],
    [['--user', 'nopassword'], /--user must be SYSTEM_ID:PASSWORD/],
    [['--receipt-delay', '-5'], /--receipt-delay/],
    [['--receipt-stat', 'DONE'], /--receipt-stat must be one of/],
    [['--bogus'], /Unknown option/],
  ])('rejects %j with exit code 2 and a clear message', async (args, message) => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await command.run(args)).toBe(2);
    expect(err.mock.calls.flat().join('\n')).toMatch(message);
  });
});

describe('smpp-operator smsc-sim as a process', () => {
  it('serves SMPP and HTTP on the given ports and exits 0 on SIGTERM', async () => {
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    const child = spawn(
      process.execPath,
      [
        '--no-warnings',
        '--import',
        './test/bench/lib/register.mjs',
        'src/cli.ts',
        'smsc-sim',
        '--port',
        '0',
        '--http-port',
        '0',
        '--user',
        'acme:pw',
        '--message-id-format',
        'hex',
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      let out = '';
      const ports = await new Promise<{ smppPort: number; httpPort: number }>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no listening line:\n${out}`)), 30_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          for (const line of out.split('\n')) {
            if (!line.includes('smsc simulator listening')) continue;
            clearTimeout(t);
            resolve(JSON.parse(line) as { smppPort: number; httpPort: number });
          }
        });
      });
      const c = await connectRaw(ports.smppPort);
      expect((await c.bind('transmitter', 'acme', 'pw')).command_status).toBe(0);
      expect(String((await c.submit({})).message_id)).toMatch(/^[0-9A-F]{8}$/);
      const stats = await http<{ submits: number; binds: number }>(ports.httpPort, 'GET', '/stats');
      expect(stats.body).toMatchObject({ submits: 1, binds: 1 });
      c.close();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
