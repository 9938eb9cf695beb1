/**
 * The console's HTTP server (CONSOLE_PORT): the page, its live feed and its actions.
 *
 *   GET  /                                  the page, with every bind in it (and its CSS / JS modules)
 *   GET  /api/v1/binds                      every bind with counters (JSON)
 *   GET  /api/v1/events                     the same, live (server-sent events: snapshot, update, meta)
 *   GET  /api/v1/session                    CSRF token, and the viewer (from a bearer token, if sent)
 *   GET  /api/v1/pod                        this pod's own binds: counters and sessions (gathered by peers)
 *   POST /api/v1/binds/{client|server}/{namespace}/{name}/{reconnect|disconnect|connect}
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Logger } from '../log.js';
import { csrfCookie, csrfProblem, cookieValue, CSRF_COOKIE, newCsrfToken } from './csrf.js';
import { ConsoleHub, type CounterSnapshot } from './hub.js';
import type { PodReport } from './local-report.js';
import { isLoopback, urlHost } from './net.js';
import { renderPage } from './page.js';
import { loadWebFiles } from './static.js';
import { ACTIONS, type ActionName, type BindMode, type ConsoleSource } from './types.js';

export interface ConsoleServerOptions {
  host: string;
  port: number;
  source: ConsoleSource;
  /** Counters for the page: this pod's own (standalone), or gathered from every pod. */
  counters: () => Promise<CounterSnapshot>;
  /** This pod's report for `GET /api/v1/pod`. */
  podReport: () => Promise<PodReport>;
  countersEveryMs?: number;
  log: Logger;
}

export interface ConsoleServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

const MAX_BODY = 4096;
const gzipped = promisify(gzip);

function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/** Loopback consoles answer only to loopback Host names: a DNS-rebinding page cannot reach them. */
function hostAllowed(req: IncomingMessage, loopbackOnly: boolean): boolean {
  if (!loopbackOnly) return true;
  const host = req.headers.host;
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.replace(/:\d+$/, '');
  return isLoopback(name);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const ACTION_PATH =
  /^\/api\/v1\/binds\/(client|server)\/([a-z0-9][-a-z0-9]{0,62})\/([a-z0-9][-a-z0-9.]{0,252})\/([a-z]+)$/;

export async function startConsoleServer(o: ConsoleServerOptions): Promise<ConsoleServer> {
  const log = o.log.child({ component: 'console' });
  const files = await loadWebFiles();
  const template = (files.get('/index.html')?.body ?? Buffer.alloc(0)).toString('utf8');
  const hub = new ConsoleHub({
    source: o.source,
    counters: o.counters,
    countersEveryMs: o.countersEveryMs,
    log,
  });
  const loopbackOnly = isLoopback(o.host);

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!hostAllowed(req, loopbackOnly)) {
      json(res, 421, { error: 'this console answers only at a loopback address (localhost, 127.0.0.1)' });
      return;
    }
    if (req.method === 'POST') {
      const m = ACTION_PATH.exec(path);
      if (!m) {
        json(res, 404, { error: 'not found' });
        return;
      }
      await action(req, res, m[1] as BindMode, m[2] as string, m[3] as string, m[4] as string);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD, POST' }).end();
      return;
    }
    if (path === '/' || path === '/index.html') {
      const page = renderPage(template, await hub.pageSnapshot(), Date.now());
      // With 1,000 binds the page is about 1 MB of very repetitive markup: gzip at its fastest
      // level makes it a few percent of that, which is what a phone on a slow network needs.
      const zip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = zip ? await gzipped(page, { level: 1 }) : page;
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        vary: 'accept-encoding',
        ...(zip ? { 'content-encoding': 'gzip' } : {}),
        ...SECURITY_HEADERS,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
      return;
    }
    const file = files.get(path);
    if (file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', ...SECURITY_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return;
    }
    switch (path) {
      case '/api/v1/events':
        hub.attach(res);
        return;
      case '/api/v1/binds':
        await hub.refreshCounters();
        json(res, 200, hub.snapshot());
        return;
      case '/api/v1/pod':
        json(res, 200, await o.podReport());
        return;
      case '/api/v1/session': {
        const token = cookieValue(req, CSRF_COOKIE) ?? newCsrfToken();
        const bearer = bearerOf(req);
        const viewer = await o.source.viewer(bearer);
        const headers = { 'set-cookie': csrfCookie(token) };
        if ('status' in viewer) {
          json(res, viewer.status, { csrf: token, error: viewer.message, meta: o.source.meta() }, headers);
          return;
        }
        json(res, 200, { csrf: token, viewer, meta: o.source.meta() }, headers);
        return;
      }
      default:
        json(res, 404, { error: 'not found' });
    }
  };

  const action = async (
    req: IncomingMessage,
    res: ServerResponse,
    mode: BindMode,
    namespace: string,
    name: string,
    verb: string,
  ): Promise<void> => {
    if (!(ACTIONS as readonly string[]).includes(verb)) {
      json(res, 404, { error: `unknown action ${verb}; one of ${ACTIONS.join(', ')}` });
      return;
    }
    try {
      await readBody(req);
    } catch {
      json(res, 413, { error: 'request body too large' });
      return;
    }
    const problem = csrfProblem(req);
    if (problem !== undefined) {
      log.warn({ namespace, bind: name, action: verb, problem }, 'console action refused (CSRF)');
      json(res, 403, { error: `refused: ${problem}` });
      return;
    }
    const result = await o.source.act({ mode, namespace, name, action: verb as ActionName }, bearerOf(req));
    const level = result.status < 300 ? 'info' : 'warn';
    log[level](
      { namespace, bind: name, mode, action: verb, status: result.status },
      `console action: ${result.message}`,
    );
    json(res, result.status, result.status < 300 ? { message: result.message } : { error: result.message });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error({ err }, 'console request failed');
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'console server error'));
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(o.host, port)}/`;
  log.info({ host: o.host, port, url }, 'console listening');
  return {
    port,
    url,
    close: async () => {
      hub.close();
      await o.source.close?.();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
