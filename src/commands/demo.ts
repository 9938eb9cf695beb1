import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../config.js';
import { startDevCore, type DevCore } from '../devcore/index.js';
import { manifestFolderSource, runGateway, type RunningGateway } from '../gateway/index.js';
import { createLogger } from '../log.js';
import { startSmscSim, type RunningSmscSim } from '../sim/index.js';
import { untilStopSignal, wantsHelp, type Command } from './command.js';

const usage = `Usage: smpp-operator demo [options]

Starts, in one process, devcore (the in-memory SMS core), the SMSC simulator and a standalone
gateway with manifests/examples/, sends a few messages through (GSM, UCS-2 with an emoji, a
long one that is split), shows them delivered with receipts and an MO message arriving, and
keeps running so the URLs it prints can be explored. Ctrl-C stops it.

Options:
  --exit               stop after the summary (exit code 0 when every message was delivered)
  --manifests DIR      binds to run (default: manifests/examples of this package)
  --core-port N        devcore HTTP port (default 8080)
  --smsc-port N        simulator SMPP port (default 2775, as the example client bind expects)
  --smsc-http-port N   simulator control port (default 8081)
  --metrics-port N     gateway /metrics port (default 4000)
  --listen-port N      gateway SMPP listener for partners (default 2776)
  --console-port N     the Live Status console (default 8087; 0 = none)
  --receipt-delay MS   how long the simulator waits before each receipt (default 1000)
  -h, --help           this help
`;

interface DemoOptions {
  exit: boolean;
  manifests: string;
  corePort: number;
  smscPort: number;
  smscHttpPort: number;
  metricsPort: number;
  listenPort: number;
  consolePort: number;
  receiptDelayMs: number;
  /** Without --exit: run until this settles (tests) instead of until Ctrl-C. */
  until?: Promise<void>;
}

class UsageError extends Error {}

function defaultManifests(): string {
  // dist/commands/demo.js (or src/commands/demo.ts) → <package>/manifests/examples
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'manifests', 'examples');
}

