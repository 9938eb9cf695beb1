/**
 * The page as it is sent: index.html with the current rows, totals and header already in it,
 * written by the same module (web/table.js) the browser uses for later changes. With 1,000
 * binds the table is on screen as soon as the HTML is parsed, before any script or the live
 * feed. Rows are drawn for the anonymous viewer: signing in happens in the page.
 */
// The shared module lives with the page's files (src/console/web), which dist/console also
// serves from: the path climbs to the package root so it resolves from src/ and dist/ alike.
import {
  ANONYMOUS,
  byName,
  esc,
  headHtml,
  noticeText,
  permission,
  rowHtml,
  servedByText,
  totals,
} from '../../src/console/web/table.js';
import type { BindRow, ConsoleMeta } from './types.js';

const SLOT = /<!--=([a-z:-]+)-->/g;

export function renderPage(
  template: string,
  snap: { meta: ConsoleMeta; binds: BindRow[] },
  now: number,
): string {
  const { meta } = snap;
  const sorted = [...snap.binds].sort(byName);
  const rows = (mode: BindRow['mode']): string =>
    sorted
      .filter((r) => r.mode === mode)
      .map((r) => rowHtml(r, permission(r, meta, ANONYMOUS), now))
      .join('');
  const texts: Record<string, string> = {
    ...totals(sorted, meta),
    actions: meta.actions,
    'served-by': servedByText(meta),
    notice: noticeText(meta),
  };
  const slots: Record<string, string> = {
    ...Object.fromEntries(Object.entries(texts).map(([k, v]) => [k, esc(v)])),
    'head:client': headHtml('client'),
    'head:server': headHtml('server'),
    'rows:client': rows('client'),
    'rows:server': rows('server'),
  };
  return template.replace(SLOT, (_, name: string) => {
    const v = slots[name];
    if (v === undefined) throw new Error(`index.html has a slot ${name} that the page does not fill`);
    return v;
  });
}
