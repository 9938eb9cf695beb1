// The console page with N binds (default 1,000) in headless Chromium: time from navigation
// start to the first frame painted after every row's data is in the DOM, against a baseline
// measured in the same round: the same rows as a static HTML table with the same stylesheet and
// no script (what the browser needs just to parse, lay out and paint that table). Both pages are
// timed by the same script, injected before the page's own: each animation frame it counts the
// table rows, and in the first frame that has all N (the last one complete), it takes the time
// after that frame's paint. Median of per-round figures and ratios, their range, and the load
// average; no assertion.
//
//   node --experimental-transform-types --no-warnings --import ./test/bench/lib/register.mjs \
//     test/bench/console-render.ts [binds=1000] [rounds=7]
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startConsoleServer } from '../../src/console/server.js';
import type { BindRow, ConsoleSource } from '../../src/console/types.js';
import { createLogger } from '../../src/log.js';
import type { Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';

import { loadavg } from 'node:os';

const N = Number(process.argv[2] ?? 1000);
const ROUNDS = Number(process.argv[3] ?? 7);
// `phone`: a 390x844 viewport and the CPU slowed 4x (Chromium's own throttling), for every page.
const PHONE = process.argv[4] === 'phone';
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

// After the timed rounds: every bind's counters move each time they are gathered (every second
// while a page is open), so each update carries all N rows.
let moving = false;
let tick = 0;
function livecounters(): Map<string, NonNullable<BindRow['counters']>> {
  if (!moving) return new Map();
  tick++;
  return new Map(
    data.map((r) => [
      r.key,
      { sent: (r.counters?.sent ?? 0) + tick, received: tick, failed: 0, inFlight: tick % 10 },
    ]),
  );
}

function staticTable(): string {
  const esc = (s: unknown): string => String(s ?? '–').replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = data
    .map(
      (r) =>
        `<tr><td>${esc(r.name)}<span>${esc(r.namespace)}</span></td><td><span class="badge" data-phase="${r.phase}">${r.phase}</span></td><td>${esc(r.ready?.reason)}</td><td>${esc(r.host)}:${esc(r.port)}</td><td>${esc(r.bindType)}</td><td class="num">${esc(r.tpsLimit)}</td><td>${esc(r.gatewayPod)}</td><td>1h 0m 0s</td><td class="num">${esc(r.counters?.sent)}</td><td class="num">${esc(r.counters?.received)}</td><td class="num">${esc(r.counters?.failed)}</td><td class="num">${esc(r.counters?.inFlight)}</td><td class="err">${esc(r.lastError)}</td><td><button>Reconnect</button><button>Disconnect</button></td></tr>`,
    )
    .join('');
  return `<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="/console.css"></head><body><table id="client-table"><tbody>${body}</tbody></table></body></html>`;
}

// The second baseline: the same static page, laid out as an ordinary HTML table (column widths
// from every cell's content), which is how the console drew its tables before.
const AUTO_TABLE_CSS =
  'table{display:table;border-collapse:collapse}thead{display:table-header-group}' +
  'tbody{display:table-row-group}tr{display:table-row}td,th{display:table-cell;white-space:nowrap}';

// Runs in the page before its own scripts (addInitScript): a plain string, so that the
// browser gets it as written.
const TIMER = `(() => {
  const n = ${N};
  const check = () => {
    const rows = document.querySelectorAll('tbody tr');
    const last = rows[rows.length - 1];
    if (rows.length >= n && last && last.cells.length === 14 && last.cells[13].textContent.trim() !== '') {
      // This frame paints them; the task after it runs once the frame is done.
      setTimeout(() => { window.__renderedAt = performance.now(); window.__rows = rows.length; }, 0);
      return;
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;

interface Timing {
  renderedAt: number;
  rows: number;
  /** the last byte of the HTML, and the end of parsing (DOMContentLoaded), from navigation start */
  responseEnd: number;
  parsed: number;
}

async function newPage(browser: Awaited<ReturnType<typeof launchChromium>>): Promise<Page> {
  const page = await browser.context.newPage();
  if (PHONE) {
    await page.setViewportSize({ width: 390, height: 844 });
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  }
  return page;
}

// One open page while every row changes each second: how long the page takes to apply each
// update of N rows (parse the event, rewrite the changed cells: its `console:update` measure),
// and the long tasks (over 50 ms) it had meanwhile.
async function liveUpdates(
  browser: Awaited<ReturnType<typeof launchChromium>>,
  url: string,
): Promise<{ long: number[]; updates: number[] }> {
  const page = await newPage(browser);
  try {
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    await page.evaluate(() => {
      const g = globalThis as unknown as { __long: number[] };
      g.__long = [];
      new PerformanceObserver((l) => {
        for (const e of l.getEntries()) g.__long.push(e.duration);
      }).observe({ type: 'longtask' as never });
    });
    moving = true;
    const last = `tr[data-key="${data[data.length - 1]?.key}"] td[data-field="received"]`;
    // Eight updates shown on the page (the last row's counter), then the tasks they took.
    for (let i = 0; i < 8; i++) {
      const before = await page.textContent(last);
      await page.waitForFunction(
        ([sel, b]) =>
          (
            globalThis as unknown as {
              document: { querySelector(s: string): { textContent: string } | null };
            }
          ).document.querySelector(sel as string)?.textContent !== b,
        [last, before],
        { timeout: 30_000 },
      );
    }
    return await page.evaluate(() => ({
      long: (globalThis as unknown as { __long: number[] }).__long,
      updates: performance.getEntriesByName('console:update').map((e) => e.duration),
    }));
  } finally {
    moving = false;
    await page.close();
  }
}

async function main(): Promise<void> {
  const log = createLogger({ level: 'silent' });
  const consoleServer = await startConsoleServer({
    host: '127.0.0.1',
    port: 0,
    source,
    counters: async () => ({ byKey: livecounters(), unreachable: [] }),
    podReport: async () => ({ pod: 'bench', binds: [] }),
    log,
  });
  const html = staticTable();
  const css = await (await fetch(`${consoleServer.url}console.css`)).text();
  const baseline = createServer((req, res) => {
    if (req.url === '/console.css') res.writeHead(200, { 'content-type': 'text/css' }).end(css);
    else if (req.url === '/auto.css')
      res.writeHead(200, { 'content-type': 'text/css' }).end(css + AUTO_TABLE_CSS);
    else if (req.url === '/auto')
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(html.replace('href="/console.css"', 'href="/auto.css"'));
    else res.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((r) => baseline.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(baseline.address() as AddressInfo).port}/`;
  const browser = await launchChromium();
  await browser.context.addInitScript({ content: TIMER });
  const timeIt = async (url: string, live: boolean): Promise<Timing> => {
    const page = await newPage(browser);
    try {
      await page.goto(url, { waitUntil: 'commit' });
      await page.waitForFunction(
        () => (globalThis as { __renderedAt?: number }).__renderedAt !== undefined,
        null,
        {
          timeout: 120_000,
          polling: 100,
        },
      );
      // Node's types have no navigation entries: the fields are read by name.
      const t = (await page.evaluate(() => {
        const nav = performance.getEntriesByType('navigation' as never)[0] as unknown as Record<
          string,
          number
        >;
        const g = globalThis as { __renderedAt?: number; __rows?: number };
        return {
          responseEnd: nav.responseEnd,
          parsed: nav.domContentLoadedEventStart,
          renderedAt: g.__renderedAt,
          rows: g.__rows,
        };
      })) as Timing;
      if (t.rows !== N) throw new Error(`${url} shows ${t.rows} rows, not ${N}`);
      // The console must also be live (snapshot applied), not only drawn.
      if (live) await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
      return t;
    } finally {
      await page.close();
    }
  };
  const pages = [
    { name: 'console', url: consoleServer.url, live: true },
    { name: 'static', url: baseUrl, live: false },
    { name: 'table', url: `${baseUrl}auto`, live: false },
  ] as const;
  const ms: Record<string, number[]> = { console: [], static: [], table: [] };
  const vsStatic: number[] = [];
  const vsTable: number[] = [];
  const loadBefore = loadavg();
  let live: { long: number[]; updates: number[] } = { long: [], updates: [] };
  try {
    for (let round = 0; round <= ROUNDS; round++) {
      // Rotate which page goes first, so that none always gets the warmer browser.
      const t: Record<string, Timing> = {};
      for (let i = 0; i < pages.length; i++) {
        const p = pages[(i + round) % pages.length] as (typeof pages)[number];
        t[p.name] = await timeIt(p.url, p.live);
      }
      if (round === 0) continue; // warm-up: the browser's first pages pay for its own start
      const [c, st, tb] = [t.console, t.static, t.table] as [Timing, Timing, Timing];
      ms.console?.push(c.renderedAt);
      ms.static?.push(st.renderedAt);
      ms.table?.push(tb.renderedAt);
      vsStatic.push(c.renderedAt / st.renderedAt);
      vsTable.push(c.renderedAt / tb.renderedAt);
      console.log(
        `round ${round}: console ${c.renderedAt.toFixed(0)} ms (HTML in at ${c.responseEnd.toFixed(0)}, parsed at ${c.parsed.toFixed(0)}), ` +
          `static ${st.renderedAt.toFixed(0)} ms, plain table ${tb.renderedAt.toFixed(0)} ms; ` +
          `ratios ${(c.renderedAt / st.renderedAt).toFixed(2)} and ${(c.renderedAt / tb.renderedAt).toFixed(2)} (load ${loadavg()[0]?.toFixed(2)})`,
      );
    }
    live = await liveUpdates(browser, consoleServer.url);
  } finally {
    await browser.close();
    await consoleServer.close();
    baseline.close();
  }
  const loadAfter = loadavg();
  const med = (xs: number[]): number => {
    const s = [...xs].sort((x, y) => x - y);
    const m = Math.floor(s.length / 2);
    return (s.length % 2 ? s[m] : ((s[m - 1] as number) + (s[m] as number)) / 2) as number;
  };
  const range = (xs: number[], d: number): string =>
    `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`;
  const fig = (xs: number[] = []): string => `${med(xs).toFixed(0)} ms (${range(xs, 0)})`;
  const la = (l: number[]): string => l.map((x) => x.toFixed(2)).join(' ');
  console.log(
    `\n${N} binds, ${ROUNDS} rounds, medians (ranges) from navigation start to the painted full table:\n` +
      `  console page                           ${fig(ms.console)}\n` +
      `  static HTML, same rows and stylesheet  ${fig(ms.static)}   console / static: ${med(vsStatic).toFixed(2)} (${range(vsStatic, 2)})\n` +
      `  static HTML as an auto-layout table    ${fig(ms.table)}   console / table:  ${med(vsTable).toFixed(2)} (${range(vsTable, 2)})\n` +
      `  live updates of all ${N} rows' counters: ${live.updates.length} applied in a median ${med(live.updates).toFixed(0)} ms each ` +
      `(${range(live.updates, 0)}); long tasks meanwhile: ${live.long.length}${live.long.length ? ` (${range(live.long, 0)} ms)` : ''}\n` +
      `  load average before ${la(loadBefore)}, after ${la(loadAfter)}${PHONE ? '; phone viewport, CPU slowed 4x' : ''}`,
  );
}

await main();
