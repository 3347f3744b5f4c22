import type { NextFunction, Request, Response } from 'express';

import { AppError } from '../http/app-error.ts';
import type { Accounts } from './accounts.ts';

/**
 * Sets req.user and req.credential from `Authorization: Bearer <token>`: the account the token
 * names, as it is now (its current role), in a session that is still live. No header: anonymous
 * (routes decide). A header with a bad token, an ended session or a gone account is 401 at once, so
 * a client never mistakes it for anonymous access.
 */
export function authenticate(accounts: Accounts) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (!header) return next();
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
