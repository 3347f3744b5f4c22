// The api's feature modules, mounted by createApi. Each feature adds its routes (through the
// RouteRegistry, so they appear in the OpenAPI document) and may contribute readiness facts and
// background work (NATS subscriptions, cache warmers) that close with the app.
import type { Router } from 'express';

import type { HotReads } from './cache/hot-reads.ts';
import type { ApiDeps } from './deps.ts';
import type { ReadinessExtras } from './health/health.routes.ts';
import type { RouteRegistry } from './http/route.ts';
import { jobsRoutes } from './jobs/jobs.routes.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { compatRoutes } from './compat/compat.routes.ts';
import { currenciesRoutes } from './currencies/currencies.routes.ts';
import { exchangeRoutes } from './exchange/exchange.routes.ts';
import { ratesRoutes } from './rates/rates.routes.ts';
import { createRestServices } from './rest.services.ts';
import { tasksRoutes } from './tasks/tasks.routes.ts';
import { feedsReadiness } from './feeds/feeds.readiness.ts';
import { webhooksRoutes } from './webhooks/webhooks.routes.ts';
import { WebhooksService } from './webhooks/webhooks.service.ts';

export interface Features {
  readiness?: ReadinessExtras;
  /** Cached reads answered before Express (app.ts wraps the app with its listener). */
  hotReads?: HotReads;
  /** Stops background work; called after the HTTP server stopped accepting. */
  close(): Promise<void>;
}

export function mountFeatures(router: Router, routes: RouteRegistry, deps: ApiDeps): Features {
  const closers: (() => Promise<void>)[] = [];
  const jobs = jobsRoutes(router, routes, deps);
  closers.push(() => jobs.close());
  const rest = createRestServices(deps);
  closers.push(() => rest.close());
  authRoutes(router, routes, rest.auth);
  currenciesRoutes(router, routes, rest.currencies);
  ratesRoutes(router, routes, rest.rates);
  exchangeRoutes(router, routes, rest.exchange);
  tasksRoutes(router, routes, rest.tasks);
  webhooksRoutes(router, routes, new WebhooksService({ db: deps.db }));
  compatRoutes(router, routes, rest);
  return {
    readiness: feedsReadiness(deps),
    hotReads: rest.cache.hot,
    async close() {
      for (const close of closers.reverse()) await close();
    },
  };
}
