// The Express 5 app: the middleware stack every request passes (request ids, metrics, security
// headers, body parsers, bearer tokens), the feature routes the composition root mounts, the API
// documents, and problem+json for what matches nothing or fails.
import express from 'express';
import helmet from 'helmet';

import type { ApiSettings } from '@ratewire/contracts';
import type { AsyncApiDocument } from '@ratewire/contracts/asyncapi';
import { exactNumbers } from '@ratewire/money';
import type { Logger } from '@ratewire/runtime';

import type { ApiKeyAuth } from './api-keys/api-keys.auth.ts';
import type { Accounts } from './auth/accounts.ts';
import { authenticate } from './auth/auth.middleware.ts';
import { docsRouter } from './docs/docs.routes.ts';
import type { HttpMetrics } from './http/metrics.ts';
import { errorHandler, notFoundHandler } from './http/problem.ts';
import { requestContext } from './http/request-context.ts';

/** Room for the largest valid exchange body: 10,000 bills of up to ~150 bytes each. */
export const JSON_BODY_LIMIT = '2mb';

export interface HttpAppDeps {
  settings: ApiSettings;
  log: Logger;
  metrics: HttpMetrics;
  accounts: Accounts;
  /** Checks requests sent with an API key. */
  apiKeys?: ApiKeyAuth;
  /** The feature routes (mounted after authentication, before the documents). */
  router: express.Router;
  /** The OpenAPI document, built from the route registry. */
  openapi: () => unknown;
  /** The AsyncAPI document of the events, built from the event catalogue. */
  asyncapi: () => AsyncApiDocument;
}

export function createHttpApp(deps: HttpAppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', deps.settings.TRUST_PROXY);
  app.set('query parser', 'simple');

  app.use(requestContext(deps.log));
  app.use(deps.metrics.middleware);
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
  app.get('/metrics', deps.metrics.handler(deps.settings.METRICS_TOKEN));
  app.use(authenticate(deps.accounts, deps.apiKeys));
  app.use(deps.router);
  app.use(docsRouter({ openapi: deps.openapi, asyncapi: deps.asyncapi }));
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}
