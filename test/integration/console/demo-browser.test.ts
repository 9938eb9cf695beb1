// The console of `npm start` (the demo) in real headless Chromium: the page lists the demo's
// binds with the right phase and counters, a phase change caused elsewhere (the carrier
// refusing binds) shows up live without a reload, Disconnect suspends the bind (the
// simulator sees the unbind) and Connect brings it back, both as runtime overrides that leave
// the files alone. Also: labels, keyboard, dark mode, CSRF, and the screenshot for docs/.
import { cp, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../../../src/commands/demo.js';
import { launchChromium, type Chromium } from '../../helpers/chromium.js';
import { freePort } from '../../helpers/net.js';
import { until } from '../gateway/harness.js';

// What the functions passed to page.evaluate / waitForFunction use in the browser.
interface PageElement {
  textContent: string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): { scrollLeft: number }[];
  getElementById(id: string): PageElement | null;
  activeElement: { blur(): void } | null;
  body: object;
};
declare const window: { marker?: number };
declare function getComputedStyle(e: object): { backgroundColor: string; color: string };

const CARRIER = 'client/default/demo-carrier';
const PARTNER = 'server/default/demo-partner';

interface BindJson {
  key: string;
  phase: string;
  suspended: boolean;
  override?: string;
  counters?: { sent: number };
}

async function getJson<T>(
  url: string,
  init: Parameters<typeof request>[1] = {},
): Promise<{ status: number; body: T }> {
  const r = await request(url, init);
  return { status: r.statusCode, body: (await r.body.json()) as T };
}

async function phaseInPage(page: Page, key: string): Promise<string | null> {
  return page.locator(`tr[data-key="${key}"] td[data-field="phase"]`).textContent();
}

let dir: string;
let stop!: () => void;
let demo: Promise<number>;
let consoleUrl: string;
let simUrl: string;
let browser: Chromium;
let lines: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'console-demo-'));
  await cp(join(process.cwd(), 'manifests', 'examples'), dir, { recursive: true });
  await rm(join(dir, 'reference'), { recursive: true, force: true });
  await rm(join(dir, 'gitops'), { recursive: true, force: true });
  const [smscPort, smscHttpPort, consolePort] = [await freePort(), await freePort(), await freePort()];
  const clientYaml = join(dir, 'client-bind.yaml');
  // The example points at 2775 and reconnects after 1 s: a free port, and quicker retries.
  await writeFile(
    clientYaml,
    (await readFile(clientYaml, 'utf8'))
      .replace(/port: 2775/, `port: ${smscPort}`)
      .replace(
        /queueCheckInterval: 500/,
        'queueCheckInterval: 500\n  reconnect: {minDelay: 200ms, maxDelay: 1s}',
      ),
  );
  lines = [];
  const stopped = new Promise<void>((r) => (stop = r));
  demo = runDemo(
    {
      exit: false,
      manifests: dir,
      corePort: 0,
      smscPort,
      smscHttpPort,
      metricsPort: 0,
      listenPort: 0,
      consolePort,
      receiptDelayMs: 50,
      until: stopped,
    },
    (l) => lines.push(l),
  );
  await until('the demo to print its URLs', () => lines.some((l) => l.includes('Running.')), 60_000);
  const line = lines.find((l) => /^\n?console /.test(l));
  const m = /console\s+(http:\/\/127\.0\.0\.1:\d+\/)/.exec(line ?? '');
  expect(m, lines.join('\n')).not.toBeNull();
  consoleUrl = (m as RegExpExecArray)[1] as string;
  simUrl = `http://127.0.0.1:${smscHttpPort}`;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  stop?.();
  await demo;
  await rm(dir, { recursive: true, force: true });
});

