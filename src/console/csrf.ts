/**
 * CSRF protection for the console's actions, without state shared between pods (an Ingress may
 * send the page's requests to different pods): a double-submit token. The page reads the token
 * from `GET /api/v1/session` (another site cannot read that answer) and sends it back in a
 * header; the cookie, which a browser attaches only to same-site requests (SameSite=Strict),
 * must carry the same value. A form or image on another site can set neither.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const CSRF_COOKIE = 'smpp_console_csrf';
const CSRF_HEADER = 'x-csrf-token';

export function newCsrfToken(): string {
  return randomBytes(24).toString('base64url');
}

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  const raw = req.headers.cookie;
  if (raw === undefined) return undefined;
  for (const part of raw.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export function csrfCookie(token: string): string {
  return `${CSRF_COOKIE}=${token}; Path=/; SameSite=Strict; HttpOnly`;
}

/** Why a state-changing request is refused, or undefined when it may go on. */
export function csrfProblem(req: IncomingMessage): string | undefined {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return `cross-site request (Sec-Fetch-Site: ${site})`;
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      return 'unreadable Origin header';
    }
    const forwarded = req.headers['x-forwarded-host'];
    const expected = [req.headers.host, ...(typeof forwarded === 'string' ? forwarded.split(',') : [])];
    if (!expected.some((h) => h?.trim() === host)) return `request from another origin (${origin})`;
  }
  const header = req.headers[CSRF_HEADER];
  const cookie = cookieValue(req, CSRF_COOKIE);
  if (typeof header !== 'string' || cookie === undefined) return 'missing CSRF token';
  const a = Buffer.from(header);
  const b = Buffer.from(cookie);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return 'CSRF token does not match';
  return undefined;
}
