import type { NextFunction, Request, Response } from 'express';

import { AppError } from '../http/app-error.ts';
import type { AuthUser } from '../http/request-context.ts';
import type { Accounts } from './accounts.ts';
import { verifyAccessToken, type TokenSettings } from './tokens.ts';

/** A validly signed token whose account no longer exists. */
export const unknownUser = () => new AppError(401, 'unknown_user', 'the account behind this token no longer exists');

/** The account a bearer token names, as it is now, or the 401 that refuses the token. */
async function callerOf(token: string, settings: TokenSettings, accounts: Accounts): Promise<AuthUser | AppError> {
  const id = await verifyAccessToken(token, settings);
  if (id === null) return new AppError(401, 'invalid_token', 'the bearer token is invalid or expired');
  return (await accounts.get(id)) ?? unknownUser();
}

/**
 * Sets req.user from `Authorization: Bearer <token>`: the account the token names, as it is now
 * (its current role). No header: anonymous (routes decide). A header with a bad token, or one whose
 * account is gone, is 401 at once, so a client never mistakes it for anonymous access.
 */
export function authenticate(settings: TokenSettings, accounts: Accounts) {
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
    callerOf(match[1]!, settings, accounts).then((caller) => {
      if (caller instanceof AppError) return next(caller);
      req.user = caller;
      next();
    }, next);
  };
}
