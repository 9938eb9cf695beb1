import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../log.js';
import { FrontendRegistry } from './frontends.js';
import { MessageStore, ValidationError, type Route, type StoreOptions } from './store.js';

/**
 * devcore: an in-memory SMS core speaking the documented REST API under /api, plus test-only
 * controls under /devcore (enqueue in bulk, stats, fault injection, down/up).
 */

export interface Fault {
  /** error: answer `status` (default 500); hang: never answer; reset: destroy the socket; delay: answer normally after delayMs. */
  mode: 'error' | 'hang' | 'reset' | 'delay';
  /** How many matching requests it applies to. Default 1. */
  count?: number;
  status?: number;
  delayMs?: number;
  /** Only requests with this method / whose path starts with this. */
  method?: string;
  path?: string;
}

export interface DevCoreOptions extends StoreOptions {
  port?: number;
  /** Loopback only by default. */
  host?: string;
  /** Require `Authorization: Bearer <token>` on /api. */
  token?: string;
  /** Serve HTTPS with this key and certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Shape of the SMSc-header GET: the reference's bare array (default) or {status, data}. */
  pollShape?: 'array' | 'envelope';
  /** Requests remembered for GET /devcore/requests. Default 1000. */
  requestLogSize?: number;
  log?: Logger;
}

export interface RequestRecord {
  at: string;
  method: string;
  path: string;
  smsc?: string;
  status: number;
  authorized: boolean;
}

export interface DevCore {
  url: string;
  port: number;
  store: MessageStore;
  frontends: FrontendRegistry;
  /** Apply a fault to the next matching /api requests. */
  injectFault(f: Fault): void;
  clearFaults(): void;
  /** Stop listening and drop every connection: clients see connection refused. */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  /** /api answers 503 while true (the core is up but unwell). */
  unavailable: boolean;
  requests(): RequestRecord[];
  /** /api requests by "METHOD /path/{id} status", since start or the last reset. */
  requestCounts(): Record<string, number>;
  setPollShape(shape: 'array' | 'envelope'): void;
  close(): Promise<void>;
}

interface ActiveFault extends Required<Pick<Fault, 'mode'>> {
  remaining: number;
  status: number;
  delayMs: number;
  method?: string;
  path?: string;
}

const MAX_BODY = 10 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`http ${status}`);
  }
}

/** A body already serialised. */
class RawJson {
  constructor(readonly text: string) {}
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status, { 'content-length': '0' }).end();
    return;
  }
  const text = body instanceof RawJson ? body.text : JSON.stringify(body);
  res
    .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    .end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, { status: 'error', error: 'body too large' }));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () =>
      resolve(
        chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8'),
      ),
    );
    req.on('error', reject);
  });
}

async function jsonBody(req: IncomingMessage, required: boolean): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') {
    if (required) throw new HttpError(400, { status: 'error', error: 'a JSON body is required' });
    return undefined;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, { status: 'error', error: 'body is not JSON' });
  }
}

function record(v: unknown, what: string): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v))
    throw new HttpError(400, { status: 'error', error: `${what} must be a JSON object` });
  return v as Record<string, unknown>;
}

function parseId(raw: string): number {
  const id = Number(raw);
  if (!Number.isSafeInteger(id) || id <= 0) throw new HttpError(404, { status: 'error', error: 'not found' });
  return id;
}