function parseArgs(args: string[]): DemoOptions {
  const o: DemoOptions = {
    exit: false,
    manifests: defaultManifests(),
    corePort: 8080,
    smscPort: 2775,
    smscHttpPort: 8081,
    metricsPort: 4000,
    listenPort: 2776,
    consolePort: 8087,
    receiptDelayMs: 1000,
  };
  const ports: Record<string, keyof DemoOptions> = {
    '--core-port': 'corePort',
    '--smsc-port': 'smscPort',
    '--smsc-http-port': 'smscHttpPort',
    '--metrics-port': 'metricsPort',
    '--listen-port': 'listenPort',
    '--console-port': 'consolePort',
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const value = (): string => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${arg} needs a value`);
      return v;
    };
    const port = ports[arg];
    if (port !== undefined) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`${arg} must be a port number`);
      (o as unknown as Record<string, number>)[port] = n;
    } else if (arg === '--exit') o.exit = true;
    else if (arg === '--manifests') o.manifests = value();
    else if (arg === '--receipt-delay') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0 || n > 60_000)
        throw new UsageError('--receipt-delay must be 0-60000 ms');
      o.receiptDelayMs = n;
    } else throw new UsageError(`unknown option ${arg}`);
  }
  return o;
}

const LONG_TEXT =
  'This is a long message from the smpp-operator demo. It is longer than the 160 characters one SMS ' +
  'can carry, so the gateway splits it into parts with a concatenation header, submits each part ' +
  'within the bind window and TPS limit, and the handset puts it back together.';

interface Sample {
  label: string;
  body: string;
  charset?: string;
}

const SAMPLES: Sample[] = [
  { label: 'GSM 7-bit', body: 'Hello from the smpp-operator demo! Price: 10€ {ok}' },
  { label: 'UCS-2 + emoji', body: 'Olá 👋 Привет — 你好', charset: 'ucs2' },
  { label: 'long (split)', body: LONG_TEXT },
];

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  const line = (r: string[]): string => r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ');
  const sep = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(rows[0] ?? []), sep, ...rows.slice(1).map(line)].join('\n');
}

function str(v: unknown): string {
  return v === null || v === undefined ? '' : String(v);
}

export type { DemoOptions };

export async function runDemo(o: DemoOptions, out: (line: string) => void): Promise<number> {
  const log = createLogger({ level: process.env.LOG_LEVEL ?? 'warn' });
  let core: DevCore | undefined;
  let sim: RunningSmscSim | undefined;
  let gw: RunningGateway | undefined;
  const cleanup = async (): Promise<void> => {
    await gw?.stop('demo finished');
    await sim?.close();
    await core?.close();
  };
  try {
    core = await startDevCore({
      port: o.corePort,
      backoffScale: 0.001,
      log: log.child({ component: 'devcore' }),
    });
    sim = await startSmscSim({
      smppPort: o.smscPort,
      httpPort: o.smscHttpPort,
      receipt: { delayMs: o.receiptDelayMs },
      log: log.child({ component: 'smsc-sim' }),
    });
    const config = loadConfig({
      API_BASE_URL: core.url,
      SMSC_NAME: 'demo-gateway',
      METRICS_HOST: '127.0.0.1',
      METRICS_PORT: String(o.metricsPort),
      SMPP_LISTEN_HOST: '127.0.0.1',
      SMPP_LISTEN_PORT: String(o.listenPort),
      CONSOLE_HOST: '127.0.0.1',
      CONSOLE_PORT: String(o.consolePort),
      SHUTDOWN_GRACE_SECONDS: '5',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      POD_NAME: 'demo-gateway',
    });
    out(`devcore (SMS core)   ${core.url}`);
    out(`SMSC simulator       smpp://127.0.0.1:${sim.smppPort}  control http://127.0.0.1:${sim.httpPort}`);
    out(`manifests            ${o.manifests}`);
    gw = await runGateway(config, manifestFolderSource(o.manifests), {
      log: log.child({ component: 'gateway' }),
      handleSignals: false,
    });
    const gateway = gw.gateway;
    const carrier = await waitFor('a bound client bind', 15_000, () =>
      gateway.statuses().find((s) => s.kind === 'SmppClientBind' && s.status.phase === 'Bound'),
    );
    out(
      `gateway              bind ${carrier.namespace}/${carrier.name} is Bound (smscName ${carrier.smscName})\n`,
    );

    const store = core.store;
    const numberOf = (i: number): string => `+44770090012${i}`;
    const ids = SAMPLES.map((s, i) => {
      const m: Record<string, unknown> = {
        source_msisdn: '+15550001111',
        destination_msisdn: numberOf(i),
        message_body: s.body,
        source_smsc: 'demo-web',
        dest_smsc: carrier.smscName,
      };
      if (s.charset) m.tp_dcs_character_set = s.charset;
      return store.create(m).id;
    });
    out(
      `pushed ${ids.length} messages for ${carrier.smscName} into the core; waiting for delivery receipts...`,
    );
    await waitFor('delivery receipts', 30_000, () =>
      ids.every((id) => {
        const st = store.get(id)?.rec.status;
        return st === 'delivered' || st === 'failed';
      })
        ? true
        : undefined,
    );

    const moBefore = new Set(Array.from(store.all(), (e) => e.rec.id));
    const mo = await sim.state.sendMo({
      source: numberOf(0),
      destination: '12345',
      text: 'STOP? Réponse reçue 👍',
      dataCoding: 8,
    });
    const moRec = await waitFor('the MO message in the core', 10_000, () =>
      Array.from(store.all(), (e) => e.rec).find(
        (r) => !moBefore.has(r.id) && r.source_smsc === carrier.smscName,
      ),
    );

    const submits = sim.state.messages(0, 1000).messages;
    const rows: string[][] = [
      ['core id', 'message', 'parts', 'data_coding', 'carrier id', 'status', 'delivered at'],
    ];
    let ok = true;
    SAMPLES.forEach((s, i) => {
      const rec = store.get(ids[i] as number)?.rec ?? { id: 0 };
      // Each sample went to its own number: its parts are the simulator's submits to it.
      const parts = submits.filter((x) => `+${x.destination.addr}` === numberOf(i));
      if (rec.status !== 'delivered') ok = false;
      rows.push([
        str(rec.id),
        s.label,
        String(parts.length),
        parts[0] ? `0x${parts[0].dataCoding.toString(16).padStart(2, '0')}` : '',
        parts.map((x) => x.messageId ?? '?').join(','),
        str(rec.status),
        str(rec.delivered_at),
      ]);
    });
    out('\nMT: core → gateway → carrier (with delivery receipts)\n' + table(rows));
    out(
      '\nMO: carrier → gateway → core\n' +
        table([
          ['core id', 'from', 'to', 'source_smsc', 'text', 'deliver_sm_resp'],
          [
            str(moRec.id),
            str(moRec.source_msisdn),
            str(moRec.destination_msisdn),
            str(moRec.source_smsc),
            str(moRec.message_body),
            mo.commandStatus === 0 ? 'ESME_ROK' : `0x${mo.commandStatus.toString(16)}`,
          ],
        ]),
    );
    if (moRec.message_body !== 'STOP? Réponse reçue 👍') ok = false;
    const a = gateway.accounting();
    out(
      `\naccounting: taken ${a.taken} = sent ${a.sent} + returned ${a.returned} + failed ${a.failed} + released ${a.released} (in flight ${a.inFlight})`,
    );
    if (gw.console !== undefined) {
      out(
        `\nconsole              ${gw.console.url}   (Live Status: every bind, live; Reconnect / Disconnect)`,
      );
    }
    out(
      `${gw.console !== undefined ? '' : '\n'}metrics              ${gw.ops.url}/metrics   (health ${gw.ops.url}/healthz, ${gw.ops.url}/readyz)`,
    );
    out(`core messages        ${core.url}/devcore/messages   stats ${core.url}/devcore/stats`);
    out(`simulator            http://127.0.0.1:${sim.httpPort}/messages   /deliveries   /stats`);
    out(
      `partner listener     smpp://127.0.0.1:${gateway.smppPort ?? o.listenPort} (system_id demo_partner, see manifests/examples/server-bind.yaml)`,
    );
    out(`send more            curl -s ${core.url}/devcore/messages -H 'content-type: application/json' \\`);
    out(
      `                       -d '{"source_msisdn":"+15550001111","destination_msisdn":"+447700900123","message_body":"hi","dest_smsc":"${carrier.smscName}"}'`,
    );
    if (o.exit) {
      await cleanup();
      return ok ? 0 : 1;
    }
    out('\nRunning. Ctrl-C to stop.');
    await (o.until ?? untilStopSignal());
    await cleanup();
    return 0;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    out(
      `demo: ${e.code === 'EADDRINUSE' ? `a port is already in use (${e.message}); see --help for the port options` : e.message}`,
    );
    await cleanup().catch(() => undefined);
    return 1;
  }
}

export const command: Command = {
  name: 'demo',
  summary: 'local demo: devcore + SMSC simulator + gateway, messages end to end',
  usage,
  async run(args: string[]): Promise<number> {
    if (wantsHelp(args)) {
      console.log(usage);
      return 0;
    }
    let o: DemoOptions;
    try {
      o = parseArgs(args);
    } catch (err) {
      console.error(`demo: ${(err as Error).message}\n\n${usage}`);
      return 2;
    }
    return runDemo(o, (line) => console.log(line));
  },
};
