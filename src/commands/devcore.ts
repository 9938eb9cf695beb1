import { readFileSync } from 'node:fs';
import { startDevCore, type DevCoreOptions, type Route } from '../devcore/index.js';
import { createLogger } from '../log.js';
import { untilStopSignal, wantsHelp, type Command } from './command.js';

const usage = `Usage: smpp-operator devcore [options]

An in-memory SMS core with the REST API the gateway uses (GET/POST /api/messages,
PATCH/PUT /api/messages/{id}, POST /api/frontends, GET /api/status), for the demo,
tests and benchmarks. Test controls live under /devcore/ (stats, bulk enqueue, faults).

Options:
  --port N             listen port (default 8080)
  --host ADDR          listen address (default 127.0.0.1)
  --token-file FILE    require "Authorization: Bearer <token from FILE>" on /api
  --tls-cert FILE      serve HTTPS with this certificate (with --tls-key)
  --tls-key FILE
  --backoff-scale X    multiply the retry backoff (2^attempt minutes) by X (default 1)
  --max-attempts N     dead-letter after N delivery attempts (default 10)
  --lock-ms N          hide a fetched message from further polls for N ms (default 0:
                       the reference core has no lock)
  --poll-limit N       at most N messages per poll (default unlimited)
  --poll-shape SHAPE   answer polls as a bare "array" (default, as the reference) or an
                       "envelope" {status, data}
  --route PREFIX=SMSC  route new messages without dest_smsc whose destination starts
                       with PREFIX to SMSC (repeatable)
  -h, --help           this help

Test endpoints:
  POST /devcore/messages   enqueue MT: a message, a list, {messages:[...]} or
                           {count: N, dest_smsc, ...template} ("{n}" is replaced by 0..N-1)
  GET  /devcore/messages   every message with its _devcore history; /devcore/messages/{id}
  GET  /devcore/stats      queued / ready / inFlight / sent / failed / retried / duplicateSends (a second send:
                           another carrier id) / repeatedReports ...
  POST /devcore/faults     {mode: error|hang|reset|delay, count, status, delayMs, method, path}
  DELETE /devcore/faults   clear pending faults
  POST /devcore/down       {mode: "unavailable"} (503 until /devcore/up) or
                           {forMs: N} (refuse connections for N ms)
  POST /devcore/up         end "unavailable"
  POST /devcore/config     {backoffScale, maxAttempts, lockMs, pollLimit, pollShape, routes}
  GET  /devcore/requests   the last 1000 /api requests (method, path, SMSc header, status)
  POST /devcore/reset      empty everything
`;

class UsageError extends Error {}

function parseArgs(args: string[]): DevCoreOptions {
  const opts: DevCoreOptions = { port: 8080, host: '127.0.0.1' };
  const routes: Route[] = [];
  let tlsCert: string | undefined;
  let tlsKey: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      if (arg.startsWith('--') && eq > 0) return arg.slice(eq + 1);
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    const number = (min: number, integer = true): number => {
      const raw = value();
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
        throw new UsageError(`${flag}: "${raw}" is not a ${integer ? 'whole ' : ''}number >= ${min}`);
      }
      return n;
    };
    switch (flag) {
      case '--port':
        opts.port = number(0);
        if (opts.port > 65535) throw new UsageError('--port: must be at most 65535');
        break;
      case '--host':
        opts.host = value();
        break;
      case '--token-file': {
        const file = value();
        const token = readFileSync(file, 'utf8').trim();
        if (token === '') throw new UsageError(`--token-file: ${file} is empty`);
        opts.token = token;
        break;
      }
      case '--tls-cert':
        tlsCert = value();
        break;
      case '--tls-key':
        tlsKey = value();
        break;
      case '--backoff-scale':
        opts.backoffScale = number(0, false);
        break;
      case '--max-attempts':
        opts.maxAttempts = number(1);
        break;
      case '--lock-ms':
        opts.lockMs = number(0);
        break;
      case '--poll-limit':
        opts.pollLimit = number(1);
        break;
      case '--poll-shape': {
        const v = value();
        if (v !== 'array' && v !== 'envelope')
          throw new UsageError(`--poll-shape: "${v}" is not array or envelope`);
        opts.pollShape = v;
        break;
      }
      case '--route': {
        const v = value();
        const at = v.indexOf('=');
        if (at <= 0 || at === v.length - 1) throw new UsageError(`--route: "${v}" is not PREFIX=SMSC`);
        routes.push({ calledPrefix: v.slice(0, at), destSmsc: v.slice(at + 1) });
        break;
      }
      default:
        throw new UsageError(`unknown option ${arg}`);
    }
  }
  if ((tlsCert === undefined) !== (tlsKey === undefined))
    throw new UsageError('--tls-cert and --tls-key go together');
  if (tlsCert !== undefined && tlsKey !== undefined)
    opts.tls = { cert: readFileSync(tlsCert), key: readFileSync(tlsKey) };
  if (routes.length > 0) opts.routes = routes;
  return opts;
}

export const command: Command = {
  name: 'devcore',
  summary: 'in-memory SMS core (REST API) for the demo, tests and benchmarks',
  usage,
  async run(args: string[]): Promise<number> {
    if (wantsHelp(args)) {
      console.log(usage);
      return 0;
    }
    let opts: DevCoreOptions;
    try {
      opts = parseArgs(args);
    } catch (err) {
      console.error(`devcore: ${(err as Error).message}\n\n${usage}`);
      return 2;
    }
    const log = createLogger().child({ component: 'devcore' });
    opts.log = log;
    let core;
    try {
      core = await startDevCore(opts);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      console.error(`devcore: cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port ?? 8080} (${code})`);
      return 1;
    }
    const signal = await untilStopSignal();
    log.info({ signal }, 'devcore stopping');
    await core.close();
    return 0;
  },
};