describe('console of the demo, in Chromium', () => {
  it('prints the console URL, and the page lists the binds with their phase, totals and counters', async () => {
    expect(consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await browser.context.newPage();
    await page.goto(consoleUrl);
    await page.waitForSelector('body[data-ready="true"]');
    expect(await phaseInPage(page, CARRIER)).toBe('Bound');
    expect(await phaseInPage(page, PARTNER)).toBe('Pending');
    expect(await page.textContent('#t-all')).toBe('2');
    expect(await page.textContent('#t-client-up')).toBe('1');
    expect(await page.textContent('#t-server-waiting')).toBe('1');
    expect(await page.textContent('#t-listener')).toMatch(/^127\.0\.0\.1:\d+ · max 1,000 connections$/);
    // The demo sent 3 messages (one of them long) through the carrier.
    await page.waitForFunction(
      (key) =>
        Number(document.querySelector(`tr[data-key="${key}"] td[data-field="sent"]`)?.textContent) >= 3,
      CARRIER,
    );
    expect(await page.textContent(`tr[data-key="${CARRIER}"] td[data-field="pod"]`)).toBe('demo-gateway');
    expect(await page.textContent('#notice')).toContain('runtime overrides kept apart from those files');
    // The tables keep their semantics though each row is laid out as a grid: Chromium's own
    // accessibility tree (what a screen reader gets) has the tables, their rows, column headers
    // and cells.
    const cdp = await browser.context.newCDPSession(page);
    const ax = (await cdp.send('Accessibility.getFullAXTree')) as {
      nodes: { ignored: boolean; role?: { value: string }; name?: { value: string } }[];
    };
    const roles = (role: string): string[] =>
      ax.nodes.filter((n) => !n.ignored && n.role?.value === role).map((n) => n.name?.value ?? '');
    expect(roles('table')).toHaveLength(2);
    expect(roles('row')).toHaveLength(4);
    expect(roles('columnheader').filter((n) => n === 'Phase')).toHaveLength(2);
    expect(roles('cell')).toContain('demo-gateway');
    expect(roles('button')).toContain('Disconnect default/demo-carrier');
    await cdp.detach();
    // Accessibility basics: every input has a label, every button an accessible name.
    expect(
      await page.$$eval('input', (els) =>
        els.every((e) => ((e as unknown as { labels: unknown[] | null }).labels?.length ?? 0) > 0),
      ),
    ).toBe(true);
    expect(
      await page.$$eval('button', (els) =>
        els.every((b) => (b.getAttribute('aria-label') ?? b.textContent ?? '') !== ''),
      ),
    ).toBe(true);
    // The rows are in the HTML as sent (no script needed to see them), gzipped when asked.
    const plain = await request(consoleUrl);
    const sent = await plain.body.text();
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(sent).toMatch(
      new RegExp(
        `<tr data-key="${CARRIER}"[^>]*>.*?<td data-field="phase"><span class="badge" data-phase="Bound">`,
      ),
    );
    const zipped = await request(consoleUrl, { headers: { 'accept-encoding': 'gzip' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    const unzipped = gunzipSync(Buffer.from(await zipped.body.arrayBuffer())).toString('utf8');
    expect(unzipped).toContain(`<tr data-key="${PARTNER}"`);
    expect(unzipped).not.toContain('carpass1');
    // Nothing secret reached the page.
    const html = await page.content();
    expect(html).not.toContain('carpass1');
    expect(html).not.toContain('prtpass2');
    await page.close();
  });

  it('shows a phase change caused elsewhere within 2 s, without reloading', async () => {
    const page = await browser.context.newPage();
    await page.goto(consoleUrl);
    await page.waitForSelector('body[data-ready="true"]');
    await page.evaluate(() => (window.marker = 42));
    expect(await phaseInPage(page, CARRIER)).toBe('Bound');
    // The carrier drops the session and refuses new binds: the bind leaves Bound.
    await request(`${simUrl}/faults`, { method: 'POST', body: JSON.stringify({ refuseBinds: true }) });
    await request(`${simUrl}/disconnect`, { method: 'POST', body: '{}' });
    const api = await until('the console API to see the bind leave Bound', async () => {
      const r = await getJson<{ binds: BindJson[] }>(`${consoleUrl}api/v1/binds`);
      const b = r.body.binds.find((x) => x.key === CARRIER);
      return b && b.phase !== 'Bound' ? b : undefined;
    });
    const seen = Date.now();
    await page.waitForFunction(
      (key) =>
        document.querySelector(`tr[data-key="${key}"] td[data-field="phase"]`)?.textContent !== 'Bound',
      CARRIER,
      { timeout: 2_000 },
    );
    const latency = Date.now() - seen;
    expect(['Connecting', 'Reconnecting', 'Error']).toContain(api.phase);
    expect(await page.evaluate(() => window.marker)).toBe(42);
    expect(await page.evaluate(() => performance.getEntriesByType('navigation' as never).length)).toBe(1);
    // And back, still live.
    await request(`${simUrl}/faults`, { method: 'DELETE' });
    await page.waitForFunction(
      (key) =>
        document.querySelector(`tr[data-key="${key}"] td[data-field="phase"]`)?.textContent === 'Bound',
      CARRIER,
      { timeout: 20_000 },
    );
    console.log(`console: phase change on the page ${latency} ms after the API had it`);
    await page.close();
  });

  it('Disconnect suspends the bind (the simulator sees the unbind) and Connect, by keyboard, brings it back', async () => {
    const fileBefore = await readFile(join(dir, 'client-bind.yaml'), 'utf8');
    const page = await browser.context.newPage();
    await page.goto(consoleUrl);
    await page.waitForSelector('body[data-ready="true"]');
    await page.waitForFunction(
      (key) =>
        document.querySelector(`tr[data-key="${key}"] td[data-field="phase"]`)?.textContent === 'Bound',
      CARRIER,
      { timeout: 20_000 },
    );
    type SimBinds = {
      systems: { systemId: string; active: number }[];
      events: { seq: number; systemId: string; event: string }[];
    };
    const before = (await getJson<SimBinds>(`${simUrl}/binds`)).body;
    const lastSeq = Math.max(0, ...before.events.map((e) => e.seq));
    expect(before.systems.find((s) => s.systemId === 'demo_carrier')?.active).toBe(1);

    await page.click(`tr[data-key="${CARRIER}"] button[data-action="disconnect"]`);
    await page.waitForFunction(
      (key) =>
        document.querySelector(`tr[data-key="${key}"] td[data-field="phase"]`)?.textContent === 'Suspended',
      CARRIER,
      { timeout: 10_000 },
    );
    const after = await until('the simulator to see the unbind', async () => {
      const b = (await getJson<SimBinds>(`${simUrl}/binds`)).body;
      return b.systems.find((s) => s.systemId === 'demo_carrier')?.active === 0 ? b : undefined;
    });
    const events = after.events
      .filter((e) => e.seq > lastSeq && e.systemId === 'demo_carrier')
      .map((e) => e.event);
    expect(events).toContain('unbound');
    expect(await page.textContent(`tr[data-key="${CARRIER}"] .override`)).toContain('runtime override');
    expect(await page.textContent('#t-client-down')).toBe('1');
    expect(await page.isVisible(`tr[data-key="${CARRIER}"] button[data-action="disconnect"]`)).toBe(false);

    // Connect with the keyboard: focus the button, press Enter.
    await page.focus(`tr[data-key="${CARRIER}"] button[data-action="connect"]`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(
      (key) =>
        document.querySelector(`tr[data-key="${key}"] td[data-field="phase"]`)?.textContent === 'Bound',
      CARRIER,
      { timeout: 20_000 },
    );
    await until('the simulator to see the bind again', async () => {
      const b = (await getJson<SimBinds>(`${simUrl}/binds`)).body;
      return b.systems.find((s) => s.systemId === 'demo_carrier')?.active === 1;
    });
    expect(await page.textContent(`tr[data-key="${CARRIER}"] td[data-field="name"]`)).not.toContain(
      'override',
    );
    // The files were never touched.
    expect(await readFile(join(dir, 'client-bind.yaml'), 'utf8')).toBe(fileBefore);

    // The screenshot README shows (written to docs/ when SMPP_UPDATE_SCREENSHOTS=1).
    await page.waitForFunction(() => document.getElementById('message')?.textContent !== '');
    await page.setViewportSize({ width: 1600, height: 760 });
    await page.evaluate(() => {
      for (const el of document.querySelectorAll('.scroll')) el.scrollLeft = 0;
      document.activeElement?.blur();
    });
    const shots = join(process.cwd(), '.cache', 'screenshots');
    await mkdir(shots, { recursive: true });
    await page.screenshot({ path: join(shots, 'console-demo.png'), fullPage: true });
    if (process.env.SMPP_UPDATE_SCREENSHOTS === '1') {
      await copyFile(join(shots, 'console-demo.png'), join(process.cwd(), 'docs', 'console-demo.png'));
    }
    await page.close();
  });

  it('refuses actions without the CSRF token, from another origin, or at a non-loopback Host', async () => {
    const url = `${consoleUrl}api/v1/binds/client/default/demo-carrier/disconnect`;
    const plain = await getJson<{ error: string }>(url, { method: 'POST', body: '{}' });
    expect(plain.status).toBe(403);
    expect(plain.body.error).toContain('CSRF');
    const s = await request(`${consoleUrl}api/v1/session`);
    const { csrf } = (await s.body.json()) as { csrf: string };
    const cookie = String(s.headers['set-cookie']).split(';')[0] as string;
    const foreign = await getJson<{ error: string }>(url, {
      method: 'POST',
      body: '{}',
      headers: {
        cookie,
        'x-csrf-token': csrf,
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
      },
    });
    expect(foreign.status).toBe(403);
    const rebinding = await getJson<{ error: string }>(url, {
      method: 'POST',
      body: '{}',
      headers: { cookie, 'x-csrf-token': csrf, host: 'evil.example' },
    });
    expect(rebinding.status).toBe(421);
    const bound = (await getJson<{ binds: BindJson[] }>(`${consoleUrl}api/v1/binds`)).body.binds;
    expect(bound.find((b) => b.key === CARRIER)?.suspended).toBe(false);
  });

  it('is readable in dark mode', async () => {
    const dark = await launchChromium({ colorScheme: 'dark' });
    try {
      const page = await dark.context.newPage();
      await page.goto(consoleUrl);
      await page.waitForSelector('body[data-ready="true"]');
      const [bg, fg] = await page.evaluate(() => {
        const s = getComputedStyle(document.body);
        return [s.backgroundColor, s.color];
      });
      expect(bg).toBe('rgb(13, 17, 23)');
      expect(fg).toBe('rgb(230, 237, 243)');
    } finally {
      await dark.close();
    }
  });
});
