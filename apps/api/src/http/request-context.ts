import { randomUUID } from 'node:crypto';

import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';

export interface AuthUser {
  id: string;
  email: string;
  role: 'user' | 'admin';
  /** The address was confirmed by a mailed link. */
  emailConfirmed: boolean;
}

/** How the caller proved who it is: a session's access token, or an API key (never with the admin role). */
export type Credential =
  | { kind: 'session'; sessionId: string }
  | { kind: 'api_key'; keyId: string; lookup: string; scopes: readonly string[] };

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's augmentation point
  namespace Express {
    interface Request {
      id: string;
      /** The caller, when a valid bearer token or API key was sent. */
      user?: AuthUser;
      /** What proved the caller (set with `user`). */
      credential?: Credential;
      /** A child logger carrying the request id (created on first use). */
      log: Logger;
    }
  }
}

const VALID_ID = /^[\w.:-]{1,128}$/;

/** The request id: the caller's `x-request-id` when it is sane, else a new one. */
export function requestId(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && VALID_ID.test(incoming) ? incoming : randomUUID();
}

const BASE_LOG = Symbol('ratewire.baseLog');
const CHILD_LOG = Symbol('ratewire.log');
interface WithLogs {
  [BASE_LOG]?: Logger;
  [CHILD_LOG]?: Logger;
}

// `req.log` is a getter on Express's request prototype, defined once: defining it on every request
// object (Object.defineProperty per request) turned requests into slow dictionary-mode objects and
// halved the throughput of the hot reads.
Object.defineProperty(express.request, 'log', {
  configurable: true,
  get(this: Request & WithLogs): Logger | undefined {
    return (this[CHILD_LOG] ??= this[BASE_LOG]?.child({ req_id: this.id }));
  },
});

/** Request ids (accepted from `x-request-id` when sane, else generated) and a lazy per-request logger. */
export function requestContext(log: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    req.id = requestId(req.headers['x-request-id']);
    res.setHeader('x-request-id', req.id);
    (req as Request & WithLogs)[BASE_LOG] = log;
    next();
  };
}
