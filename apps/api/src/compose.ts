// The api's composition root: every part is built here once, from one typed deps object each, and
// registers its shutdown in its phase — drain (/readyz says draining while everything is still
// served, for SHUTDOWN_DRAIN_MS) → stop accepting (HTTP, WebSocket closed with 1012) → in-flight
// work (the outbox relay, event subscriptions, the accounts listener) — before main.ts's
// connections go (NATS → Redis → pool). main.ts parses settings and connects; tests call this with
// their own.
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import express from 'express';

import { asyncApiDocument } from '@ratewire/contracts/asyncapi';
import { OutboxRelay } from '@ratewire/jobs';
import { Shutdown } from '@ratewire/runtime';

import { accountPages } from './account/account.pages.ts';
import { consoleRouter } from './console/console.routes.ts';
import { alertsRoutes } from './alerts/alerts.routes.ts';
import { AlertsService } from './alerts/alerts.service.ts';
import { ApiKeyAuth } from './api-keys/api-keys.auth.ts';
import { ApiKeyCache } from './api-keys/api-keys.cache.ts';
import { KeyRateLimiter } from './api-keys/api-keys.limiter.ts';
import { apiKeysRoutes } from './api-keys/api-keys.routes.ts';
import { ApiKeysService } from './api-keys/api-keys.service.ts';
import { ApiKeyUses } from './api-keys/api-keys.uses.ts';
import { createHttpApp } from './app.ts';
import { Accounts } from './auth/accounts.ts';
import { ChangeFeed } from './auth/change-feed.ts';
import { authRoutes } from './auth/auth.routes.ts';
import { createAuthService } from './auth/auth.service.ts';
import { AttemptLimiter, LOGIN_LIMITS, MAIL_REQUEST_LIMITS } from './auth/attempt-limiter.ts';
import { watchCacheEvents } from './cache/cache.events.ts';
import { FastLane } from './cache/fast-lane.ts';
import { ResponseCache } from './cache/response-cache.ts';
import { compatRoutes } from './compat/compat.routes.ts';
import { currenciesRoutes } from './currencies/currencies.routes.ts';
import { CurrenciesService } from './currencies/currencies.service.ts';
import type { ApiDeps } from './deps.ts';
import { exchangeRoutes } from './exchange/exchange.routes.ts';
import { ExchangeService } from './exchange/exchange.service.ts';
import { feedsReadiness } from './feeds/feeds.readiness.ts';
import { healthRoutes } from './health/health.routes.ts';
import { createHttpMetrics } from './http/metrics.ts';
import { buildOpenApiDocument } from './http/openapi.ts';
import { RouteRegistry } from './http/route.ts';
import { jobsRoutes } from './jobs/jobs.routes.ts';
import { createJobsService } from './jobs/jobs.service.ts';
import { ratesRoutes } from './rates/rates.routes.ts';
import { RatesService } from './rates/rates.service.ts';
import { SeriesService } from './rates/series.service.ts';
import { tasksRoutes } from './tasks/tasks.routes.ts';
import { TasksService } from './tasks/tasks.service.ts';
import { webhooksRoutes } from './webhooks/webhooks.routes.ts';
import { WebhooksService } from './webhooks/webhooks.service.ts';
import { createWsGateway } from './ws/ws.gateway.ts';

export const API_VERSION = '1.0.0';
/** Where the web console's build is, unless WEB_DIST_DIR says otherwise. */
export const WEB_DIST_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));
export const DEFAULT_REDIS_PREFIX = 'rw:';

export interface ApiApp {
  app: express.Express;
  server: Server;
  routes: RouteRegistry;
  openapi: () => ReturnType<typeof buildOpenApiDocument>;
  /** Listens on `port` (0 = ephemeral) and resolves with the base URL. */
  listen(port: number, host?: string): Promise<string>;
  /**
   * Runs this app's shutdown steps: drains (SHUTDOWN_DRAIN_MS of /readyz 503 `draining`, still
   * serving), stops accepting (idle keep-alive sockets are closed, in-flight requests finish with
   * `Connection: close`, WebSockets are closed with 1012), then stops in-flight work. The
   * connections in `deps` stay open: they belong to the caller.
   */
  close(): Promise<void>;
}

