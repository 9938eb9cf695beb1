// DOM for the bind tables. Rows are built once and then updated in place, cell by cell, with
// textContent only (bind names and errors come from users and carriers: never as HTML).

const nf = new Intl.NumberFormat();

export function formatUptime(sinceIso, now = Date.now()) {
  if (!sinceIso) return '–';
  let s = Math.max(0, Math.floor((now - Date.parse(sinceIso)) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${h}h ${m}m`;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

function td(field, cls) {
  const c = document.createElement('td');
  c.dataset.field = field;
  if (cls) c.className = cls;
  return c;
}

function set(cell, text) {
  const t = text === undefined || text === null || text === '' ? '–' : String(text);
  if (cell.textContent !== t) cell.textContent = t;
}

function button(label, action, cls) {
  const b = document.createElement('button');
  b.type = 'button';
  b.dataset.action = action;
  b.textContent = label;
  if (cls) b.className = cls;
  return b;
}

const CLIENT_FIELDS = [
  'name',
  'phase',
  'ready',
  'carrier',
  'type',
  'tps',
  'pod',
  'uptime',
  'sent',
  'received',
  'failed',
  'inflight',
  'error',
  'actions',
];
const SERVER_FIELDS = [
  'name',
  'phase',
  'ready',
  'system',
  'type',
  'tps',
  'sessions',
  'uptime',
  'sent',
  'received',
  'failed',
  'inflight',
  'error',
  'actions',
];
const NUMERIC = new Set(['tps', 'sent', 'received', 'failed', 'inflight']);

/** A new table row for a bind (call updateRow to fill it). */
export function createRow(row) {
  const tr = document.createElement('tr');
  tr.dataset.key = row.key;
  const fields = row.mode === 'client' ? CLIENT_FIELDS : SERVER_FIELDS;
  for (const f of fields) {
    const cell = td(f, NUMERIC.has(f) ? 'num' : f === 'error' ? 'err' : f === 'name' ? 'name' : '');
    if (f === 'name') {
      cell.append(
        document.createElement('span'),
        document.createElement('span'),
        document.createElement('span'),
      );
      cell.children[1].className = 'ns';
      cell.children[2].className = 'override';
    }
    if (f === 'phase') {
      const b = document.createElement('span');
      b.className = 'badge';
      cell.append(b);
    }
    if (f === 'sessions') {
      const ul = document.createElement('ul');
      ul.className = 'sessions';
      cell.append(ul);
    }
    if (f === 'actions') {
      const box = document.createElement('div');
      box.className = 'actions';
      if (row.mode === 'client') box.append(button('Reconnect', 'reconnect'));
      box.append(button('Disconnect', 'disconnect', 'danger'), button('Connect', 'connect'));
      cell.append(box);
    }
    tr.append(cell);
  }
  return tr;
}

/**
 * Fills a row from a bind. `may` tells whether the viewer may act on it: true, or a sentence
 * saying why not (shown as the buttons' title).
 */
export function updateRow(tr, row, may) {
  const cells = {};
  for (const c of tr.children) cells[c.dataset.field] = c;
  const [nameEl, nsEl, overrideEl] = cells.name.children;
  set(nameEl, row.name);
  set(nsEl, row.namespace);
  overrideEl.textContent = row.override ?? '';
  const badge = cells.phase.firstElementChild;
  if (badge.dataset.phase !== row.phase) {
    badge.dataset.phase = row.phase;
    badge.textContent = row.phase;
  }
  tr.dataset.phase = row.phase;
  set(cells.ready, row.ready ? `${row.ready.status === 'True' ? '✓' : '✗'} ${row.ready.reason}` : '');
  if (row.ready?.message) cells.ready.title = row.ready.message;
  if (row.mode === 'client') {
    set(cells.carrier, `${row.host}:${row.port} as ${row.systemId}`);
    set(cells.pod, row.gatewayPod);
  } else {
    set(cells.system, row.systemId);
    const ul = cells.sessions.firstElementChild;
    const sessions = row.sessions ?? [];
    const text = sessions.map((s) => `${s.pod}: ${s.peer} ${s.bindType}`).join('\n');
    if (ul.dataset.text !== text) {
      ul.dataset.text = text;
      ul.replaceChildren(
        ...(sessions.length === 0
          ? [Object.assign(document.createElement('li'), { textContent: 'waiting' })]
          : sessions.map((s) =>
              Object.assign(document.createElement('li'), {
                textContent: `${s.pod}: ${s.peer} (${s.bindType})`,
              }),
            )),
      );
    }
  }
  set(cells.type, row.bindType);
  set(cells.tps, row.tpsLimit);
  cells.uptime.dataset.since = row.boundSince ?? '';
  set(cells.uptime, formatUptime(row.boundSince));
  const c = row.counters;
  set(cells.sent, c ? nf.format(c.sent) : '');
  set(cells.received, c ? nf.format(c.received) : '');
  set(cells.failed, c ? nf.format(c.failed) : '');
  set(cells.inflight, c ? nf.format(c.inFlight) : '');
  set(cells.error, row.lastError);
  const allowed = may === true;
  const label = `${row.namespace}/${row.name}`;
  for (const b of cells.actions.querySelectorAll('button')) {
    const a = b.dataset.action;
    const relevant = a === 'reconnect' ? !row.suspended : a === 'disconnect' ? !row.suspended : row.suspended;
    b.hidden = !relevant;
    b.disabled = !allowed || b.dataset.busy === '1';
    b.title = allowed ? '' : may;
    b.setAttribute('aria-label', `${b.textContent} ${label}`);
  }
  tr.dataset.search =
    `${row.namespace}/${row.name} ${row.smscName} ${row.systemId} ${row.phase} ${row.gatewayPod ?? ''} ${row.host ?? ''} ${row.ready?.reason ?? ''}`.toLowerCase();
}

/** Ticks every uptime cell (the server sends boundSince once, not every second). */
export function tickUptimes(root, now = Date.now()) {
  for (const cell of root.querySelectorAll('td[data-field="uptime"]')) {
    const since = cell.dataset.since;
    if (since) set(cell, formatUptime(since, now));
  }
}

export function renderTotals(doc, rows, meta) {
  let client = 0,
    clientUp = 0,
    server = 0,
    serverActive = 0;
  for (const r of rows) {
    if (r.mode === 'client') {
      client++;
      if (r.phase === 'Bound') clientUp++;
    } else {
      server++;
      if ((r.sessions ?? []).length > 0) serverActive++;
    }
  }
  set(doc.getElementById('t-all'), client + server);
  set(doc.getElementById('t-client-up'), clientUp);
  set(doc.getElementById('t-client-down'), client - clientUp);
  set(doc.getElementById('t-server-active'), serverActive);
  set(doc.getElementById('t-server-waiting'), server - serverActive);
  set(doc.getElementById('client-count'), `(${client})`);
  set(doc.getElementById('server-count'), `(${server})`);
  if (meta) {
    const l = meta.listener;
    set(
      doc.getElementById('t-listener'),
      `${l.host}:${l.port}${l.tls ? ' (TLS)' : ''} · max ${nf.format(l.maxConnections)} connections`,
    );
  }
}
