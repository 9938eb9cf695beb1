import { afterEach, describe, expect, it, vi } from 'vitest';
import { command } from '../../../src/commands/smsc-sim.js';

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
