// The browser's session: the access token in an HttpOnly cookie (script cannot read it, so an
// injected script cannot carry it away), SameSite=Strict (no other site's page sends it), Secure
// over HTTPS, scoped to the whole origin and expiring with the token. A cookie is sent by the
// browser on its own, so a request it authenticates that changes state must also show it comes from
// this origin's own pages (Origin, or Sec-Fetch-Site when a browser omits Origin): a form or script
// on another site gets 403 `cross_site_request` even where SameSite is not honoured.
import type { IncomingHttpHeaders } from 'node:http';

import { SESSION_COOKIE } from '@ratewire/contracts/console';
import type { Request } from 'express';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The session cookie's token, if the request carries one. */
export function sessionCookieOf(headers: IncomingHttpHeaders): string | undefined {
  const header = headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return value === '' ? undefined : value;
  }
  return undefined;
}

/**
 * Whether a browser sent this request from a page of this origin: its Origin names the host the
 * request was sent to (the Host header, or X-Forwarded-Host behind a trusted proxy), or, without
 * Origin, Sec-Fetch-Site says same-origin. No such header: not a browser's same-origin request.
 */
export function fromOwnOrigin(headers: IncomingHttpHeaders, host: string | undefined): boolean {
  const origin = headers.origin;
  if (typeof origin === 'string' && origin !== 'null') {
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }
  return headers['sec-fetch-site'] === 'same-origin';
}

/** A state-changing request authenticated by the cookie must come from this origin's pages. */
export function cookieRequestAllowed(req: Request): boolean {
  return SAFE_METHODS.has(req.method) || fromOwnOrigin(req.headers, req.host);
}

/** The Set-Cookie value that opens (token) or ends (null) the browser session. */
export function sessionCookie(token: string | null, options: { maxAgeSeconds: number; secure: boolean }): string {
  const parts = [
    `${SESSION_COOKIE}=${token ?? ''}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${token === null ? 0 : options.maxAgeSeconds}`,
  ];
  if (options.secure) parts.push('Secure');
  return parts.join('; ');
}
