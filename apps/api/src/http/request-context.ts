import { randomUUID } from 'node:crypto';

import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

export interface AuthUser {
  id: string;
  email: string;
  role: 'user' | 'admin';
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's augmentation point
  namespace Express {
    interface Request {
      id: string;
      /** The caller, when a valid bearer token was sent. */
      user?: AuthUser;
      /** A child logger carrying the request id (created on first use). */
      log: Logger;
    }
  }
}

const VALID_ID = /^[\w.:-]{1,128}$/;

/** Request ids (accepted from `x-request-id` when sane, else generated) and a lazy per-request logger. */
export function requestContext(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    req.id = typeof incoming === 'string' && VALID_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', req.id);
    let child: Logger | undefined;
    Object.defineProperty(req, 'log', {
      configurable: true,
      get: () => (child ??= log.child({ req_id: req.id })),
    });
    next();
  };
}
