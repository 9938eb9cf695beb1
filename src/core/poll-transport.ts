/**
 * The core's polls (GET /api/messages with the SMSc header) on keep-alive connections of their
 * own, pipelined: the requests one turn of the event loop makes to one connection go out in one
 * write, and their answers come back in as few reads.
 *
 * Why not undici, as every other core call: an idle gateway is nothing but these polls (1,000
 * carriers at the seeds' 1 s interval are 1,000 requests a second, all answered "[]"), and
 * through undici each cost ~60-120 us of CPU, mostly undici's own request machinery and one
 * write syscall per request. The same polls here cost ~30-40 us (test/bench/README.md, poll
 * transport row). A GET is idempotent, so a request whose connection closes before its answer is
 * sent again once on another connection (the server closing an idle keep-alive connection as we
 * write is the usual case); a timeout is not retried.
 *
 * CORE_POLL_PIPELINING=1 sends one request at a time per connection, for a proxy in front of the
 * core that mishandles pipelined requests.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Http1Responses, type Http1Response } from './http1-responses.js';
import type { Exchange, ExchangeResult, PoolSettings } from './transport.js';

export interface PollTransportSettings extends PoolSettings {
  /** Requests in flight per connection before another connection is opened. */
  pipelining: number;
}

interface Waiting {
  bytes: Buffer;
  resolve: (r: ExchangeResult) => void;
  reject: (err: Error) => void;
  retried: boolean;
}

/** A transport failure, with a code transportError() in client.ts knows. */
class PollConnectionError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** An idle connection is closed after this, or a second before the server's Keep-Alive timeout. */
const IDLE_MS = 30_000;

class PollConnection {
  readonly inFlight: Waiting[] = [];
  /** takes no more requests: the server said close, or it is going idle */
  closing = false;
  private dead = false;
  private readonly socket: net.Socket;
  private readonly parser: Http1Responses;
  private out: Buffer[] = [];
  private flushQueued = false;
  private timer: NodeJS.Timeout | undefined;
  private idleMs = IDLE_MS;

  constructor(
    private readonly owner: PollTransport,
    private readonly s: PollTransportSettings,
    url: URL,
  ) {
    this.parser = new Http1Responses((r) => this.onResponse(r));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const https = url.protocol === 'https:';
    const port = Number(url.port || (https ? 443 : 80));
    this.socket = https
      ? tls.connect({
          host,
          port,
          ...(net.isIP(host) === 0 ? { servername: host } : {}),
          ALPNProtocols: ['http/1.1'],
          rejectUnauthorized: s.tls?.rejectUnauthorized ?? true,
          ...(s.tls?.ca ? { ca: s.tls.ca } : {}),
        })
      : net.connect({ host, port });
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => {
      if (this.inFlight.length > 0) this.armResponseTimer();
      try {
        this.parser.push(chunk);
      } catch (err) {
        this.fail(err as Error, false);
      }
    });
    this.socket.on('end', () => {
      try {
        this.parser.end();
      } catch (err) {
        this.fail(err as Error, false);
      }
      this.fail(new PollConnectionError('the core closed the connection', 'ECONNRESET'), false);
    });
    this.socket.on('error', (err: Error) => this.fail(err, false));
    this.socket.on('close', () =>
      this.fail(new PollConnectionError('the core closed the connection', 'ECONNRESET'), false),
    );
  }

  get usable(): boolean {
    return !this.dead && !this.closing;
  }

  send(w: Waiting): void {
    if (this.inFlight.length === 0) this.armResponseTimer();
    this.inFlight.push(w);
    this.out.push(w.bytes);
    if (!this.flushQueued) {
      this.flushQueued = true;
      // After the timers phase, not in a microtask: each pump polls from a timer of its own,
      // and microtasks run between timers, so a microtask flush wrote every request alone.
      setImmediate(() => this.flush());
    }
  }

  destroy(): void {
    this.fail(new PollConnectionError('core client closed', 'ECONNRESET'), true);
  }

  private flush(): void {
    this.flushQueued = false;
    if (this.dead || this.out.length === 0) return;
    const bytes = this.out.length === 1 ? (this.out[0] as Buffer) : Buffer.concat(this.out);
    this.out = [];
    this.socket.write(bytes);
  }

  private onResponse(r: Http1Response): void {
    const w = this.inFlight.shift();
    if (w === undefined) {
      // An answer nobody asked for (e.g. a 408 on an idle connection): this connection is done.
      this.fail(new PollConnectionError(`unsolicited HTTP ${r.status} from the core`, 'ECONNRESET'), false);
      return;
    }
    if (r.keepAliveMs !== undefined) this.idleMs = Math.max(0, Math.min(IDLE_MS, r.keepAliveMs - 1000));
    if (r.close) this.closing = true;
    w.resolve({ status: r.status, text: r.body });
    if (this.inFlight.length === 0) {
      if (this.closing) {
        this.fail(new PollConnectionError('connection: close', 'ECONNRESET'), false);
        return;
      }
      this.armIdleTimer();
    }
    if (this.usable) this.owner.released(this);
  }

  /** Between the first request written and its answer, at most timeoutMs without a byte. */
  private armResponseTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fail(
        new PollConnectionError(`no answer from the core within ${this.s.timeoutMs} ms`, 'ETIMEDOUT'),
        true,
      );
    }, this.s.timeoutMs);
    this.timer.unref();
  }

  private armIdleTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (this.inFlight.length > 0) return;
      this.closing = true;
      this.fail(new PollConnectionError('idle', 'ECONNRESET'), false);
    }, this.idleMs);
    this.timer.unref();
  }

  /**
   * The connection is finished. Requests without an answer go again once on another connection,
   * unless `final` (a timeout or close()): then they fail with err.
   */
  private fail(err: Error, final: boolean): void {
    if (this.dead) return;
    this.dead = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket.destroy();
    const waiting = this.inFlight.splice(0);
    this.out = [];
    this.owner.gone(this);
    for (const w of waiting) {
      if (!final && !w.retried) {
        w.retried = true;
        this.owner.dispatch(w);
      } else w.reject(err);
    }
  }
}