export async function startDevCore(opts: DevCoreOptions = {}): Promise<DevCore> {
  const store = new MessageStore(opts);
  const frontends = new FrontendRegistry(opts.now);
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log;
  const faults: ActiveFault[] = [];
  // A ring: remembering must stay O(1) at benchmark rates.
  const reqLogSize = Math.max(1, opts.requestLogSize ?? 1000);
  // Times are kept as numbers and formatted when read: toISOString per request showed in profiles.
  type LoggedRequest = Omit<RequestRecord, 'at'> & { atMs: number };
  let reqLog: (LoggedRequest | undefined)[] = new Array<LoggedRequest | undefined>(reqLogSize);
  let reqLogNext = 0;
  let apiCounts: Record<string, number> = {};
  const requestsInOrder = (): RequestRecord[] => {
    const out: RequestRecord[] = [];
    for (let i = 0; i < reqLogSize; i++) {
      const r = reqLog[(reqLogNext + i) % reqLogSize];
      if (r === undefined) continue;
      const { atMs, ...rest } = r;
      out.push({ at: new Date(atMs).toISOString(), ...rest });
    }
    return out;
  };
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let pollShape = opts.pollShape ?? 'array';
  let listening = false;
  let port = opts.port ?? 0;
  const bearer = opts.token === undefined ? undefined : `Bearer ${opts.token}`;

  const remember = (req: IncomingMessage, path: string, status: number, authorized: boolean): void => {
    const smsc = req.headers.smsc;
    const r: LoggedRequest = {
      atMs: Date.now(),
      method: req.method ?? '',
      path,
      status,
      authorized,
    };
    if (typeof smsc === 'string') r.smsc = smsc;
    reqLog[reqLogNext] = r;
    reqLogNext = (reqLogNext + 1) % reqLogSize;
    const key = `${r.method} ${path.replace(/\/\d+(?=\/|$)/g, '/{id}')} ${status}`;
    apiCounts[key] = (apiCounts[key] ?? 0) + 1;
  };

  const takeFault = (method: string, path: string): ActiveFault | undefined => {
    const i = faults.findIndex(
      (f) =>
        (f.method === undefined || f.method === method) && (f.path === undefined || path.startsWith(f.path)),
    );
    if (i < 0) return undefined;
    const f = faults[i] as ActiveFault;
    if (--f.remaining <= 0) faults.splice(i, 1);
    return f;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const qi = (req.url ?? '/').indexOf('?');
    const path = qi < 0 ? (req.url ?? '/') : (req.url ?? '/').slice(0, qi);
    // Parsed only by the routes that read it: one object per request showed in profiles.
    const query = (): URLSearchParams => new URLSearchParams(qi < 0 ? '' : (req.url ?? '').slice(qi + 1));

    if (path.startsWith('/devcore/') || path === '/devcore') {
      const [status, body] = await control(method, path, req);
      send(res, status, body);
      return;
    }

    if (!path.startsWith('/api/')) {
      send(res, 404, { status: 'error', error: 'not found' });
      return;
    }

    const authorized = bearer === undefined || req.headers.authorization === bearer;
    const fault = takeFault(method, path);
    if (fault !== undefined) {
      if (fault.mode === 'hang') {
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        req.resume();
        remember(req, path, 0, authorized);
        return;
      }
      if (fault.mode === 'reset') {
        remember(req, path, 0, authorized);
        req.socket.destroy();
        return;
      }
      if (fault.mode === 'error') {
        req.resume();
        remember(req, path, fault.status, authorized);
        send(res, fault.status, { status: 'error', error: 'injected fault' });
        return;
      }
      await new Promise((r) => setTimeout(r, fault.delayMs));
    }
    if (core.unavailable) {
      req.resume();
      remember(req, path, 503, authorized);
      send(res, 503, { status: 'error', error: 'service unavailable' });
      return;
    }
    if (!authorized) {
      req.resume();
      remember(req, path, 401, false);
      send(res, 401, { status: 'error', error: 'unauthorized' });
      return;
    }
    let status: number;
    let body: unknown;
    try {
      [status, body] = await api(method, path, query, req);
    } catch (err) {
      if (!(err instanceof HttpError)) throw err;
      status = err.status;
      body = err.body;
    }
    remember(req, path, status, true);
    send(res, status, body);
  };

  const api = async (
    method: string,
    path: string,
    query: () => URLSearchParams,
    req: IncomingMessage,
  ): Promise<[number, unknown?]> => {
    const parts = path.split('/'); // ['', 'api', resource, ...]
    const resource = parts[2];
    if (resource === 'messages') {
      const sub = parts[3];
      if (sub === undefined || sub === '') {
        if (method === 'GET') {
          const smsc = req.headers.smsc;
          if (typeof smsc === 'string' && smsc !== '') {
            const list = store.pollForJson(smsc);
            return [200, new RawJson(pollShape === 'array' ? list : `{"status":"success","data":${list}}`)];
          }
          return [200, { status: 'success', data: store.list() }];
        }
        if (method === 'POST') {
          const input = record(await jsonBody(req, true), 'message');
          try {
            return [201, { status: 'success', data: store.create(input, 'api') }];
          } catch (err) {
            if (err instanceof ValidationError) return [422, { status: 'error', errors: err.errors }];
            throw err;
          }
        }
        return [405, { status: 'error', error: 'method not allowed' }];
      }
      if (sub === 'get_by_smsc' && method === 'GET') {
        const smsc = query().get('smsc') ?? '';
        const list = store.pollFor(smsc).map((m) => ({ ...m, destination_smsc: m.dest_smsc }));
        return [200, { status: 'success', data: list }];
      }
      const id = parseId(sub);
      const action = parts[4];
      if (action === 'increment_delivery_attempt' && method === 'POST') {
        req.resume();
        const rec = store.retry(id);
        return rec === undefined ? notFound() : [200, rec];
      }
      if (action !== undefined) return notFound();
      switch (method) {
        case 'GET': {
          const e = store.get(id);
          return e === undefined ? notFound() : [200, { status: 'success', data: e.rec }];
        }
        case 'PATCH': {
          const fields = record(await jsonBody(req, true), 'update');
          const rec = store.patch(id, fields);
          return rec === undefined ? notFound() : [200, { status: 'success', data: rec }];
        }
        case 'PUT': {
          // "PUT → increments delivery attempts with backoff (no body needed)"; a body is ignored.
          await readBody(req);
          const rec = store.retry(id);
          return rec === undefined ? notFound() : [200, rec];
        }
        case 'DELETE':
          req.resume();
          return store.delete(id) ? [204] : notFound();
        default:
          return [405, { status: 'error', error: 'method not allowed' }];
      }
    }
    if (resource === 'frontends') {
      const sub = parts[3];
      if ((sub === undefined || sub === '') && method === 'POST') {
        const input = record(await jsonBody(req, true), 'registration');
        const ip =
          typeof req.headers['x-forwarded-for'] === 'string'
            ? req.headers['x-forwarded-for'].split(',')[0]?.trim()
            : req.socket.remoteAddress;
        const r = frontends.register(input, ip ?? '');
        if (r instanceof ValidationError) return [422, { status: 'error', errors: r.errors }];
        return [201, r];
      }
      if (method !== 'GET') return [405, { status: 'error', error: 'method not allowed' }];
      if (sub === undefined || sub === '') return [200, frontends.all()];
      if (sub === 'active') return [200, frontends.active()];
      if (sub === 'stats') return [200, frontends.stats()];
      if (sub === 'history') return [200, frontends.history(decodeURIComponent(parts[4] ?? ''))];
      const r = frontends.get(parseId(sub));
      return r === undefined ? notFound() : [200, r];
    }
    if (resource === 'status' && method === 'GET') {
      return [
        200,
        {
          status: 'ok',
          application: 'devcore',
          messages: store.size,
          frontends_active: frontends.stats().active,
        },
      ];
    }
    return notFound();
  };

  const control = async (method: string, path: string, req: IncomingMessage): Promise<[number, unknown?]> => {
    try {
      switch (`${method} ${path}`) {
        case 'GET /devcore/stats':
          return [
            200,
            {
              ...store.stats(),
              frontends: frontends.stats(),
              faultsPending: faults.length,
              unavailable: core.unavailable,
              requests: apiCounts,
            },
          ];
        case 'POST /devcore/messages':
          return [201, enqueue(await jsonBody(req, true))];
        case 'GET /devcore/messages':
          return [200, Array.from(store.all(), (e) => ({ ...e.rec, _devcore: meta(e) }))];
        case 'POST /devcore/reset':
          req.resume();
          store.clear();
          frontends.clear();
          faults.length = 0;
          reqLog = new Array<LoggedRequest | undefined>(reqLogSize);
          reqLogNext = 0;
          apiCounts = {};
          core.unavailable = false;
          return [204];
        case 'POST /devcore/config': {
          const c = record(await jsonBody(req, true), 'config');
          store.configure(configPatch(c));
          if (c.pollShape === 'array' || c.pollShape === 'envelope') pollShape = c.pollShape;
          return [
            200,
            {
              ...store.opts,
              pollLimit: Number.isFinite(store.opts.pollLimit) ? store.opts.pollLimit : null,
              now: undefined,
              pollShape,
            },
          ];
        }
        case 'GET /devcore/faults':
          return [200, faults];
        case 'POST /devcore/faults':
          core.injectFault(faultFrom(record(await jsonBody(req, true), 'fault')));
          return [201, faults];
        case 'DELETE /devcore/faults':
          req.resume();
          faults.length = 0;
          return [204];
        case 'POST /devcore/down': {
          const c = record((await jsonBody(req, false)) ?? {}, 'down');
          if (c.mode === 'unavailable') {
            core.unavailable = true;
            return [200, { unavailable: true }];
          }
          // Refusing connections means nobody can reach /devcore/up: come back after forMs.
          const forMs = typeof c.forMs === 'number' && c.forMs > 0 ? c.forMs : 1000;
          setTimeout(() => {
            void core.down().then(() => new Promise((r) => setTimeout(r, forMs)).then(() => core.up()));
          }, 10);
          return [202, { down: true, forMs }];
        }
        case 'POST /devcore/up':
          req.resume();
          core.unavailable = false;
          return [200, { unavailable: false }];
        case 'GET /devcore/requests':
          return [200, requestsInOrder()];
        default: {
          const m = /^\/devcore\/messages\/(\d+)$/.exec(path);
          if (m && method === 'GET') {
            const e = store.get(Number(m[1]));
            return e === undefined ? notFound() : [200, { ...e.rec, _devcore: meta(e) }];
          }
          return notFound();
        }
      }
    } catch (err) {
      if (err instanceof HttpError) return [err.status, err.body];
      if (err instanceof ValidationError) return [422, { status: 'error', errors: err.errors }];
      throw err;
    }
  };

  const enqueue = (body: unknown): { count: number; ids: number[] } => {
    let items: Record<string, unknown>[];
    if (Array.isArray(body)) items = body.map((m) => record(m, 'message'));
    else {
      const b = record(body, 'request');
      if (Array.isArray(b.messages)) items = b.messages.map((m) => record(m, 'message'));
      else if (typeof b.count === 'number') {
        const { count, ...template } = b;
        if (!Number.isSafeInteger(count) || count < 1 || count > 1_000_000) {
          throw new HttpError(400, { status: 'error', error: 'count must be 1..1000000' });
        }
        items = [];
        for (let n = 0; n < count; n++) {
          const m: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(template))
            m[k] = typeof v === 'string' ? v.replaceAll('{n}', String(n)) : v;
          items.push(m);
        }
      } else items = [b];
    }
    const ids: number[] = [];
    for (const m of items) {
      const withDefaults = { source_smsc: 'devcore', ...m };
      ids.push(store.create(withDefaults, 'devcore').id);
    }
    return { count: ids.length, ids };
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      log?.error({ err }, 'devcore request failed');
      send(res, 500, { status: 'error', error: 'internal error' });
    });
  };
  const server: Server = opts.tls
    ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, listener)
    : createHttpServer(listener);
  server.keepAliveTimeout = 60_000;
  server.headersTimeout = 65_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const listen = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        listening = true;
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });

  const stopListening = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (!listening) {
        resolve();
        return;
      }
      listening = false;
      for (const r of hanging) r.destroy();
      hanging.clear();
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
    });

  await listen();
  const scheme = opts.tls ? 'https' : 'http';
  const urlHost = host.includes(':') ? `[${host}]` : host;

  const core: DevCore = {
    url: `${scheme}://${urlHost}:${port}`,
    port,
    store,
    frontends,
    unavailable: false,
    injectFault(f: Fault) {
      const a: ActiveFault = {
        mode: f.mode,
        remaining: f.count ?? 1,
        status: f.status ?? 500,
        delayMs: f.delayMs ?? 0,
      };
      if (f.method !== undefined) a.method = f.method.toUpperCase();
      if (f.path !== undefined) a.path = f.path;
      faults.push(a);
    },
    clearFaults() {
      faults.length = 0;
    },
    down: stopListening,
    async up() {
      if (!listening) await listen();
    },
    requests: requestsInOrder,
    requestCounts: () => ({ ...apiCounts }),
    setPollShape(shape) {
      pollShape = shape;
    },
    close: stopListening,
  };
  log?.info({ url: core.url }, 'devcore listening');
  return core;
}

