import type { NextFunction, Request, Response } from 'express';

import { AppError } from '@ratewire/core';

import { verifyAccessToken, type TokenSettings } from './tokens.ts';

/**
 * Sets req.user from `Authorization: Bearer <token>`. No header: anonymous (routes decide).
 * A header with a bad token is 401 at once, so a client never mistakes it for anonymous access.
 */
export function authenticate(settings: TokenSettings) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const header = req.headers.authorization;
    if (!header) return next();
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return next(new AppError(401, 'unauthorized', 'expected "Authorization: Bearer <token>"'));
    verifyAccessToken(match[1]!, settings).then((user) => {
      if (!user) return next(new AppError(401, 'invalid_token', 'the bearer token is invalid or expired'));
      req.user = user;
      next();
    }, next);
  };
}
