/**
 * An incremental reader of the HTTP/1.1 responses that come back, in order, on one keep-alive
 * connection (RFC 9112): status line, headers, then a body framed by Content-Length, by chunked
 * transfer coding, or by the end of the connection. Just enough for the core's JSON answers;
 * anything it cannot frame is an error, and the connection is then dropped.
 */

export interface Http1Response {
  status: number;
  body: string;
  /** The server will not take another request on this connection. */
  close: boolean;
  /** Keep-Alive: timeout=N, ms (how long the server keeps an idle connection). */
  keepAliveMs: number | undefined;
}

/** A body's chunks as text, without a copy for the usual single chunk. */
export function utf8Text(chunks: Buffer[]): string {
  if (chunks.length === 0) return '';
  if (chunks.length === 1) return (chunks[0] as Buffer).toString('utf8');
  return Buffer.concat(chunks).toString('utf8');
}

export class Http1FramingError extends Error {
  readonly code = 'HTTP1_FRAMING';
}

/** A head larger than this is not a JSON API's answer. */
const MAX_HEAD_BYTES = 64 * 1024;
const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

interface Head {
  status: number;
  close: boolean;
  keepAliveMs: number | undefined;
  /** bytes of body still to come (Content-Length), or -1 for chunked, -2 until the connection ends */
  length: number;
}

export class Http1Responses {
  private buf: Buffer = Buffer.alloc(0);
  private head: Head | undefined;
  private body: Buffer[] = [];
  private bodyBytes = 0;
  /** chunked: bytes left of the current chunk, or undefined between chunks */
  private chunkLeft: number | undefined;
  private chunkedDone = false;

  // Only GETs are sent on these connections, so no response is bodiless by request (HEAD).
  constructor(private readonly onResponse: (r: Http1Response) => void) {}

  /** Feeds bytes; calls onResponse for each complete response. Throws Http1FramingError. */
  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    while (this.step()) {
      // each step consumed something; go on while there is more
    }
  }

  /** The connection ended: completes a body framed by the end of the connection. */
  end(): void {
    if (this.head?.length === -2) {
      this.body.push(this.buf);
      this.buf = Buffer.alloc(0);
      this.finish();
    }
  }

  private step(): boolean {
    if (this.head === undefined) return this.readHead();
    const h = this.head;
    if (h.length === -2) {
      if (this.buf.length > 0) {
        this.body.push(this.buf);
        this.buf = Buffer.alloc(0);
      }
      return false;
    }
    if (h.length >= 0) {
      const need = h.length - this.bodyBytes;
      if (this.buf.length === 0 && need > 0) return false;
      const take = Math.min(need, this.buf.length);
      if (take > 0) {
        this.body.push(this.buf.subarray(0, take));
        this.bodyBytes += take;
        this.buf = this.buf.subarray(take);
      }
      if (this.bodyBytes < h.length) return false;
      this.finish();
      return true;
    }
    return this.readChunked();
  }

  private readHead(): boolean {
    if (this.buf.length === 0) return false;
    const end = this.buf.indexOf(HEAD_END);
    if (end < 0) {
      if (this.buf.length > MAX_HEAD_BYTES) throw new Http1FramingError('response head too large');
      return false;
    }
    const text = this.buf.toString('latin1', 0, end);
    this.buf = this.buf.subarray(end + 4);
    const lines = text.split('\r\n');
    const m = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
    if (!m)
      throw new Http1FramingError(
        `not an HTTP/1.x status line: ${JSON.stringify((lines[0] ?? '').slice(0, 40))}`,
      );
    const status = Number(m[2]);
    let close = m[1] === '0';
    let length = -2;
    let chunked = false;
    let keepAliveMs: number | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Http1FramingError('malformed response header');
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') {
        if (!/^\d+$/.test(value) || (length >= 0 && Number(value) !== length))
          throw new Http1FramingError(`bad content-length ${JSON.stringify(value)}`);
        length = Number(value);
      } else if (name === 'transfer-encoding') {
        const codings = value
          .toLowerCase()
          .split(',')
          .map((s) => s.trim());
        if (codings[codings.length - 1] !== 'chunked' || codings.length > 1)
          throw new Http1FramingError(`unsupported transfer-encoding ${JSON.stringify(value)}`);
        chunked = true;
      } else if (name === 'connection') {
        const tokens = value
          .toLowerCase()
          .split(',')
          .map((s) => s.trim());
        if (tokens.includes('close')) close = true;
        else if (tokens.includes('keep-alive')) close = false;
      } else if (name === 'keep-alive') {
        const t = /(?:^|,)\s*timeout=(\d+)/i.exec(value);
        if (t) keepAliveMs = Number(t[1]) * 1000;
      }
    }
    // 1xx: an interim answer; the real one follows.
    if (status >= 100 && status < 200) return true;
    if (chunked) length = -1;
    else if (status === 204 || status === 304) length = 0;
    if (length === -2) close = true;
    this.head = { status, close, keepAliveMs, length };
    this.body = [];
    this.bodyBytes = 0;
    this.chunkLeft = undefined;
    this.chunkedDone = false;
    return true;
  }

  private readChunked(): boolean {
    if (this.chunkedDone) {
      // trailer section: lines until an empty one
      const eol = this.buf.indexOf(CRLF);
      if (eol < 0) return false;
      this.buf = this.buf.subarray(eol + 2);
      if (eol === 0) {
        this.finish();
      }
      return true;
    }
    if (this.chunkLeft === undefined) {
      const eol = this.buf.indexOf(CRLF);
      if (eol < 0) {
        if (this.buf.length > 1024) throw new Http1FramingError('chunk size line too long');
        return false;
      }
      const sizeText = this.buf.toString('latin1', 0, eol).split(';')[0]?.trim() ?? '';
      if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw new Http1FramingError('bad chunk size');
      this.buf = this.buf.subarray(eol + 2);
      const size = parseInt(sizeText, 16);
      if (size === 0) this.chunkedDone = true;
      else this.chunkLeft = size;
      return true;
    }
    // chunk data, then its CRLF
    if (this.chunkLeft > 0) {
      const take = Math.min(this.chunkLeft, this.buf.length);
      if (take === 0) return false;
      this.body.push(this.buf.subarray(0, take));
      this.chunkLeft -= take;
      this.buf = this.buf.subarray(take);
      return true;
    }
    if (this.buf.length < 2) return false;
    if (this.buf[0] !== 13 || this.buf[1] !== 10) throw new Http1FramingError('chunk not followed by CRLF');
    this.buf = this.buf.subarray(2);
    this.chunkLeft = undefined;
    return true;
  }

  private finish(): void {
    const h = this.head as Head;
    const body = utf8Text(this.body);
    this.head = undefined;
    this.body = [];
    this.bodyBytes = 0;
    this.onResponse({ status: h.status, body, close: h.close, keepAliveMs: h.keepAliveMs });
  }
}
