// CoreClient.poll on its own pipelined connections (src/core/poll-transport.ts), against a real
// node:http server and against raw sockets that misbehave the ways servers and proxies do.
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import { createServer as createNet, Socket, type AddressInfo, type Server as NetServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CoreClient, CoreError } from '../../../src/core/index.js';
import { createLogger } from '../../../src/log.js';
import { createTestPki } from '../../helpers/tls.js';
import { freePort } from '../../helpers/net.js';

const log = createLogger({ level: 'silent' });
const closers: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A message routed to `smsc`, so each answer shows which request it belongs to. */
const messageFor = (smsc: string, id: string): Record<string, unknown> => ({
  id,
  source_msisdn: '1',
  destination_msisdn: '2',
  message_body: `for ${smsc}`,
  dest_smsc: smsc,
});

function listen(server: Server | NetServer): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function closeHttp(server: Server): Promise<void> {
  return new Promise((r) => {
    server.closeAllConnections();
    server.close(() => r());
  });
}

function client(url: string, extra: Partial<ConstructorParameters<typeof CoreClient>[0]> = {}): CoreClient {
  const c = new CoreClient(
    { baseUrl: url, timeoutMs: 1000, backoff: { minDelayMs: 10, maxDelayMs: 10 }, ...extra },
    log,
  );
  closers.push(() => c.close());
  return c;
}

/** node:http answering each poll after `delayMs(smsc)` with one message for that smsc. */
async function httpCore(delayMs: (smsc: string) => number = () => 0): Promise<{
  url: string;
  sockets: Set<Socket>;
  requests: IncomingMessage[];
}> {
  const sockets = new Set<Socket>();
  const requests: IncomingMessage[] = [];
  const server = createHttp((req: IncomingMessage, res: ServerResponse) => {
    requests.push(req);
    const smsc = String(req.headers.smsc);
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([messageFor(smsc, `m-${smsc}`)]));
    }, delayMs(smsc));
  });
  server.on('connection', (s: Socket) => sockets.add(s));
  const port = await listen(server);
  closers.push(() => closeHttp(server));
  return { url: `http://127.0.0.1:${port}`, sockets, requests };
}

/** A raw TCP "core": `onRequest` gets each complete request head and the socket. */
async function rawCore(
  onRequest: (head: string, socket: Socket, n: number) => void,
): Promise<{ url: string; heads: string[]; connections: () => number }> {
  const heads: string[] = [];
  let connections = 0;
  const live = new Set<Socket>();
  const server = createNet((socket) => {
    connections++;
    live.add(socket);
    socket.on('close', () => live.delete(socket));
    socket.on('error', () => {});
    let buf = '';
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end >= 0; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        heads.push(head);
        onRequest(head, socket, heads.length);
      }
    });
  });
  const port = await listen(server);
  closers.push(
    () =>
      new Promise<void>((r) => {
        for (const s of live) s.destroy();
        server.close(() => r());
      }),
  );
  return { url: `http://127.0.0.1:${port}`, heads, connections: () => connections };
}

