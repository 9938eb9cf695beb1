// The page as the server sends it: every bind already in the HTML (the browser draws 1,000 rows
// without waiting for a script), sorted, escaped, and drawn for a viewer who has not signed in.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderPage } from '../../../src/console/page.js';
import { WEB_DIR } from '../../../src/console/static.js';
import type { BindRow, ConsoleMeta } from '../../../src/console/types.js';
import { cellsOf, rowSig } from '../../../src/console/web/table.js';

const meta: ConsoleMeta = {
  mode: 'cluster',
  servedBy: 'gw-<a>',
  listener: { host: '0.0.0.0', port: 2775, maxConnections: 1000, tls: true },
  actions: 'kubernetes',
};

function row(name: string, over: Partial<BindRow> = {}): BindRow {
  return {
    key: `client/ns/${name}`,
    mode: 'client',
    namespace: 'ns',
    name,
    smscName: name,
    systemId: 'sys',
    phase: 'Bound',
    bindType: 'transceiver',
    host: 'smsc.example',
    port: 2775,
    suspended: false,
    boundSince: new Date(Date.now() - 65_000).toISOString(),
    counters: { sent: 1234, received: 2, failed: 0, inFlight: 1 },
    ...over,
  };
}

const template = await readFile(join(WEB_DIR, 'index.html'), 'utf8');

describe('renderPage', () => {
  it('fills every slot: rows sorted by name, totals, header, and no slot left', () => {
    const binds = [
      row('zeta'),
      row('alpha', { phase: 'Error', lastError: 'refused' }),
      { ...row('partner'), key: 'server/ns/partner', mode: 'server' as const, sessions: [] },
    ];
    const html = renderPage(template, { meta, binds }, Date.now());
    expect(html).not.toMatch(/<!--=/);
    expect(html.indexOf('data-key="client/ns/alpha"')).toBeLessThan(
      html.indexOf('data-key="client/ns/zeta"'),
    );
    expect(html).toContain('<dd id="t-all">3</dd>');
    expect(html).toContain('<span id="t-client-up">1</span>');
    expect(html).toContain('0.0.0.0:2775 (TLS) · max 1,000 connections');
    expect(html).toContain('<td data-field="sent">1,234</td>');
    expect(html).toContain('>1m 5s</time>');
    expect(html).toContain('<th scope="col" data-field="system">System ID</th>');
    expect(html).toContain('data-actions="kubernetes"');
  });

  it('escapes what comes from binds and pods, and draws read-only buttons for a viewer not signed in', () => {
    const evil = row('x', { lastError: '<img src=x onerror=alert(1)>', override: '"><script>' });
    const html = renderPage(template, { meta, binds: [evil] }, Date.now());
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('"><script>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('cluster · served by pod gw-&lt;a&gt;');
    expect(html).toMatch(/data-action="disconnect"[^>]* disabled title="Read-only: sign in/);
  });

  it('marks each row with the fingerprint the browser compares the live snapshot with', () => {
    const r = row('c');
    const html = renderPage(template, { meta, binds: [r] }, Date.now());
    expect(html).toContain(`data-sig="${rowSig(r)}"`);
    // JSON.parse(JSON.stringify(row)), as the browser gets it from the feed, has the same one.
    expect(rowSig(JSON.parse(JSON.stringify(r)) as BindRow)).toBe(rowSig(r));
    expect(rowSig({ ...r, phase: 'Error' })).not.toBe(rowSig(r));
    // A suspended bind offers Connect only; a running one Reconnect and Disconnect.
    const actions = (b: BindRow): string => cellsOf(b, true).at(-1) ?? '';
    expect(actions({ ...r, suspended: true })).toMatch(
      /^<button[^>]*data-action="connect"[^<]*>Connect<\/button>$/,
    );
    expect(actions(r).match(/data-action="(\w+)"/g)).toEqual([
      'data-action="reconnect"',
      'data-action="disconnect"',
    ]);
  });
});
