// The bind tables' markup and the page's texts, one module for both sides: the server puts every
// row into the page it sends (so 1,000 binds are on screen without waiting for a script or the
// live feed), and the browser builds the rows and cells that appear or change later from the
// same functions. Everything that comes from a bind is escaped: names and errors come from users
// and carriers, and are never taken as HTML.

const COUNT = new Intl.NumberFormat('en-US');

const TAIL = [
  ['uptime', 'Uptime'],
  ['sent', 'Sent'],
  ['received', 'Received'],
  ['failed', 'Failed'],
  ['inflight', 'In flight'],
  ['error', 'Last error'],
  ['actions', 'Actions'],
];

/** The columns of each table, as [field, heading]. */
export const COLUMNS = {
  client: [
    ['name', 'Bind'],
    ['phase', 'Phase'],
    ['ready', 'Ready'],
    ['carrier', 'Carrier'],
    ['type', 'Type'],
    ['tps', 'TPS'],
    ['pod', 'Pod'],
    ...TAIL,
  ],
  server: [
    ['name', 'Bind'],
    ['phase', 'Phase'],
    ['ready', 'Ready'],
    ['system', 'System ID'],
    ['type', 'Allowed types'],
    ['tps', 'TPS'],
    ['sessions', 'Sessions'],
    ...TAIL,
  ],
};

/** The viewer before (or without) signing in. */
export const ANONYMOUS = Object.freeze({ canPatch: Object.freeze({}) });

const ESC = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ESC[c]);
}

function text(value) {
  return value === undefined || value === null || value === '' ? '–' : esc(value);
}

function count(n) {
  return n === undefined ? '–' : COUNT.format(n);
}

export function formatCount(n) {
  return COUNT.format(n);
}

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

