import type { NextFunction, Request, Response } from 'express';

import { presentedApiKey, type ApiKeyAuth } from '../api-keys/api-keys.auth.ts';
import { AppError } from '../http/app-error.ts';
import type { Accounts } from './accounts.ts';
import { cookieRequestAllowed, sessionCookieOf } from './session-cookie.ts';

/**
 * Sets req.user and req.credential from `Authorization: Bearer <token>`: the account the token
 * names, as it is now (its current role), in a session that is still live. No header: anonymous
 * (routes decide). A header with a bad token, an ended session or a gone account is 401 at once, so
 * a client never mistakes it for anonymous access.
 *
 * With `apiKeys`, an API key (`X-API-Key: <key>` or `Authorization: Bearer rw_…`) is checked by it
 * instead (api-keys.auth.ts): the owner with the role `user`, or 400/401/429.
 *
 * Without either header, the browser session cookie (session-cookie.ts) is the credential: a request
 * that changes state must come from this origin's pages (else 403 `cross_site_request`), and a
 * cookie whose session ended or expired counts as no credential, so public reads keep working and
 * private ones answer 401.
 */
export function authenticate(accounts: Accounts, apiKeys?: ApiKeyAuth) {
  return (req: Request, res: Response, next: NextFunction) => {
    const key = apiKeys && presentedApiKey(req.headers);
    if (key !== undefined) return apiKeys!.authenticate(key, req, res, next);
    const header = req.headers.authorization;
    if (!header) return fromCookie(accounts, req, next);
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      const bearer = /^Bearer(\s|$)/i.test(header);
      return next(
        new AppError(401, bearer ? 'invalid_token' : 'unauthorized', 'expected "Authorization: Bearer <token>"'),
      );
    }
    accounts.authenticate(match[1]!).then((caller) => {
      if (caller instanceof AppError) return next(caller);
      req.user = caller.user;
      req.credential = caller.credential;
      next();
    }, next);
  };
}

function fromCookie(accounts: Accounts, req: Request, next: NextFunction): void {
  const token = sessionCookieOf(req.headers);
  if (token === undefined) return next();
  if (!cookieRequestAllowed(req)) {
    return next(
      new AppError(403, 'cross_site_request', 'a request signed in by the session cookie must come from this site'),
    );
  }
  accounts.authenticate(token).then((caller) => {
    if (!(caller instanceof AppError)) {
      req.user = caller.user;
      req.credential = caller.credential;
    }
    next();
  }, next);
}
