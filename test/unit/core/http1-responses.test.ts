// The poll transport's response reader, fed whole and byte by byte: each framing the core (or a
// proxy in front of it) may use, several pipelined answers in one read, and what it must refuse.
import { describe, expect, it } from 'vitest';
import { Http1FramingError, Http1Responses, type Http1Response } from '../../../src/core/http1-responses.js';

function read(wire: string, opts: { byteByByte?: boolean; end?: boolean } = {}): Http1Response[] {
  const out: Http1Response[] = [];
  const p = new Http1Responses((r) => out.push(r));
  const bytes = Buffer.from(wire, 'utf8');
  if (opts.byteByByte) for (let i = 0; i < bytes.length; i++) p.push(bytes.subarray(i, i + 1));
  else p.push(bytes);
  if (opts.end) p.end();
  return out;
}

const both = (wire: string, end = false): Http1Response[][] => [
  read(wire, { end }),
  read(wire, { byteByByte: true, end }),
];

describe('Http1Responses', () => {
  it('reads Content-Length bodies, several pipelined answers in one chunk', () => {
    const wire =
      'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\n\r\n[]' +
      'HTTP/1.1 200 OK\r\ncontent-length: 14\r\n\r\n[{"id":"é1"}]' +
      'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy';
    for (const rs of both(wire)) {
      expect(rs.map((r) => [r.status, r.body, r.close])).toEqual([
        [200, '[]', false],
        [200, '[{"id":"é1"}]', false],
        [503, 'busy', false],
      ]);
      expect(rs[0]?.keepAliveMs).toBe(5000);
    }
  });

  it('reads chunked bodies with extensions and trailers', () => {
    const wire =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\n[{"\r\n9\r\nid":"7"}]\r\n0\r\nX-Trailer: 1\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    for (const rs of both(wire)) {
      expect(rs.map((r) => [r.status, r.body])).toEqual([
        [200, '[{"id":"7"}]'],
        [200, ''],
      ]);
    }
  });

  it('skips 1xx answers; 204 has no body; HTTP/1.0 and Connection: close mean close', () => {
    const wire =
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n' +
      'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n[]';
    for (const rs of both(wire)) {
      expect(rs.map((r) => [r.status, r.body, r.close])).toEqual([
        [204, '', false],
        [200, '[]', true],
      ]);
    }
    const old = read('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n[]');
    expect(old[0]?.close).toBe(true);
  });

  it('a body without a length ends with the connection', () => {
    for (const rs of both('HTTP/1.1 200 OK\r\n\r\n[1,2]', true)) {
      expect(rs.map((r) => [r.status, r.body, r.close])).toEqual([[200, '[1,2]', true]]);
    }
    expect(read('HTTP/1.1 200 OK\r\n\r\n[1,2]')).toEqual([]);
  });

  it('waits for the rest of a body', () => {
    expect(read('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[1,2')).toEqual([]);
  });

  it.each([
    ['garbage status line', 'SMPP/3.4 200 OK\r\n\r\n'],
    ['conflicting lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n[]'],
    ['negative length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
    ['unknown coding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'],
    ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['chunk without CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n[]XX'],
    ['header without a colon', 'HTTP/1.1 200 OK\r\nbroken\r\n\r\n'],
  ])('refuses %s', (_what, wire) => {
    expect(() => read(wire)).toThrow(Http1FramingError);
  });

  it('refuses a head larger than 64 KiB', () => {
    expect(() => read('HTTP/1.1 200 OK\r\nX: ' + 'a'.repeat(70_000))).toThrow(/too large/);
  });
});
