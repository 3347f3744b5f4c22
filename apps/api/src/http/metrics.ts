import { createHash, timingSafeEqual } from 'node:crypto';

import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';

import { AppError } from './app-error.ts';
import { RequestMetrics } from './request-metrics.ts';

export interface HttpMetrics {
  registry: Registry;
  /** Request counts and latency per method, route pattern and status (the fast lane records here too). */
  requests: RequestMetrics;
  middleware: (req: Request, res: Response, next: NextFunction) => void;
  /** GET /metrics: open, or with `token` only to `Authorization: Bearer <token>` (401 otherwise). */
  handler(token: string | undefined): RequestHandler;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether `header` is `Bearer <token>`, compared in constant time (digests of equal length). */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const sent = /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1] ?? '';
  return timingSafeEqual(digest(sent), digest(token));
}

/** Default process metrics plus request count and latency per method, route pattern and status. */
export function createHttpMetrics(): HttpMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new RequestMetrics(registry);
  return {
    registry,
    requests,
    middleware(req, res, next) {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        // the matched pattern, never the raw URL: label values stay few
        const route = req.route ? `${req.baseUrl}${(req.route as { path: string }).path}` : 'unmatched';
        requests.route(req.method, route).record(res.statusCode, Number(process.hrtime.bigint() - started) / 1e9);
      });
      next();
    },
    handler(token) {
      return (req, res, next) => {
        if (token !== undefined && !bearerMatches(req.headers.authorization, token)) {
          next(new AppError(401, 'unauthorized', 'GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>"'));
          return;
        }
        registry.metrics().then((text) => res.type(registry.contentType).send(text), next);
      };
    },
  };
}
