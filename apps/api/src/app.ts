// The Express 5 app factory: tests build it in-process on an ephemeral port, main.ts for real.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import express from 'express';
import helmet from 'helmet';

import { exactNumbers } from '@ratewire/core/json';

import { Accounts } from './auth/accounts.ts';
import { authenticate } from './auth/auth.middleware.ts';
import { docsRouter } from './docs/docs.routes.ts';
import type { ApiDeps } from './deps.ts';
import { mountFeatures } from './features.ts';
import { healthRoutes } from './health/health.routes.ts';
import { createHttpMetrics } from './http/metrics.ts';
import { buildOpenApiDocument } from './http/openapi.ts';
import { errorHandler, notFoundHandler } from './http/problem.ts';
import { requestContext } from './http/request-context.ts';
import { RouteRegistry } from './http/route.ts';
import { createWsGateway } from './ws/ws.gateway.ts';

export const API_VERSION = '1.0.0';
/** Room for the largest valid exchange body: 10,000 bills of up to ~150 bytes each. */
export const JSON_BODY_LIMIT = '2mb';

export interface ApiApp {
  app: express.Express;
  server: Server;
  routes: RouteRegistry;
  openapi: () => ReturnType<typeof buildOpenApiDocument>;
  /** Listens on `port` (0 = ephemeral) and resolves with the base URL. */
  listen(port: number, host?: string): Promise<string>;
  /** Stops accepting, then waits for in-flight requests (idle keep-alive sockets are closed). */
  close(): Promise<void>;
}

export function createApi(deps: ApiDeps): ApiApp {
  const app = express();
  const routes = new RouteRegistry();
  const metrics = createHttpMetrics();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.settings.TRUST_PROXY);
  app.set('query parser', 'simple');

  app.use(requestContext(deps.log));
  app.use(metrics.middleware);
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: { 'script-src': ["'self'"], 'img-src': ["'self'", 'data:'], 'connect-src': ["'self'"] },
      },
    }),
  );
  // numbers a double cannot hold keep their exact text, for the decimal input schema
  app.use(
    express.json({ limit: JSON_BODY_LIMIT, type: ['application/json', 'application/*+json'], reviver: exactNumbers }),
  );
  app.use(express.urlencoded({ extended: false, limit: JSON_BODY_LIMIT }));
  // before authenticate: its bearer token is METRICS_TOKEN, not an access token
  app.get('/metrics', metrics.handler(deps.settings.METRICS_TOKEN));
  const accounts = new Accounts({
    db: deps.db,
    databaseUrl: deps.settings.DATABASE_URL,
    settings: deps.settings,
    log: deps.log,
  });
  accounts.start();
  app.use(authenticate(deps.settings, accounts));

  const router = express.Router();
  const features = mountFeatures(router, routes, deps);
  healthRoutes(router, routes, deps, features.readiness);
  app.use(router);

  const openapi = () =>
    buildOpenApiDocument(routes.routes, {
      title: 'Ratewire API',
      version: API_VERSION,
      description:
        'Currency rates (CBR, Binance), conversions, exchange jobs and auth. Rates and money are decimal strings. ' +
        'Errors are application/problem+json (RFC 9457). Live updates: WebSocket /ws.',
    });
  app.use(docsRouter(openapi));
  app.use(notFoundHandler);
  app.use(errorHandler);

  features.hotReads?.useMetrics(metrics.registry);
  const server = createServer(features.hotReads ? features.hotReads.listener(app) : app);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  const gateway = createWsGateway(deps, server, accounts, metrics.registry);

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
    async close() {
      const stopped = new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      // upgraded sockets keep the server open: they are closed (1001) before it can finish
      await gateway.close();
      await stopped;
      await features.close();
      await accounts.close();
    },
  };
}
