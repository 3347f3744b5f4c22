// RFC 9457 problem+json for every error; unknown errors are a bare 500 whose detail is only logged.
import type { NextFunction, Request, Response } from 'express';

import type { Problem } from '@ratewire/contracts';
import { isUnavailableError } from '@ratewire/runtime';

import { AppError } from './app-error.ts';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function sendProblem(
  res: Response,
  req: Request,
  status: number,
  code: string,
  detail: string,
  extra: Partial<Problem> = {},
) {
  const body: Problem = {
    type: `https://ratewire.dev/problems/${code.replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    instance: req.originalUrl,
    request_id: req.id,
    ...extra,
  };
  res.status(status).type('application/problem+json').send(JSON.stringify(body));
}

/** 401 codes that refuse the bearer token the request sent (or the account behind it). */
const TOKEN_REFUSED = new Set(['invalid_token', 'unknown_user', 'session_ended', 'invalid_api_key']);

/**
 * RFC 6750 §3 (and RFC 9110: every 401 carries a challenge): the Bearer scheme, with
 * `error="invalid_token"` when the 401 refuses the token that was sent.
 */
export function bearerChallenge(code: string): string {
  return TOKEN_REFUSED.has(code) ? 'Bearer realm="ratewire", error="invalid_token"' : 'Bearer realm="ratewire"';
}

/** Errors thrown by body parsers carry a status and a type. */
interface HttpError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

export function notFoundHandler(req: Request, res: Response) {
  sendProblem(res, req, 404, 'route_not_found', `no route for ${req.method} ${req.path}`);
}

export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction) {
  if (res.headersSent) {
    req.log.error({ err }, 'error after the response started');
    res.destroy();
    return;
  }
  if (err instanceof AppError) {
    if (err.status >= 500) req.log.error({ err }, err.message);
    if (err.status === 401) res.setHeader('WWW-Authenticate', bearerChallenge(err.code));
    if (err.headers) res.set(err.headers);
    sendProblem(res, req, err.status, err.code, err.message, err.errors ? { errors: err.errors } : {});
    return;
  }
  const httpErr = err as HttpError;
  const status = httpErr.status ?? httpErr.statusCode;
  if (status && status >= 400 && status < 500) {
    const code =
      httpErr.type === 'entity.parse.failed'
        ? 'malformed_body'
        : httpErr.type === 'entity.too.large'
          ? 'body_too_large'
          : httpErr.type === 'encoding.unsupported' || httpErr.type === 'charset.unsupported'
            ? 'unsupported_encoding'
            : 'bad_request';
    const detail =
      code === 'malformed_body'
        ? 'the request body is not valid JSON'
        : code === 'body_too_large'
          ? 'the request body is too large'
          : httpErr.expose && httpErr.message
            ? httpErr.message
            : 'the request could not be read';
    sendProblem(res, req, status, code, detail);
    return;
  }
  if (isUnavailableError(err)) {
    req.log.warn({ err }, 'a backing service is unavailable');
    res.setHeader('Retry-After', '5');
    sendProblem(res, req, 503, 'service_unavailable', 'a backing service is unavailable; retry shortly');
    return;
  }
  req.log.error({ err }, 'unhandled error');
  sendProblem(res, req, 500, 'internal_error', 'an unexpected error occurred');
}
