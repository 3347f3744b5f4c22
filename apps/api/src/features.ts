// The api's feature modules, mounted by createApi. Each feature adds its routes (through the
// RouteRegistry, so they appear in the OpenAPI document) and may contribute readiness facts and
// background work (NATS subscriptions, cache warmers) that close with the app.
import type { Router } from 'express';

import type { ApiDeps } from './deps.ts';
import type { ReadinessExtras } from './health/health.routes.ts';
import type { RouteRegistry } from './http/route.ts';
import { feedsReadiness } from './feeds/feeds.readiness.ts';

export interface Features {
  readiness?: ReadinessExtras;
  /** Stops background work; called after the HTTP server stopped accepting. */
  close(): Promise<void>;
}

export function mountFeatures(_router: Router, _routes: RouteRegistry, deps: ApiDeps): Features {
  const closers: (() => Promise<void>)[] = [];
  return {
    readiness: feedsReadiness(deps),
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}
