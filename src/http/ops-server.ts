import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../log.js';

export interface OpsServerOptions {
  host: string;
  /** 0 = ephemeral (tests). */
  port: number;
  registry: Registry;
  /** /readyz answers 200 while this returns true, 503 otherwise (and when it throws). */
  ready?: () => boolean | Promise<boolean>;
}

export interface OpsServer {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** /metrics (Prometheus text), /healthz (process alive), /readyz (callback). */
export async function startOpsServer(opts: OpsServerOptions, log: Logger): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const reply = (status: number, type: string, body: string): void => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    switch (path) {
      case '/metrics':
        opts.registry.metrics().then(
          (text) => reply(200, opts.registry.contentType, text),
          (err: unknown) => {
            log.error({ err }, 'collecting metrics failed');
            reply(500, 'text/plain', 'collecting metrics failed\n');
          },
        );
        return;
      case '/healthz':
        reply(200, 'text/plain', 'ok\n');
        return;
      case '/readyz':
        Promise.resolve()
          .then(() => (opts.ready ? opts.ready() : true))
          .then(
            (ok) => reply(ok ? 200 : 503, 'text/plain', ok ? 'ready\n' : 'not ready\n'),
            (err: unknown) => {
              log.warn({ err }, 'readiness check failed');
              reply(503, 'text/plain', 'not ready\n');
            },
          );
        return;
      default:
        reply(404, 'text/plain', 'not found\n');
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log.error({ err }, 'ops server error'));
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  log.info({ host: opts.host, port }, 'metrics and health endpoints listening');
  return {
    port,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
