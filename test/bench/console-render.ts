// The console page with N binds (default 1,000) in headless Chromium: time from navigation
// to the first full table on screen (modules fetched, SSE snapshot parsed, rows built, one
// frame laid out), against a baseline measured in the same run: the same table as static HTML
// with no script (what the browser needs just to parse and lay it out). Median of per-round
// ratios and their range; no assertion.
//
//   node --experimental-transform-types --no-warnings --import ./test/bench/lib/register.mjs \
//     test/bench/console-render.ts [binds=1000] [rounds=7]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startConsoleServer } from '../../src/console/server.js';
import type { BindRow, ConsoleSource } from '../../src/console/types.js';
import { createLogger } from '../../src/log.js';
import { launchChromium } from '../helpers/chromium.js';

// Browser globals used inside page.evaluate.
declare function requestAnimationFrame(cb: () => void): number;

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 7);
const PHASES = ['Bound', 'Bound', 'Bound', 'Connecting', 'Reconnecting', 'Error', 'Suspended'] as const;

function rows(): BindRow[] {
  const out: BindRow[] = [];
  const since = new Date(Date.now() - 3_600_000).toISOString();
  for (let i = 0; i < N; i++) {
    const client = i % 5 !== 0;
    const phase = PHASES[i % PHASES.length] as BindRow['phase'];
    const ns = `team-${i % 10}`;
    const name = `${client ? 'carrier' : 'partner'}-${i}`;
    const r: BindRow = {
      key: `${client ? 'client' : 'server'}/${ns}/${name}`,
      mode: client ? 'client' : 'server',
      namespace: ns,
      name,
      smscName: name.replace('-', '_'),
      systemId: `sys${i}`,
      phase,
      ready: {
        status: phase === 'Bound' ? 'True' : 'False',
        reason: phase === 'Error' ? 'BindFailed' : phase,
      },
      gatewayPod: `smpp-operator-7c9d-${i % 3}`,
      bindType: client ? 'transceiver' : 'transmitter, receiver, transceiver',
      tpsLimit: 100,
      suspended: phase === 'Suspended',
      counters: { sent: i * 37, received: i * 3, failed: i % 7, inFlight: i % 10 },
    };
    if (client) {
      r.host = `smsc${i}.carrier.example`;
      r.port = 2775;
    } else
      r.sessions =
        i % 2
          ? [{ pod: 'smpp-operator-7c9d-1', peer: '203.0.113.7:40112', bindType: 'transceiver', since }]
          : [];
    if (phase === 'Bound') r.boundSince = since;
    if (phase === 'Error') r.lastError = 'bind_transceiver_resp: ESME_RINVPASWD (0x0000000E)';
    out.push(r);
  }
  return out;
}

const data = rows();
const source: ConsoleSource = {
  meta: () => ({
    mode: 'cluster',
    servedBy: 'bench',
    listener: { host: '0.0.0.0', port: 2775, maxConnections: 1000, tls: false },
    actions: 'kubernetes',
  }),
  rows: () => data.map((r) => ({ ...r })),
  onChange: () => () => undefined,
  viewer: async () => ({ canPatch: {} }),
  act: async () => ({ status: 403, message: 'bench' }),
};

function staticTable(): string {
  const esc = (s: unknown): string => String(s ?? '–').replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = data
    .map(
      (r) =>
        `<tr><td>${esc(r.name)}<span>${esc(r.namespace)}</span></td><td><span class="badge" data-phase="${r.phase}">${r.phase}</span></td><td>${esc(r.ready?.reason)}</td><td>${esc(r.host)}:${esc(r.port)}</td><td>${esc(r.bindType)}</td><td class="num">${esc(r.tpsLimit)}</td><td>${esc(r.gatewayPod)}</td><td>1h 0m 0s</td><td class="num">${esc(r.counters?.sent)}</td><td class="num">${esc(r.counters?.received)}</td><td class="num">${esc(r.counters?.failed)}</td><td class="num">${esc(r.counters?.inFlight)}</td><td class="err">${esc(r.lastError)}</td><td><button>Reconnect</button><button>Disconnect</button></td></tr>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/console.css"></head><body><table><tbody>${body}</tbody></table></body></html>`;
}

async function main(): Promise<void> {
  const log = createLogger({ level: 'silent' });
  const consoleServer = await startConsoleServer({
    host: '127.0.0.1',
    port: 0,
    source,
    counters: async () => ({ byKey: new Map(), unreachable: [] }),
    podReport: async () => ({ pod: 'bench', binds: [] }),
    log,
  });
  const html = staticTable();
  const css = await (await fetch(`${consoleServer.url}console.css`)).text();
  const baseline = createServer((req, res) => {
    if (req.url === '/console.css') res.writeHead(200, { 'content-type': 'text/css' }).end(css);
    else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((r) => baseline.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(baseline.address() as AddressInfo).port}/`;
  const browser = await launchChromium();
  const frame = (): Promise<number> =>
    new Promise((r) => requestAnimationFrame(() => setTimeout(() => r(performance.now()), 0)));
  const consoleMs: number[] = [];
  const baseMs: number[] = [];
  const ratios: number[] = [];
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      const page = await browser.context.newPage();
      await page.goto(baseUrl);
      const b = await page.evaluate(frame);
      await page.goto(consoleServer.url);
      await page.waitForSelector('body[data-ready="true"]');
      const c = await page.evaluate(frame);
      const marks = await page.evaluate(() =>
        Object.fromEntries(
          performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)]),
        ),
      );
      const shown = await page.locator('tbody tr').count();
      if (shown !== N) throw new Error(`the page shows ${shown} rows, not ${N}`);
      await page.close();
      if (round === 0) continue; // warm-up: the browser's first page pays for its own start
      consoleMs.push(c);
      baseMs.push(b);
      ratios.push(c / b);
      console.log(
        `round ${round}: console ${c.toFixed(0)} ms (data in at ${marks['console:snapshot']} ms, table built at ${marks['console:rendered']} ms), static table ${b.toFixed(0)} ms, ratio ${(c / b).toFixed(2)}`,
      );
    }
  } finally {
    await browser.close();
    await consoleServer.close();
    baseline.close();
  }
  const med = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
  console.log(
    `\n${N} binds: console page ${med(consoleMs).toFixed(0)} ms to the full table (median of ${ROUNDS}; ` +
      `range ${Math.min(...consoleMs).toFixed(0)}–${Math.max(...consoleMs).toFixed(0)} ms), ` +
      `static HTML of the same table ${med(baseMs).toFixed(0)} ms; ratio median ${med(ratios).toFixed(2)} ` +
      `(range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`,
  );
}

await main();