const ok = (body: string): string =>
  `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const smscOf = (head: string): string => /\r\nSMSc: ([^\r]*)/.exec(head)?.[1] ?? '';

describe('CoreClient.poll on pipelined connections', () => {
  it('pairs every answer with its request; one turn of polls shares few connections', async () => {
    // Later requests answered first would be a bug in pairing: node:http keeps the order per
    // connection, so the delays only make answers slow, not misordered.
    const core = await httpCore((s) => (Number(s.slice(1)) % 3) * 5);
    const c = client(core.url, { pollPipelining: 8 });
    const names = Array.from({ length: 40 }, (_, i) => `s${i}`);
    const lists = await Promise.all(names.map((n) => c.poll(n)));
    expect(lists.map((l) => l.map((m) => m.id))).toEqual(names.map((n) => [`m-${n}`]));
    expect(core.requests).toHaveLength(40);
    expect(core.sockets.size).toBeLessThanOrEqual(5);
    // and the connections are kept: a second round opens none
    const before = core.sockets.size;
    await Promise.all(names.map((n) => c.poll(n)));
    expect(core.sockets.size).toBe(before);
  });

  it('polls made from separate callbacks in one turn go out in one write', async () => {
    // Each pump polls from a callback of its own (a timer); microtasks run between callbacks, so
    // only a flush in a later phase puts them in one write. Immediates, not timers, here: six
    // timers set in one loop may fall due a millisecond apart on a busy machine and fire in two
    // turns (a CI run saw 2 writes), while one loop's immediates always run in the same turn.
    const core = await rawCore((head, socket) =>
      socket.write(ok(JSON.stringify([messageFor(smscOf(head), 'w')]))),
    );
    const c = client(core.url, { pollPipelining: 8 });
    await c.poll('warm'); // one open connection
    const writes = vi.spyOn(Socket.prototype, 'write');
    try {
      const done = await new Promise<Promise<unknown>[]>((resolve) => {
        const ps: Promise<unknown>[] = [];
        for (let i = 0; i < 6; i++) setImmediate(() => ps.push(c.poll(`t${i}`)));
        setImmediate(() => resolve(ps));
      });
      await Promise.all(done);
      // the client's writes only (the raw core's answers are written by other sockets)
      expect(writes.mock.calls.filter((call) => String(call[0]).includes('GET ')).length).toBe(1);
    } finally {
      writes.mockRestore();
    }
  });

  it('pipelining 1: one request at a time per connection', async () => {
    const core = await rawCore((head, socket) => {
      socket.write(ok(JSON.stringify([messageFor(smscOf(head), 'x')])));
    });
    const c = client(core.url, { pollPipelining: 1, connections: 4 });
    await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((n) => c.poll(n)));
    expect(core.connections()).toBe(4);
  });

  it('sends the documented request: GET /api/messages, SMSc, accept, bearer token, host', async () => {
    const core = await rawCore((_head, socket) => socket.write(ok('[]')));
    const c = client(core.url + '/prefix', { bearerToken: 'tok-123' });
    expect(await c.poll('gw-1')).toEqual([]);
    const head = core.heads[0] as string;
    expect(head.split('\r\n')[0]).toBe('GET /prefix/api/messages HTTP/1.1');
    expect(head).toContain('\r\nSMSc: gw-1');
    expect(head).toContain('\r\naccept: application/json');
    expect(head).toContain('\r\nauthorization: Bearer tok-123');
    expect(head).toContain(`\r\nhost: ${new URL(core.url).host}`);
  });

  it('reads chunked answers', async () => {
    const core = await rawCore((head, socket) => {
      const body = JSON.stringify([messageFor(smscOf(head), 'c1')]);
      const a = body.slice(0, 5);
      const b = body.slice(5);
      socket.write(
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${a.length.toString(16)}\r\n${a}\r\n`,
      );
      setTimeout(() => socket.write(`${Buffer.byteLength(b).toString(16)}\r\n${b}\r\n0\r\n\r\n`), 5);
    });
    const c = client(core.url);
    expect((await c.poll('z')).map((m) => m.id)).toEqual(['c1']);
  });

  it('a connection the core closes before answering: the poll goes again on a new one', async () => {
    // The first connection takes one request and closes on the second (what a server closing
    // an idle keep-alive connection as we write looks like); every later one answers.
    const core = await rawCore((head, socket, n) => {
      if (n === 2) socket.destroy();
      else socket.write(ok(JSON.stringify([messageFor(smscOf(head), `r${n}`)])));
    });
    const c = client(core.url, { pollPipelining: 1, connections: 1 });
    expect((await c.poll('a')).map((m) => m.id)).toEqual(['r1']);
    expect((await c.poll('a')).map((m) => m.id)).toEqual(['r3']);
    expect(core.connections()).toBe(2);
    expect(c.healthy).toBe(true);
  });

  it('Connection: close, and a 408 on an idle connection, are followed by a new connection', async () => {
    const core = await rawCore((head, socket, n) => {
      const body = JSON.stringify([messageFor(smscOf(head), `k${n}`)]);
      if (n === 1) {
        socket.end(`HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      } else {
        socket.write(ok(body));
        setTimeout(
          () => socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n'),
          20,
        );
      }
    });
    const c = client(core.url);
    expect((await c.poll('a')).map((m) => m.id)).toEqual(['k1']);
    expect((await c.poll('a')).map((m) => m.id)).toEqual(['k2']);
    await new Promise((r) => setTimeout(r, 300)); // the 408 (sent after 20 ms) has come
    expect((await c.poll('a')).map((m) => m.id)).toEqual(['k3']);
    expect(core.connections()).toBe(3);
  });

  it('a core that never answers: a timeout, not retried, and the client is unhealthy', async () => {
    const core = await rawCore(() => {});
    const c = client(core.url, { timeoutMs: 300 });
    const t0 = performance.now();
    const err = await c.poll('a').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoreError);
    expect((err as CoreError).outcome).toBe('timeout');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(core.heads).toHaveLength(1);
    expect(c.healthy).toBe(false);
  });

  it('a refused connection is a temporary connection error', async () => {
    const c = client(`http://127.0.0.1:${await freePort()}`);
    const err = (await c.poll('a').catch((e: unknown) => e)) as CoreError;
    expect(err).toBeInstanceOf(CoreError);
    expect(err.outcome).toBe('connection_error');
    expect(err.temporary).toBe(true);
    expect(err.message).toContain('connection refused');
  });

  it('an answer that is not HTTP fails the poll and the next poll works again', async () => {
    let garbage = true;
    const core = await rawCore((_head, socket) => {
      if (garbage) socket.write('SSH-2.0-OpenSSH\r\n\r\n');
      else socket.write(ok('[]'));
    });
    const c = client(core.url);
    const err = (await c.poll('a').catch((e: unknown) => e)) as CoreError;
    expect(err.outcome).toBe('connection_error');
    garbage = false;
    expect(await c.poll('a')).toEqual([]);
  });

  it('an smscName with CR/LF is refused before anything is sent', async () => {
    const core = await rawCore((_h, socket) => socket.write(ok('[]')));
    const c = client(core.url);
    const err = (await c.poll('a\r\nX-Injected: 1').catch((e: unknown) => e)) as CoreError;
    expect(err).toBeInstanceOf(CoreError);
    expect(core.heads).toHaveLength(0);
  });

  it('https: verifies the core against the configured CA', async () => {
    const pki = createTestPki();
    closers.push(() => pki.cleanup());
    const server = createHttps({ key: pki.key, cert: pki.cert }, (req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([messageFor(String(req.headers.smsc), 'tls1')]));
    });
    const port = await listen(server);
    closers.push(() => closeHttp(server));
    const good = client(`https://localhost:${port}`, { ca: pki.ca });
    expect((await good.poll('t')).map((m) => m.id)).toEqual(['tls1']);
    const bad = client(`https://localhost:${port}`, { ca: pki.otherCa });
    const err = (await bad.poll('t').catch((e: unknown) => e)) as CoreError;
    expect(err.outcome).toBe('connection_error');
  });
});
