// GET /openapi.json and GET /docs (Swagger UI served from the swagger-ui-dist package, no CDN);
// GET /asyncapi.json and GET /docs/events (the event catalogue, rendered on the server).
import { createRequire } from 'node:module';
import { dirname } from 'node:path';

import type { AsyncApiDocument } from '@ratewire/contracts/asyncapi';
import express, { type Router } from 'express';

import { EVENTS_PAGE_CSS, renderEventsPage } from './events.page.ts';

const swaggerDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Ratewire API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<p>Events (NATS subjects, WebSocket channels):
<a href="/docs/events">/docs/events</a> · <a href="/asyncapi.json">/asyncapi.json</a></p>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/init.js"></script>
</body>
</html>`;

const INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true });`;

export interface DocsDocuments {
  /** The OpenAPI document, built from the route registry. */
  openapi: () => unknown;
  /** The AsyncAPI document, built from the event catalogue. */
  asyncapi: () => AsyncApiDocument;
}

/** `render` once, on first use: the documents do not change while the process runs. */
function once(render: () => string): () => string {
  let body: string | undefined;
  return () => (body ??= render());
}

export function docsRouter(documents: DocsDocuments): Router {
  const router = express.Router();
  const openapi = once(() => JSON.stringify(documents.openapi()));
  const asyncapi = once(() => JSON.stringify(documents.asyncapi()));
  const eventsPage = once(() => renderEventsPage(documents.asyncapi()));
  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openapi());
  });
  router.get('/asyncapi.json', (_req, res) => {
    res.type('application/json').send(asyncapi());
  });
  router.get('/docs/events', (_req, res) => {
    res.type('html').send(eventsPage());
  });
  router.get('/docs/events.css', (_req, res) => {
    res.set('cache-control', 'public, max-age=86400').type('text/css').send(EVENTS_PAGE_CSS);
  });
  router.get('/docs', (_req, res) => {
    res.type('html').send(PAGE);
  });
  router.get('/docs/init.js', (_req, res) => {
    res.type('application/javascript').send(INIT);
  });
  router.use('/docs/assets', express.static(swaggerDir, { index: false, maxAge: '1d' }));
  return router;
}
