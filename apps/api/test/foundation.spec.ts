import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { createLogger, createRedis } from '@ratewire/runtime';

import { healthRoutes } from '../src/health/health.routes.ts';
import { errorHandler } from '../src/http/problem.ts';
import { requestContext } from '../src/http/request-context.ts';
import { RouteRegistry } from '../src/http/route.ts';
import { startTestApi, type TestApi } from './harness.ts';

let t: TestApi;
beforeAll(async () => {
  t = await startTestApi();
});
afterAll(async () => {
  await t?.close();
});

describe('GET /healthz and /readyz', () => {
  it('answers alive', async () => {
    const res = await fetch(`${t.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers 200 naming Postgres, Redis and NATS when all are reachable', async () => {
    const res = await fetch(`${t.url}/readyz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(body.status).toBe('ok');
    expect(Object.keys(body.checks).sort()).toEqual(['nats', 'postgres', 'redis']);
    expect(Object.values(body.checks).every((c) => c.ok)).toBe(true);
  });

  it('answers 503 naming the dependency that is unreachable', async () => {
    const log = createLogger('test', 'silent');
    const deadRedis = createRedis('redis://127.0.0.1:1', log, 'dead', {
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    const app = express();
    app.use(requestContext(log));
    const router = express.Router();
    healthRoutes(router, new RouteRegistry(), { ...t.deps, redis: deadRedis });
    app.use(router);
    app.use(errorHandler);
    const server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    try {
      const { port } = server.address() as { port: number };
      const res = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean; error?: string }> };
      expect(body.status).toBe('unavailable');
      expect(body.checks.redis?.ok).toBe(false);
      expect(body.checks.redis?.error).toBeTruthy();
      expect(body.checks.postgres?.ok).toBe(true);
    } finally {
      server.close();
      deadRedis.disconnect();
    }
  });
});

describe('errors as problem+json', () => {
  it('answers 404 problem+json with the request id for an unknown route', async () => {
    const res = await fetch(`${t.url}/no/such/route`, { headers: { 'x-request-id': 'req-123' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(res.headers.get('x-request-id')).toBe('req-123');
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: 404, title: 'Not Found', code: 'route_not_found', request_id: 'req-123' });
    expect(typeof body.type).toBe('string');
    expect(typeof body.detail).toBe('string');
  });

  it('generates a request id when none (or a hostile one) is sent', async () => {
    for (const sent of [undefined, 'bad id with spaces', 'x'.repeat(300)]) {
      const res = await fetch(`${t.url}/healthz`, { headers: sent ? { 'x-request-id': sent } : {} });
      expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});

describe('the route contract', () => {
  const routes = new RouteRegistry();
  const app = express();
  let base = '';
  let server: ReturnType<typeof app.listen>;
  beforeAll(async () => {
    app.use(requestContext(createLogger('test', 'silent')));
    app.use(express.json({ limit: '1kb' }));
    const router = express.Router();
    routes.add(
      router,
      {
        method: 'post',
        path: '/things/{id}',
        operationId: 'thing',
        summary: 'test route',
        tags: ['test'],
        params: z.object({ id: z.coerce.number().int().positive() }),
        query: z.object({ dry: z.enum(['yes', 'no']).optional() }),
        body: z.object({ bills: z.array(z.object({ count: z.number().int().positive() })) }),
        responses: { 201: { description: 'ok' } },
      },
      ({ params, body }) => ({ status: 201, body: { id: params.id, n: body.bills.length } }),
    );
    routes.add(
      router,
      {
        method: 'get',
        path: '/boom',
        operationId: 'boom',
        summary: 'throws',
        tags: ['test'],
        responses: {},
      },
      () => {
        throw new Error('secret internal detail');
      },
    );
    routes.add(
      router,
      {
        method: 'get',
        path: '/admin-only',
        operationId: 'adm',
        summary: 'admin',
        tags: ['test'],
        auth: 'admin',
        responses: {},
      },
      () => ({ body: {} }),
    );
    app.use(router);
    app.use(errorHandler);
    server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => {
    server.close();
  });
  const post = (path: string, body: string) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  it('passes parsed input to the handler', async () => {
    const res = await post('/things/7?dry=no', JSON.stringify({ bills: [{ count: 1 }, { count: 2 }] }));
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: 7, n: 2 });
  });

  it('answers 422 with the path of every bad field', async () => {
    const res = await post('/things/-1?dry=maybe', JSON.stringify({ bills: [{ count: 1 }, { count: 0 }] }));
    expect(res.status).toBe(422);
    const body = (await res.json()) as { errors: { path: string }[]; code: string };
    expect(body.code).toBe('validation_failed');
    expect(body.errors.map((e) => e.path).sort()).toEqual(['body.bills.1.count', 'path.id', 'query.dry']);
  });

  it('answers 400 for malformed JSON and 413 for a body over the limit', async () => {
    const bad = await post('/things/1', '{"bills": [');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('malformed_body');
    const big = await post('/things/1', JSON.stringify({ bills: Array(500).fill({ count: 1 }) }));
    expect(big.status).toBe(413);
  });

  it('answers a bare 500 that does not leak the error', async () => {
    const res = await fetch(`${base}/boom`);
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('secret internal detail');
    expect(JSON.parse(text)).toMatchObject({ status: 500, code: 'internal_error' });
  });

  it('answers 401 on an admin route without a token', async () => {
    const res = await fetch(`${base}/admin-only`);
    expect(res.status).toBe(401);
  });
});

describe('GET /metrics, /openapi.json, /docs', () => {
  it('exposes Prometheus default and HTTP metrics', async () => {
    await fetch(`${t.url}/healthz`);
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toMatch(/http_requests_total\{method="GET",route="\/healthz",status="200"\} \d+/);
  });

  it('serves an OpenAPI 3.1 document generated from the routes', async () => {
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths['/readyz']?.get?.responses ?? {})).toEqual(['200', '503']);
  });

  it('serves the docs page and its assets locally', async () => {
    const page = await fetch(`${t.url}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui-bundle.js');
    const asset = await fetch(`${t.url}/docs/assets/swagger-ui-bundle.js`);
    expect(asset.status).toBe(200);
    expect((await asset.text()).length).toBeGreaterThan(100_000);
  });
});
