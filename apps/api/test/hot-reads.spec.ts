import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Registry, Counter, Histogram } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger, createRedis, type Redis } from '@ratewire/core';
import { serviceUrls } from '@ratewire/testkit';

import { ResponseCache } from '../src/cache/response-cache.ts';
import { rawGet } from './rest-support.ts';

// The fast lane on its own: what it answers itself and what it hands to the full stack.
let redis: Redis;
let server: Server;
let base: string;
let cache: ResponseCache;
const handedOver: string[] = [];
const registry = new Registry();
beforeAll(async () => {
  const log = createLogger('test', 'silent');
  redis = createRedis(serviceUrls().REDIS_URL, log, 'hot-reads-test');
  cache = new ResponseCache({ redis, prefix: `rw:test:hot:${Date.now()}:`, log });
  cache.hot.add('/hot', { family: 'f', key: 'f:hot', route: '/hot' });
  new Counter({
    name: 'http_requests_total',
    help: 'x',
    labelNames: ['method', 'route', 'status'],
    registers: [registry],
  });
  new Histogram({
    name: 'http_request_duration_seconds',
    help: 'x',
    labelNames: ['method', 'route'],
    registers: [registry],
  });
  cache.hot.useMetrics(registry);
  server = createServer(
    cache.hot.listener((req, res) => {
      handedOver.push(`${req.method} ${req.url}`);
      res.setHeader('x-frame-options', 'SAMEORIGIN'); // what the stack would set
      void cache
        .get('f', 'f:hot', () => Promise.resolve({ json: '{"a":1}', cacheControl: 'no-cache' }))
        .then((e) => cache.send(req, res, e));
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  redis.disconnect();
});

describe('HotReads', () => {
  it('hands the first read to the stack, then answers hits itself with the learned headers', async () => {
    const first = await rawGet(`${base}/hot`);
    expect(handedOver).toEqual(['GET /hot']);
    const second = await rawGet(`${base}/hot`);
    expect(handedOver).toHaveLength(1);
    expect(second.body.toString()).toBe('{"a":1}');
    expect(second.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(second.headers.etag).toBe(first.headers.etag);
    expect(second.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect((await rawGet(`${base}/hot`, { 'if-none-match': first.headers.etag! })).status).toBe(304);
    const metrics = await registry.getSingleMetricAsString('http_requests_total');
    expect(metrics).toContain('http_requests_total{method="GET",route="/hot",status="200"} 1');
    expect(metrics).toContain('http_requests_total{method="GET",route="/hot",status="304"} 1');
  });

  it('hands over queries, Authorization, other methods, unknown paths and invalidated entries', async () => {
    handedOver.length = 0;
    await rawGet(`${base}/hot?x=1`);
    await rawGet(`${base}/hot`, { authorization: 'Bearer x' });
    await rawGet(`${base}/other`);
    cache.invalidate('f', 'v2');
    await rawGet(`${base}/hot`);
    expect(handedOver).toEqual(['GET /hot?x=1', 'GET /hot', 'GET /other', 'GET /hot']);
    await rawGet(`${base}/hot`);
    expect(handedOver).toHaveLength(4);
  });
});
