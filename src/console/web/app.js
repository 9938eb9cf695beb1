// The Live Status page. It arrives with every row already in it (drawn by the server with
// table.js); this script makes it live: the feed's snapshot, then its changes, are applied row
// by row and cell by cell, touching only cells whose markup changed. Actions go through api.js
// with the viewer's own Kubernetes token (cluster) or as runtime overrides (standalone on a
// loopback address).
import { act, hasToken, live, session, setToken } from './api.js';
import {
  ANONYMOUS,
  cellsOf,
  formatUptime,
  noticeText,
  permission,
  rowHtml,
  rowSig,
  searchText,
  servedByText,
  sortKey,
  totals,
} from './table.js';

const $ = (id) => document.getElementById(id);
const bodies = { client: $('client-table').tBodies[0], server: $('server-table').tBodies[0] };

/** The binds, by key, as the feed last sent them. */
const rows = new Map();
/**
 * The rows on the page, by key: the <tr>, and the markup its cells hold (undefined for a row
 * the server drew that the feed has not confirmed yet; `sig` is the server's fingerprint).
 */
const shown = new Map();
for (const body of Object.values(bodies))
  for (const tr of body.rows) shown.set(tr.dataset.key, { tr, cells: undefined, sig: tr.dataset.sig });

let meta;
let viewer = ANONYMOUS;
const may = (row) => permission(row, meta, viewer);

/** Ticks the uptimes under root (the server sends boundSince once, not every second). */
function tick(root, now = Date.now()) {
  for (const t of root.querySelectorAll('td[data-field="uptime"] time')) {
    const v = formatUptime(t.dateTime, now);
    if (t.textContent !== v) t.textContent = v;
  }
}

const template = document.createElement('template');

function insert(tr, mode) {
  const key = sortKey(tr.dataset.key);
  const body = bodies[mode];
  for (const other of body.rows) {
    if (sortKey(other.dataset.key) > key) {
      body.insertBefore(tr, other);
      return;
    }
  }
  body.append(tr);
}

// A cell whose markup changed gets it whole, except while its action is under way (the action's
// end redraws it). Focus on a button that is replaced moves to its successor in the cell
// (Disconnect → Connect), so a keyboard user is not thrown back to the top of the page.
function patch(td, html) {
  if (td.querySelector('[data-busy]')) return false;
  // Most changes are counters: plain text, written without the HTML parser.
  if (!/[<&]/.test(html)) {
    const t = td.firstChild;
    if (t !== null && t === td.lastChild && t.nodeType === 3) t.data = html;
    else td.textContent = html;
    return true;
  }
  const active = document.activeElement;
  const focused = active && td.contains(active) ? (active.dataset.action ?? '') : undefined;
  td.innerHTML = html;
  tick(td.parentElement);
  if (focused !== undefined)
    (td.querySelector(`[data-action="${focused}"]`) ?? td.querySelector('button'))?.focus();
  return true;
}

function render(row) {
  const s = shown.get(row.key);
  if (s === undefined) {
    template.innerHTML = rowHtml(row, may(row), Date.now());
    const tr = template.content.firstElementChild;
    shown.set(row.key, { tr, cells: cellsOf(row, may(row)), sig: undefined });
    insert(tr, row.mode);
    return true;
  }
  const next = cellsOf(row, may(row));
  const cells = s.tr.cells;
  for (let i = 0; i < next.length; i++) {
    if (s.cells?.[i] === next[i]) continue;
    if (!patch(cells[i], next[i])) next[i] = s.cells?.[i];
  }
  s.cells = next;
  return false;
}

function upsert(list) {
  let added = false;
  for (const row of list) {
    rows.set(row.key, row);
    const s = shown.get(row.key);
    // A row the server drew: if the feed has it as it was, its cells are what the server wrote
    // (for the anonymous viewer), and nothing is redrawn.
    if (s !== undefined && s.cells === undefined && s.sig === rowSig(row))
      s.cells = cellsOf(row, permission(row, meta, ANONYMOUS));
    if (render(row)) added = true;
  }
  if (added) applyFilter();
}

function remove(keys) {
  for (const key of keys) {
    rows.delete(key);
    shown.get(key)?.tr.remove();
    shown.delete(key);
  }
}

