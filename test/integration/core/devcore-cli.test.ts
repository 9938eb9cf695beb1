import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { command } from '../../../src/commands/devcore.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('smpp-operator devcore', () => {
  it('prints its options and test endpoints on --help', async () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await command.run(['--help'])).toBe(0);
    const text = out.mock.calls.flat().join('\n');
    for (const s of [
      '--port',
      '--host',
      '--backoff-scale',
      '--token-file',
      '--route',
      '/devcore/messages',
      '/devcore/stats',
      '/devcore/faults',
      '/devcore/down',
    ])
      expect(text).toContain(s);
  });

  it.each([
    [['--port', 'eighty'], /--port: "eighty" is not a whole number/],
    [['--port', '70000'], /--port: must be at most 65535/],
    [['--backoff-scale', '-1'], /--backoff-scale/],
    [['--route', '+44'], /--route: "\+44" is not PREFIX=SMSC/],
    [['--tls-cert', 'a.pem'], /--tls-cert and --tls-key go together/],
    [['--port'], /--port needs a value/],
    [['--bogus'], /unknown option --bogus/],
    [['--poll-shape', 'xml'], /--poll-shape: "xml" is not array or envelope/],
  ])('rejects %j with exit code 2 and a clear message', async (args, message) => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(await command.run(args)).toBe(2);
    expect(err.mock.calls.flat().join('\n')).toMatch(message);
  });

  it('exits 1 naming the address when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(await command.run(['--port', String(port)])).toBe(1);
      expect(err.mock.calls.flat().join('\n')).toContain(`127.0.0.1:${port} (EADDRINUSE)`);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
