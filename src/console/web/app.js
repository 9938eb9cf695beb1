// The Live Status page: a snapshot, then live changes over server-sent events, applied to the
// rows in place. Actions go through api.js with the viewer's own Kubernetes token (cluster)
// or as runtime overrides (standalone on a loopback address).
import { act, hasToken, live, session, setToken } from './api.js';
import { createRow, renderTotals, tickUptimes, updateRow } from './render.js';

const rows = new Map();
const trs = new Map();
let meta;
let viewer = { canPatch: {} };

const $ = (id) => document.getElementById(id);
const bodies = { client: $('client-table').tBodies[0], server: $('server-table').tBodies[0] };

function permission(row) {
  if (!meta) return 'loading';
  if (meta.actions === 'off')
    return 'Read-only: standalone actions work only when the console listens on a loopback address';
  if (viewer.canPatch['*'] || viewer.canPatch[`${row.mode}/${row.namespace}`]) return true;
  if (meta.actions === 'kubernetes') {
    return viewer.username
      ? `Read-only: ${viewer.username} may not patch ${row.mode === 'client' ? 'smppclientbinds' : 'smppserverbinds'} in ${row.namespace}`
      : 'Read-only: sign in with a Kubernetes token that may patch this bind';
  }
  return 'Read-only';
}

const order = (a, b) => (a.namespace + '/' + a.name).localeCompare(b.namespace + '/' + b.name);

function place(mode) {
  const sorted = [...rows.values()].filter((r) => r.mode === mode).sort(order);
  const body = bodies[mode];
  const frag = document.createDocumentFragment();
  for (const r of sorted) frag.append(trs.get(r.key));
  body.append(frag);
}

function upsert(list) {
  const added = new Set();
  for (const row of list) {
    rows.set(row.key, row);
    let tr = trs.get(row.key);
    if (!tr) {
      tr = createRow(row);
      trs.set(row.key, tr);
      added.add(row.mode);
    }
    updateRow(tr, row, permission(row));
  }
  for (const mode of added) place(mode);
  if (added.size > 0) applyFilter();
}

function remove(keys) {
  for (const key of keys) {
    rows.delete(key);
    trs.get(key)?.remove();
    trs.delete(key);
  }
}

function refreshPermissions() {
  for (const [key, row] of rows) updateRow(trs.get(key), row, permission(row));
}

function setMeta(m) {
  meta = m;
  $('served-by').textContent =
    m.mode === 'cluster' ? `cluster · served by pod ${m.servedBy}` : `standalone gateway ${m.servedBy}`;
  const notice = $('notice');
  let text = '';
  if (m.mode === 'standalone') {
    text =
      m.actions === 'local'
        ? `Standalone: binds come from ${m.manifests}. Reconnect, Disconnect and Connect are runtime overrides kept apart from those files: the files are not changed, and a restart forgets the overrides.`
        : `Standalone: binds come from ${m.manifests}. Actions are off because the console listens on a non-loopback address.`;
  } else if (m.unreachablePods && m.unreachablePods.length > 0) {
    text = `Counters of pod(s) ${m.unreachablePods.join(', ')} could not be read; their binds show the last known state.`;
  }
  notice.textContent = text;
  notice.hidden = text === '';
  $('signin').hidden = m.actions !== 'kubernetes';
  renderTotals(document, rows.values(), meta);
  refreshPermissions();
}

function say(text, kind = 'info') {
  const el = $('message');
  el.textContent = text;
  el.dataset.kind = kind;
}

function applyFilter() {
  const q = $('filter').value.trim().toLowerCase();
  for (const tr of trs.values()) tr.hidden = q !== '' && !tr.dataset.search.includes(q);
}

async function onAction(ev) {
  const b = ev.target.closest('button[data-action]');
  if (!b || b.disabled) return;
  const tr = b.closest('tr');
  const row = rows.get(tr.dataset.key);
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
    const current = rows.get(row.key);
    if (current) updateRow(tr, current, permission(current));
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
    viewer = { canPatch: {} };
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

live({
  snapshot(s) {
    // Marks for test/bench/console-render.ts (when the data came, when the table was built).
    performance.mark('console:snapshot');
    const keep = new Set(s.binds.map((b) => b.key));
    remove([...rows.keys()].filter((k) => !keep.has(k)));
    setMeta(s.meta);
    upsert(s.binds);
    renderTotals(document, rows.values(), meta);
    document.body.dataset.ready = 'true';
    performance.mark('console:rendered');
  },
  update(u) {
    remove(u.remove);
    upsert(u.upsert);
    renderTotals(document, rows.values(), meta);
  },
  meta: setMeta,
  state(st) {
    const el = $('live');
    el.dataset.state = st;
    el.textContent = st === 'live' ? 'live' : st === 'lost' ? 'disconnected' : 'reconnecting…';
  },
});
void refreshViewer();
setInterval(() => tickUptimes(document), 1000);