export function composeApi(deps: ApiDeps, shutdown: Shutdown = new Shutdown(deps.log)): ApiApp {
  const { settings, log, db, nats, redis } = deps;
  const prefix = deps.redisPrefix ?? DEFAULT_REDIS_PREFIX;

  // cached reads: the stored bodies, the lane answering hits before Express, the invalidating events
  const cache = new ResponseCache({ redis, prefix, log });
  const lane = new FastLane(cache);
  const stopCacheEvents = watchCacheEvents({ nats, cache, log });

  // accounts, sessions (and API keys) are cached per process, dropped on every replica by the feed
  const changes = new ChangeFeed({
    // LISTEN needs a session of its own: past a transaction-mode pooler, the direct URL
    databaseUrl: settings.DATABASE_DIRECT_URL ?? settings.DATABASE_URL,
    log,
  });
  const accounts = new Accounts({ db, changes, settings });
  // API keys: checked from a cache on the same feed, rate-limited through Redis leases, last uses batched
  const keyLimiter = new KeyRateLimiter({ redis, prefix, limit: settings.API_KEY_RATE_LIMIT, log });
  const keyUses = new ApiKeyUses({ db, log });
  const keyCache = new ApiKeyCache({ db, changes });
  const apiKeys = new ApiKeyAuth({
    cache: keyCache,
    limiter: keyLimiter,
    uses: keyUses,
    accounts,
  });
  lane.useKeys(apiKeys);
  const relay = new OutboxRelay({
    db,
    nats,
    log: log.child({ part: 'outbox-relay' }),
    streamReplicas: settings.NATS_STREAM_REPLICAS,
  });
  relay.start();

  const rates = new RatesService({ db, nats, log, versions: cache });
  const series = new SeriesService({ db, pool: deps.pool, binanceKnown: (symbol) => rates.binanceKnown(symbol) });
  const currencies = new CurrenciesService({ db, nats, log, versions: cache });
  const exchange = new ExchangeService({ db });
  const tasks = new TasksService({ db, nats, redis, log });
  const auth = createAuthService({
    db,
    settings,
    accounts,
    logins: new AttemptLimiter({ redis, prefix, name: 'login:fail', what: 'failed logins', limits: LOGIN_LIMITS }),
    passwordChecks: new AttemptLimiter({
      redis,
      prefix,
      name: 'password:fail',
      what: 'wrong current passwords',
      limits: LOGIN_LIMITS,
    }),
    mailRequests: new AttemptLimiter({
      redis,
      prefix,
      name: 'mail:request',
      what: 'mail requests',
      limits: MAIL_REQUEST_LIMITS,
    }),
  });
  const jobs = createJobsService({ db, redis, log, onAccepted: () => relay.notify() });
  const webhooks = new WebhooksService({ db });

  const routes = new RouteRegistry({
    cache: { store: cache, lane },
    requireConfirmedEmail: settings.AUTH_REQUIRE_CONFIRMED_EMAIL,
  });
  const router = express.Router();
  jobsRoutes(router, routes, jobs);
  authRoutes(router, routes, auth);
  accountPages(router, auth);
  currenciesRoutes(router, routes, currencies);
  ratesRoutes(router, routes, rates, series);
  exchangeRoutes(router, routes, exchange);
  tasksRoutes(router, routes, tasks);
  webhooksRoutes(router, routes, webhooks);
  apiKeysRoutes(router, routes, new ApiKeysService({ db, cache: keyCache }));
  alertsRoutes(
    router,
    routes,
    new AlertsService({ db, nats, log, maxActivePerUser: settings.ALERTS_MAX_ACTIVE_PER_USER }),
  );
  compatRoutes(router, routes, { currencies, exchange, rates, tasks });
  healthRoutes(router, routes, deps, feedsReadiness(deps), () => shutdown.stopping);
  router.use(consoleRouter(settings.WEB_DIST_DIR ?? WEB_DIST_DIR));

  const openapi = () =>
    buildOpenApiDocument(routes.routes, {
      title: 'Ratewire API',
      version: API_VERSION,
      description:
        'Currency rates (CBR, Binance), conversions, exchange jobs and auth. Rates and money are decimal strings. ' +
        'Errors are application/problem+json (RFC 9457). Live updates: WebSocket /ws.',
    });
  const asyncapi = () => asyncApiDocument({ version: API_VERSION });
  const metrics = createHttpMetrics();
  const app = createHttpApp({ settings, log, metrics, accounts, apiKeys, router, openapi, asyncapi });
  lane.useMetrics(metrics.requests);
  const listener = lane.listener(app);
  // requests not answered yet when the server stops accepting: their answers say Connection: close
  const unanswered = new Set<ServerResponse>();
  let accepting = true;
  const server = createServer((req, res) => {
    if (!accepting) res.setHeader('connection', 'close');
    else if (!unanswered.has(res)) {
      unanswered.add(res);
      res.once('close', () => unanswered.delete(res));
    }
    listener(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  const gateway = createWsGateway({ settings, log, db, redis, server, accounts, registry: metrics.registry });
  // every cache has subscribed by now
  changes.start();

  // /readyz answers 503 `draining` from the signal on (shutdown.stopping); everything else is still
  // served while balancers notice and send new requests and sockets elsewhere
  const drainMs = settings.SHUTDOWN_DRAIN_MS;
  shutdown.add(
    'draining',
    'http',
    async () => {
      if (drainMs === 0) return;
      log.info({ ms: drainMs }, 'draining: /readyz answers 503 while requests are still served');
      await sleep(drainMs);
    },
    { timeoutMs: drainMs + 1000 },
  );
  shutdown.add('accepting', 'http', async () => {
    accepting = false;
    for (const res of unanswered) if (!res.headersSent) res.setHeader('connection', 'close');
    const stopped = new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    // upgraded sockets keep the server open: they are closed (1012, service restart) before it can finish
    await gateway.close();
    await stopped;
  });
  shutdown.add('in-flight', 'change feed', () => changes.close());
  shutdown.add('in-flight', 'api key uses', () => keyUses.close());
  shutdown.add('in-flight', 'api key leases', () => keyLimiter.close());
  shutdown.add('in-flight', 'cache events', stopCacheEvents);
  shutdown.add('in-flight', 'outbox relay', () => relay.close());

  return {
    app,
    server,
    routes,
    openapi,
    listen(port, host = '0.0.0.0') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          const { port: actual } = server.address() as AddressInfo;
          resolve(`http://127.0.0.1:${actual}`);
        });
      });
    },
    close: () => shutdown.run('close'),
  };
}