function renderTotals() {
  for (const [id, text] of Object.entries(totals(rows.values(), meta))) {
    const el = $(id);
    if (el.textContent !== text) el.textContent = text;
  }
}

function refreshPermissions() {
  for (const row of rows.values()) render(row);
}

function setMeta(m) {
  meta = m;
  $('served-by').textContent = servedByText(m);
  $('notice').textContent = noticeText(m);
  document.body.dataset.actions = m.actions;
  renderTotals();
  refreshPermissions();
}

function say(text, kind = 'info') {
  const el = $('message');
  el.textContent = text;
  el.dataset.kind = kind;
}

function applyFilter() {
  const q = $('filter').value.trim().toLowerCase();
  for (const [key, s] of shown) {
    const row = rows.get(key);
    const hide = q !== '' && row !== undefined && !searchText(row).includes(q);
    if (s.tr.hidden !== hide) s.tr.hidden = hide;
  }
}

async function onAction(ev) {
  const b = ev.target.closest('button[data-action]');
  if (!b || b.disabled) return;
  const key = b.closest('tr').dataset.key;
  const row = rows.get(key);
  if (!row) return;
  b.dataset.busy = '1';
  b.disabled = true;
  try {
    const r = await act(row.mode, row.namespace, row.name, b.dataset.action);
    say(
      r.status < 300
        ? r.message
        : `${b.textContent} ${row.namespace}/${row.name} refused (${r.status}): ${r.message}`,
      r.status < 300 ? 'info' : 'error',
    );
  } catch (err) {
    say(`${b.textContent} failed: ${err.message}`, 'error');
  } finally {
    delete b.dataset.busy;
    b.disabled = false;
    // The button was changed by hand: draw the actions cell again from the latest row.
    const s = shown.get(key);
    const current = rows.get(key);
    if (s && current) {
      if (s.cells) s.cells[s.cells.length - 1] = undefined;
      render(current);
    }
  }
}

async function refreshViewer() {
  const s = await session();
  if (s.meta) setMeta(s.meta);
  if (s.status === 200) {
    viewer = s.viewer;
    const ns = Object.entries(viewer.canPatch)
      .filter(([, ok]) => ok)
      .map(([k]) => k);
    $('who').textContent = viewer.username
      ? `Signed in as ${viewer.username}` +
        (ns.length > 0 ? ` · may act on ${ns.join(', ')}` : ' · read-only (no patch permission)')
      : 'Read-only: sign in to reconnect or disconnect binds.';
  } else {
    viewer = ANONYMOUS;
    $('who').textContent = `Token not accepted (${s.status}): ${s.error ?? ''}. Read-only.`;
  }
  $('signout').hidden = !hasToken();
  refreshPermissions();
}

$('signin').addEventListener('submit', (ev) => {
  ev.preventDefault();
  setToken($('token').value);
  $('token').value = '';
  void refreshViewer();
});
$('signout').addEventListener('click', () => {
  setToken('');
  void refreshViewer();
});
$('filter').addEventListener('input', applyFilter);
for (const t of ['client-table', 'server-table']) $(t).addEventListener('click', (ev) => void onAction(ev));

// The table the page arrived with is painted first; the feed (whose snapshot re-sends every row)
// and the viewer check start in the task after that frame, or after 200 ms in a tab that paints
// no frames (opened in the background).
let started = false;
function start() {
  if (started) return;
  started = true;
  live({
    snapshot(s) {
      const keep = new Set(s.binds.map((b) => b.key));
      remove([...shown.keys()].filter((k) => !keep.has(k)));
      meta = s.meta;
      upsert(s.binds);
      setMeta(s.meta);
      document.body.dataset.ready = 'true';
    },
    update(u) {
      remove(u.remove);
      upsert(u.upsert);
      renderTotals();
    },
    meta: setMeta,
    state(st) {
      const el = $('live');
      el.dataset.state = st;
      el.textContent = st === 'live' ? 'live' : st === 'lost' ? 'disconnected' : 'reconnecting…';
    },
  });
  void refreshViewer();
}
requestAnimationFrame(() => setTimeout(start, 0));
setTimeout(start, 200);
setInterval(() => tick(document), 1000);
