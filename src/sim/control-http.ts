// The sim's HTTP control endpoint: JSON in, JSON out, loopback by default. Tests, the demo and
// benchmarks in other processes drive the sim through it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from '../log.js';
import { SimRequestError, type SmscSim } from './smsc.js';

const MAX_BODY = 1 << 20;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY) throw new SimRequestError(`body larger than ${MAX_BODY} octets`, 413);
    chunks.push(b);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new SimRequestError('body is not valid JSON', 400);
  }
}

function intParam(url: URL, name: string, fallback: number): number {
  const v = url.searchParams.get(name);
  if (v === null) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new SimRequestError(`query parameter ${name} must be a non-negative integer`, 400);
  return n;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

type Handler = (url: URL, req: IncomingMessage) => Promise<unknown> | unknown;

export const CONTROL_ROUTES = [
  'GET /healthz',
  'GET /stats',
  'GET /binds',
  'GET /messages?since=&limit=&systemId=',
  'GET /deliveries?since=&limit=',
  'GET /faults',
  'POST /faults',
  'DELETE /faults',
  'GET /receipts',
  'POST /receipts',
  'POST /mo',
  'POST /disconnect {systemId?}',
  'POST /reset',
] as const;

export function createControlServer(sim: SmscSim, log: Logger): Server {
  const routes: Record<string, Handler> = {
    'GET /healthz': () => ({ ok: true, sink: sim.sink }),
    'GET /stats': () => sim.stats(),
    'GET /binds': () => sim.binds(),
    'GET /messages': (url) =>
      sim.messages(
        intParam(url, 'since', 0),
        intParam(url, 'limit', 1000),
        url.searchParams.get('systemId') ?? undefined,
      ),
    'GET /deliveries': (url) => sim.deliveries(intParam(url, 'since', 0), intParam(url, 'limit', 1000)),
    'GET /faults': () => sim.faults(),
    'POST /faults': async (_url, req) => sim.applyFaults((await readJson(req)) as never),
    'DELETE /faults': () => sim.applyFaults({ clear: true }),
    'GET /receipts': () => sim.receipts(),
    'POST /receipts': async (_url, req) => sim.setReceiptPolicy((await readJson(req)) as never),
    'POST /mo': async (_url, req) => sim.sendMo((await readJson(req)) as never),
    'POST /disconnect': async (_url, req) => {
      const body = (await readJson(req)) as { systemId?: unknown };
      if (body.systemId !== undefined && typeof body.systemId !== 'string')
        throw new SimRequestError('systemId must be a string', 400);
      return { closed: sim.disconnectAll(body.systemId) };
    },
    'POST /reset': () => {
      sim.reset();
      return { ok: true };
    },
  };
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const key = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '') || '/'}`;
    const handler = routes[key];
    if (!handler) {
      const known = Object.keys(routes).some((r) => r.endsWith(` ${url.pathname}`));
      send(res, known ? 405 : 404, {
        error: known ? `method ${req.method} not allowed` : `no route ${url.pathname}`,
        routes: CONTROL_ROUTES,
      });
      return;
    }
    Promise.resolve()
      .then(() => handler(url, req))
      .then(
        (body) => send(res, 200, body),
        (err: unknown) => {
          const status = err instanceof SimRequestError ? err.httpStatus : 500;
          const message = err instanceof Error ? err.message : String(err);
          log.warn({ route: key, status, error: message }, 'control request failed');
          send(res, status, { error: message });
        },
      );
  });
}