function notFound(): [number, unknown] {
  return [404, { status: 'error', error: 'not found' }];
}

function meta(e: {
  fetches: number;
  inFlight: boolean;
  sends: number;
  retries: number;
  receipts: number;
  seq: number;
}) {
  return {
    fetches: e.fetches,
    inFlight: e.inFlight,
    sends: e.sends,
    retries: e.retries,
    receipts: e.receipts,
  };
}

function configPatch(
  c: Record<string, unknown>,
): Partial<Pick<StoreOptions, 'backoffScale' | 'maxAttempts' | 'lockMs' | 'pollLimit' | 'routes'>> {
  const out: Partial<Pick<StoreOptions, 'backoffScale' | 'maxAttempts' | 'lockMs' | 'pollLimit' | 'routes'>> =
    {};
  const num = (k: string, min: number): number | undefined => {
    const v = c[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min)
      throw new HttpError(400, { status: 'error', error: `${k} must be a number >= ${min}` });
    return v;
  };
  const backoffScale = num('backoffScale', 0);
  if (backoffScale !== undefined) out.backoffScale = backoffScale;
  const maxAttempts = num('maxAttempts', 1);
  if (maxAttempts !== undefined) out.maxAttempts = maxAttempts;
  const lockMs = num('lockMs', 0);
  if (lockMs !== undefined) out.lockMs = lockMs;
  if (c.pollLimit === null) out.pollLimit = Number.POSITIVE_INFINITY;
  else {
    const pollLimit = num('pollLimit', 1);
    if (pollLimit !== undefined) out.pollLimit = pollLimit;
  }
  if (c.routes !== undefined) {
    if (!Array.isArray(c.routes))
      throw new HttpError(400, { status: 'error', error: 'routes must be a list' });
    out.routes = c.routes.map((r): Route => {
      const o = record(r, 'route');
      if (typeof o.calledPrefix !== 'string' || typeof o.destSmsc !== 'string') {
        throw new HttpError(400, { status: 'error', error: 'a route is {calledPrefix, destSmsc}' });
      }
      return { calledPrefix: o.calledPrefix, destSmsc: o.destSmsc };
    });
  }
  return out;
}

function faultFrom(b: Record<string, unknown>): Fault {
  const mode = b.mode;
  if (mode !== 'error' && mode !== 'hang' && mode !== 'reset' && mode !== 'delay') {
    throw new HttpError(400, { status: 'error', error: 'mode must be error, hang, reset or delay' });
  }
  const f: Fault = { mode };
  if (typeof b.count === 'number') f.count = b.count;
  if (typeof b.status === 'number') f.status = b.status;
  if (typeof b.delayMs === 'number') f.delayMs = b.delayMs;
  if (typeof b.method === 'string') f.method = b.method;
  if (typeof b.path === 'string') f.path = b.path;
  return f;
}
