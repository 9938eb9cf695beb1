import { parseArgs } from 'node:util';
import { createLogger } from '../log.js';
import { CONTROL_ROUTES, startSmscSim, type SimUser } from '../sim/index.js';
import type { ReceiptStat } from '../sim/text.js';
import { RECEIPT_STATS } from '../sim/text.js';
import { untilStopSignal, wantsHelp, type Command } from './command.js';

const usage = `Usage: smpp-operator smsc-sim [options]

An SMPP 3.4 server standing in for a carrier SMSC (built on the smpp package, not on this
project's engine), with an HTTP control endpoint for MO requests, fault injection and listings.

Options:
  --host ADDR              listen address for both ports (default 127.0.0.1)
  --port N                 SMPP port (default 2775)
  --http-port N            HTTP control port (default 2776)
  --user ID:PASSWORD       accepted credentials, repeatable; none given = any system_id/password binds
  --receipt-delay MS       delay before a delivery receipt (default 50)
  --receipt-stat STAT      final state of receipts: ${RECEIPT_STATS.join(', ')} (default DELIVRD)
  --message-id-format F    decimal | hex (default decimal)
  --sink                   benchmark sink: ack submit_sm only, no history, receipts or faults
  -h, --help               this help

Control endpoint (JSON):
${CONTROL_ROUTES.map((r) => `  ${r}`).join('\n')}
`;

class UsageError extends Error {}

function port(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new UsageError(`${flag} must be a port number 0-65535, got '${value}'`);
  return n;
}

function users(values: string[] | undefined): SimUser[] {
  return (values ?? []).map((v) => {
    const i = v.indexOf(':');
    if (i <= 0)
      throw new UsageError('--user must be SYSTEM_ID:PASSWORD (the value is not echoed: it may be a secret)');
    return { systemId: v.slice(0, i), password: v.slice(i + 1) };
  });
}

export const command: Command = {
  name: 'smsc-sim',
  summary: 'run the SMSC simulator (SMPP server + HTTP control endpoint)',
  usage,
  async run(args) {
    if (wantsHelp(args)) {
      console.log(usage);
      return 0;
    }
    let opts;
    try {
      const { values } = parseArgs({
        args,
        options: {
          host: { type: 'string', default: '127.0.0.1' },
          port: { type: 'string' },
          'http-port': { type: 'string' },
          user: { type: 'string', multiple: true },
          'receipt-delay': { type: 'string' },
          'receipt-stat': { type: 'string' },
          'message-id-format': { type: 'string', default: 'decimal' },
          sink: { type: 'boolean', default: false },
        },
        strict: true,
        allowPositionals: false,
      });
      const delay = values['receipt-delay'] === undefined ? 50 : Number(values['receipt-delay']);
      if (!Number.isInteger(delay) || delay < 0)
        throw new UsageError('--receipt-delay must be a whole number of ms');
      const stat = values['receipt-stat'] ?? 'DELIVRD';
      if (!RECEIPT_STATS.includes(stat as ReceiptStat))
        throw new UsageError(`--receipt-stat must be one of ${RECEIPT_STATS.join(', ')}`);
      const format = values['message-id-format'];
      if (format !== 'decimal' && format !== 'hex')
        throw new UsageError('--message-id-format must be decimal or hex');
      opts = {
        host: values.host,
        smppPort: port(values.port, '--port', 2775),
        httpPort: port(values['http-port'], '--http-port', 2776),
        users: users(values.user),
        sink: values.sink,
        messageIdFormat: format,
        receipt: { delayMs: delay, stat: stat as ReceiptStat },
      } as const;
    } catch (err) {
      console.error(`smsc-sim: ${err instanceof Error ? err.message : String(err)}\n\n${usage}`);
      return 2;
    }
    const log = createLogger({ name: 'smsc-sim' });
    const sim = await startSmscSim({ ...opts, log });
    log.info(
      { smppPort: sim.smppPort, httpPort: sim.httpPort, users: opts.users.map((u) => u.systemId) },
      opts.users.length === 0 ? 'accepting any credentials' : 'accepting configured credentials',
    );
    await untilStopSignal();
    await sim.close();
    log.info('smsc simulator stopped');
    return 0;
  },
};