export class PollTransport {
  private readonly url: URL;
  private readonly conns: PollConnection[] = [];
  private readonly queue: Waiting[] = [];
  /** A poll's request bytes, built once per headers object (one per smscName). */
  private readonly requests = new WeakMap<Record<string, string>, { path: string; bytes: Buffer }>();
  private closed = false;

  constructor(private readonly s: PollTransportSettings) {
    this.url = new URL(s.origin);
  }

  exchange(x: Exchange): Promise<ExchangeResult> {
    if (x.method !== 'GET' || x.body !== null) {
      return Promise.reject(new PollConnectionError('the poll transport sends GETs only', 'ERR_INVALID_ARG'));
    }
    let bytes: Buffer;
    try {
      bytes = this.requestBytes(x);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => this.dispatch({ bytes, resolve, reject, retried: false }));
  }

  /**
   * Onto the busiest connection that still has room, so one turn's polls share writes (spread
   * over idle connections, each went alone); a new connection only when none has room. The
   * connections a burst opened go idle and close.
   */
  dispatch(w: Waiting): void {
    if (this.closed) {
      w.reject(new PollConnectionError('core client closed', 'ECONNRESET'));
      return;
    }
    let best: PollConnection | undefined;
    for (const c of this.conns) {
      if (!c.usable || c.inFlight.length >= this.s.pipelining) continue;
      if (best === undefined || c.inFlight.length > best.inFlight.length) best = c;
    }
    if (best !== undefined) {
      best.send(w);
      return;
    }
    if (this.conns.length < this.s.connections) {
      const c = new PollConnection(this, this.s, this.url);
      this.conns.push(c);
      c.send(w);
      return;
    }
    this.queue.push(w);
  }

  /** A connection has room again. */
  released(c: PollConnection): void {
    while (this.queue.length > 0 && c.usable && c.inFlight.length < this.s.pipelining) {
      c.send(this.queue.shift() as Waiting);
    }
  }

  /** A connection is finished: the queue goes on elsewhere. */
  gone(c: PollConnection): void {
    const i = this.conns.indexOf(c);
    if (i >= 0) this.conns.splice(i, 1);
    const queued = this.queue.splice(0);
    for (const w of queued) this.dispatch(w);
  }

  close(): Promise<void> {
    this.closed = true;
    for (const c of [...this.conns]) c.destroy();
    for (const w of this.queue.splice(0))
      w.reject(new PollConnectionError('core client closed', 'ECONNRESET'));
    return Promise.resolve();
  }

  private requestBytes(x: Exchange): Buffer {
    const cached = this.requests.get(x.headers);
    if (cached !== undefined && cached.path === x.path) return cached.bytes;
    let head = `GET ${x.path} HTTP/1.1\r\nhost: ${this.url.host}\r\n`;
    for (const [k, v] of Object.entries(x.headers)) {
      // A CR or LF in a header would end it early and let the rest be read as another header.
      if (/[\r\n\0]/.test(v) || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) {
        throw new PollConnectionError(`invalid request header ${JSON.stringify(k)}`, 'ERR_INVALID_CHAR');
      }
      head += `${k}: ${v}\r\n`;
    }
    const bytes = Buffer.from(head + '\r\n', 'latin1');
    this.requests.set(x.headers, { path: x.path, bytes });
    return bytes;
  }
}
