import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { createLogger, createRedis, type Redis } from '@ratewire/runtime';
import { serviceUrls } from '@ratewire/testkit';

import { FastLane } from '../src/cache/fast-lane.ts';
import { ResponseCache } from '../src/cache/response-cache.ts';
import { createHttpMetrics } from '../src/http/metrics.ts';
import { RouteRegistry } from '../src/http/route.ts';
import { rawGet } from './rest-support.ts';

// The fast lane on its own, built from route declarations: what it answers itself and what it
// hands to the full stack.
let redis: Redis;
let server: Server;
let base: string;
let cache: ResponseCache;
const handedOver: string[] = [];
const builds: string[] = [];
const metrics = createHttpMetrics();
const registry = metrics.registry;
beforeAll(async () => {
  const log = createLogger('test', 'silent');
  redis = createRedis(serviceUrls().REDIS_URL, log, 'fast-lane-test');
  cache = new ResponseCache({ redis, prefix: `rw:test:hot:${Date.now()}:`, log });
  const lane = new FastLane(cache);
  const routes = new RouteRegistry({ cache: { store: cache, lane } });
  const router = express.Router();
  const responses = { 200: { description: 'ok' } };
  routes.add(
    router,
    {
      method: 'get',
      path: '/hot',
      operationId: 'hot',
      summary: 'hot',
      tags: [],
      cached: { family: 'currencies', key: () => 'currencies:hot' },
      responses,
    },
    () => {
      builds.push('/hot');
      return Promise.resolve({ data: { a: 1 }, cacheControl: 'no-cache' });
    },
  );
  // a route mounted first wins, as in Express: /items/new is never the cached /items/{id}
  routes.add(
    router,
    { method: 'get', path: '/items/new', operationId: 'newItem', summary: 'new', tags: [], responses },
    () => ({ body: { new: true } }),
  );
  routes.add(
    router,
    {
      method: 'get',
      path: '/items/{id}',
      operationId: 'item',
      summary: 'item',
      tags: [],
      params: z.object({ id: z.string().regex(/^[a-z ]+$/) }),
      cached: { family: 'currencies', key: ({ params }) => `currencies:item:${params.id}` },
      responses,
    },
    ({ params }) => {
      builds.push(`/items/${params.id}`);
      return Promise.resolve({ data: { id: params.id }, cacheControl: 'no-cache' });
    },
  );
  lane.useMetrics(metrics.requests);
  // a declaration whose key throws: the lane must hand such URLs to Express, not crash the process
  routes.add(
    router,
    {
      method: 'get',
      path: '/boom/{id}',
      operationId: 'boom',
      summary: 'boom',
      tags: [],
      params: z.object({ id: z.string() }),
      cached: {
        family: 'currencies',
        key: () => {
          throw new Error('no key');
        },
      },
      responses,
    },
    () => Promise.resolve({ data: {}, cacheControl: 'no-cache' }),
  );
  const app = express();
  app.use(router);
  server = createServer(
    lane.listener((req, res) => {
      handedOver.push(`${req.method} ${req.url}`);
      res.setHeader('x-frame-options', 'SAMEORIGIN'); // what the stack would set
      app(req, res);
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  redis.disconnect();
});

describe('FastLane', () => {
  it('hands the first read to the stack, then answers hits itself with the learned headers', async () => {
    const first = await rawGet(`${base}/hot`);
    expect(handedOver).toEqual(['GET /hot']);
    expect(first.body.toString()).toBe('{"a":1}');
    const second = await rawGet(`${base}/hot`);
    expect(handedOver).toHaveLength(1);
    expect(second.body.toString()).toBe('{"a":1}');
    expect(second.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(second.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect((await rawGet(`${base}/hot`, { 'if-none-match': first.headers.etag! })).status).toBe(304);
    const counts = await registry.getSingleMetricAsString('http_requests_total');
    expect(counts).toContain('http_requests_total{method="GET",route="/hot",status="200"} 1');
    expect(counts).toContain('http_requests_total{method="GET",route="/hot",status="304"} 1');
    const latency = await registry.getSingleMetricAsString('http_request_duration_seconds');
    expect(latency).toContain('http_request_duration_seconds_count{method="GET",route="/hot"} 2');
    expect(latency).toMatch(/http_request_duration_seconds_bucket\{le="\+Inf",method="GET",route="\/hot"\} 2/);
    expect(builds).toEqual(['/hot']);
  });

  it('hands over queries, Authorization, other methods, unknown paths and invalidated entries', async () => {
    handedOver.length = 0;
    await rawGet(`${base}/hot?x=1`);
    await rawGet(`${base}/hot`, { authorization: 'Bearer x' });
    await rawGet(`${base}/other`);
    cache.invalidate('currencies', 'v2');
    await rawGet(`${base}/hot`);
    expect(handedOver).toEqual(['GET /hot?x=1', 'GET /hot', 'GET /other', 'GET /hot']);
    await rawGet(`${base}/hot`);
    expect(handedOver).toHaveLength(4);
  });

  it('keys a path parameter the way the route parses it, and matches routes in mounting order', async () => {
    handedOver.length = 0;
    builds.length = 0;
    expect((await rawGet(`${base}/items/a%20b`)).body.toString()).toBe('{"id":"a b"}');
    expect((await rawGet(`${base}/items/a%20b`)).body.toString()).toBe('{"id":"a b"}');
    expect(handedOver).toEqual(['GET /items/a%20b']);
    expect(builds).toEqual(['/items/a b']);
    // the earlier literal route, a case-folded literal and a parameter the schema refuses go to Express
    expect((await rawGet(`${base}/items/new`)).body.toString()).toBe('{"new":true}');
    await rawGet(`${base}/items/new`);
    await rawGet(`${base}/ITEMS/a%20b`);
    await rawGet(`${base}/items/A1`);
    await rawGet(`${base}/items/a%20b/`);
    expect(handedOver).toEqual([
      'GET /items/a%20b',
      'GET /items/new',
      'GET /items/new',
      'GET /ITEMS/a%20b',
      'GET /items/A1',
      'GET /items/a%20b/',
    ]);
    const counts = await registry.getSingleMetricAsString('http_requests_total');
    expect(counts).toContain('http_requests_total{method="GET",route="/items/:id",status="200"} 1');
  });

  it('hands a URL whose declared key fails to Express, and goes on serving', async () => {
    handedOver.length = 0;
    expect((await rawGet(`${base}/boom/1`)).status).toBe(500);
    expect((await rawGet(`${base}/boom/1`)).status).toBe(500);
    expect(handedOver).toEqual(['GET /boom/1', 'GET /boom/1']);
    expect((await rawGet(`${base}/hot`)).body.toString()).toBe('{"a":1}');
  });
});
