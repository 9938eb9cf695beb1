// The console's HTTP API as the page uses it. The bearer token stays in this module's memory:
// it is never written to storage, the URL or the page.

let token = '';
let csrf = '';

export function setToken(value) {
  token = value.trim();
}

export function hasToken() {
  return token !== '';
}

function headers(extra = {}) {
  const h = { ...extra };
  if (token !== '') h.authorization = `Bearer ${token}`;
  return h;
}

/** The CSRF token and who the viewer is (with the current bearer token, if any). */
export async function session() {
  const res = await fetch('api/v1/session', { headers: headers(), cache: 'no-store' });
  const body = await res.json();
  csrf = body.csrf ?? csrf;
  return { status: res.status, ...body };
}

/** Runs an action on a bind; resolves to { status, message }. */
export async function act(mode, namespace, name, action) {
  if (csrf === '') await session();
  const path = ['api/v1/binds', mode, namespace, name, action].map(encodeURIComponent).join('/');
  const res = await fetch(path.replaceAll('%2F', '/'), {
    method: 'POST',
    headers: headers({ 'x-csrf-token': csrf, 'content-type': 'application/json' }),
    body: '{}',
  });
  let body = {};
  try {
    body = await res.json();
  } catch {
    body = { error: res.statusText };
  }
  return { status: res.status, message: body.message ?? body.error ?? res.statusText };
}

/** Opens the live feed; EventSource reconnects by itself after a lost connection. */
export function live({ snapshot, update, meta, state }) {
  const es = new EventSource('api/v1/events');
  es.addEventListener('open', () => state('live'));
  es.addEventListener('error', () => state(es.readyState === EventSource.CLOSED ? 'lost' : 'connecting'));
  es.addEventListener('snapshot', (e) => snapshot(JSON.parse(e.data)));
  es.addEventListener('update', (e) => {
    // What applying a change costs the page, for test/bench/console-render.ts.
    const start = performance.now();
    update(JSON.parse(e.data));
    performance.measure('console:update', { start });
  });
  es.addEventListener('meta', (e) => meta(JSON.parse(e.data)));
  return es;
}