/** May this viewer act on the bind: true, or a sentence saying why not (the buttons' title). */
export function permission(row, meta, viewer) {
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

// Only the buttons that apply are on the page (no type attribute: the tables are in no form): a suspended bind has Connect, a running one
// Disconnect (and, for a client bind, Reconnect).
function actions(row, may) {
  const list = row.suspended
    ? [['connect', 'Connect', '']]
    : row.mode === 'client'
      ? [
          ['reconnect', 'Reconnect', ''],
          ['disconnect', 'Disconnect', ' class="danger"'],
        ]
      : [['disconnect', 'Disconnect', ' class="danger"']];
  const label = esc(`${row.namespace}/${row.name}`);
  const off = may === true ? '' : ` disabled title="${esc(may)}"`;
  return list
    .map(
      ([action, name, cls]) =>
        `<button data-action="${action}"${cls} aria-label="${name} ${label}"${off}>${name}</button>`,
    )
    .join('');
}

function sessions(row) {
  const list = row.sessions ?? [];
  if (list.length === 0) return '<ul class="sessions"><li>waiting</li></ul>';
  return `<ul class="sessions">${list.map((s) => `<li>${esc(`${s.pod}: ${s.peer} (${s.bindType})`)}</li>`).join('')}</ul>`;
}

// One function a column: the cell's inner HTML. `now` undefined leaves the uptime text empty
// (the browser fills it in and ticks it every second).
const CELL = {
  name: (r) =>
    `<span>${esc(r.name)}</span><span class="ns">${esc(r.namespace)}</span>${r.override ? `<span class="override">${esc(r.override)}</span>` : ''}`,
  phase: (r) => `<span class="badge" data-phase="${esc(r.phase)}">${esc(r.phase)}</span>`,
  ready: (r) => {
    if (!r.ready) return '–';
    const t = `${r.ready.status === 'True' ? '✓' : '✗'} ${esc(r.ready.reason)}`;
    return r.ready.message ? `<span title="${esc(r.ready.message)}">${t}</span>` : t;
  },
  carrier: (r) => esc(`${r.host}:${r.port} as ${r.systemId}`),
  system: (r) => text(r.systemId),
  type: (r) => text(r.bindType),
  tps: (r) => text(r.tpsLimit),
  pod: (r) => text(r.gatewayPod),
  sessions,
  uptime: (r, _may, now) =>
    r.boundSince
      ? `<time datetime="${esc(r.boundSince)}">${now === undefined ? '' : formatUptime(r.boundSince, now)}</time>`
      : '–',
  sent: (r) => count(r.counters?.sent),
  received: (r) => count(r.counters?.received),
  failed: (r) => count(r.counters?.failed),
  inflight: (r) => count(r.counters?.inFlight),
  error: (r) => text(r.lastError),
  actions,
};

/** Every cell's inner HTML, in column order. */
export function cellsOf(row, may, now) {
  return COLUMNS[row.mode].map(([field]) => CELL[field](row, may, now));
}

/** A short fingerprint of a row's data: the browser keeps rows the page arrived with unless it changed. */
export function rowSig(row) {
  const s = JSON.stringify(row);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

export function rowHtml(row, may, now) {
  const cells = cellsOf(row, may, now);
  const tds = COLUMNS[row.mode].map(([field], i) => `<td data-field="${field}">${cells[i]}</td>`);
  return `<tr data-key="${esc(row.key)}" data-sig="${rowSig(row)}">${tds.join('')}</tr>`;
}

export function headHtml(mode) {
  return `<tr>${COLUMNS[mode].map(([field, label]) => `<th scope="col" data-field="${field}">${label}</th>`).join('')}</tr>`;
}

/** Rows sort by namespace/name (the part of the key after the mode). */
export function sortKey(key) {
  return key.slice(key.indexOf('/') + 1);
}

export function byName(a, b) {
  const x = sortKey(a.key);
  const y = sortKey(b.key);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** What the filter box matches against. */
export function searchText(row) {
  return `${row.namespace}/${row.name} ${row.smscName} ${row.systemId} ${row.phase} ${row.gatewayPod ?? ''} ${row.host ?? ''} ${row.ready?.reason ?? ''}`.toLowerCase();
}

/** The totals above the tables, by element id. */
export function totals(rows, meta) {
  let client = 0;
  let clientUp = 0;
  let server = 0;
  let serverActive = 0;
  for (const r of rows) {
    if (r.mode === 'client') {
      client++;
      if (r.phase === 'Bound') clientUp++;
    } else {
      server++;
      if ((r.sessions ?? []).length > 0) serverActive++;
    }
  }
  const out = {
    't-all': String(client + server),
    't-client-up': String(clientUp),
    't-client-down': String(client - clientUp),
    't-server-active': String(serverActive),
    't-server-waiting': String(server - serverActive),
    'client-count': `(${client})`,
    'server-count': `(${server})`,
  };
  if (meta) {
    const l = meta.listener;
    out['t-listener'] =
      `${l.host}:${l.port}${l.tls ? ' (TLS)' : ''} · max ${COUNT.format(l.maxConnections)} connections`;
  }
  return out;
}

export function servedByText(meta) {
  return meta.mode === 'cluster'
    ? `cluster · served by pod ${meta.servedBy}`
    : `standalone gateway ${meta.servedBy}`;
}

/** The notice under the header ('' when there is nothing to say). */
export function noticeText(meta) {
  if (meta.mode === 'standalone') {
    return meta.actions === 'local'
      ? `Standalone: binds come from ${meta.manifests}. Reconnect, Disconnect and Connect are runtime overrides kept apart from those files: the files are not changed, and a restart forgets the overrides.`
      : `Standalone: binds come from ${meta.manifests}. Actions are off because the console listens on a non-loopback address.`;
  }
  if (meta.unreachablePods && meta.unreachablePods.length > 0)
    return `Counters of pod(s) ${meta.unreachablePods.join(', ')} could not be read; their binds show the last known state.`;
  return '';
}
