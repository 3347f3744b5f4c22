import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

import { apiSettingsSchema } from '@ratewire/contracts';
import { generateApiKey, insertApiKey, type ApiKeyRow } from '@ratewire/db';
import { createLogger, createRedis, parseSettings, type RedisClient } from '@ratewire/runtime';
import { createTestDatabase, serviceUrls, waitFor, type TestDatabase } from '@ratewire/testkit';

import { ApiKeyAuth } from '../src/api-keys/api-keys.auth.ts';
import { ApiKeyCache } from '../src/api-keys/api-keys.cache.ts';
import { KeyRateLimiter } from '../src/api-keys/api-keys.limiter.ts';
import { ApiKeyUses } from '../src/api-keys/api-keys.uses.ts';
import { Accounts } from '../src/auth/accounts.ts';
import { authenticate } from '../src/auth/auth.middleware.ts';
import { ChangeFeed } from '../src/auth/change-feed.ts';
import { FastLane } from '../src/cache/fast-lane.ts';
import { ResponseCache } from '../src/cache/response-cache.ts';
import { createHttpMetrics } from '../src/http/metrics.ts';
import { errorHandler } from '../src/http/problem.ts';
import { requestContext } from '../src/http/request-context.ts';
import { RouteRegistry } from '../src/http/route.ts';
import { rawGet } from './rest-support.ts';

// The fast lane on its own, built from route declarations: what it answers itself and what it
// hands to the full stack.
let redis: RedisClient;
let server: Server;
let base: string;
let cache: ResponseCache;
const handedOver: string[] = [];
const builds: string[] = [];
/** The cached read both suites serve: GET /hot, `{"a":1}`; `onBuild` is told of each build. */
function addHot(routes: RouteRegistry, router: express.Router, onBuild: () => void = () => {}): void {
  routes.add(
    router,
    {
      method: 'get',
      path: '/hot',
      operationId: 'hot',
      summary: 'hot',
      tags: [],
      cached: { family: 'currencies', key: () => 'currencies:hot' },
      responses: { 200: { description: 'ok' } },
    },
    () => {
      onBuild();
      return Promise.resolve({ data: { a: 1 }, cacheControl: 'no-cache' });
    },
  );
}

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
  addHot(routes, router, () => builds.push('/hot'));
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

  it('hands requests sent with an API key to Express when it has no key checker', async () => {
    handedOver.length = 0;
    await rawGet(`${base}/hot`, { 'x-api-key': `rw_${'a'.repeat(16)}_${'b'.repeat(43)}` });
    await rawGet(`${base}/hot`, { 'x-api-key': '' });
    expect(handedOver).toEqual(['GET /hot', 'GET /hot']);
  });

  it('hands a URL whose declared key fails to Express, and goes on serving', async () => {
    handedOver.length = 0;
    expect((await rawGet(`${base}/boom/1`)).status).toBe(500);
    expect((await rawGet(`${base}/boom/1`)).status).toBe(500);
    expect(handedOver).toEqual(['GET /boom/1', 'GET /boom/1']);
    expect((await rawGet(`${base}/hot`)).body.toString()).toBe('{"a":1}');
  });
});

// The lane with the api's real key checker (key cache on a change feed, Redis leases, accounts):
// what it answers itself for requests sent with an API key, and what it leaves to the stack.
describe('FastLane with API keys', () => {
  const LIMIT = 1000; // a lease of 10 tokens
  let database: TestDatabase;
  let keyRedis: RedisClient;
  let changes: ChangeFeed;
  let limiter: KeyRateLimiter;
  let uses: ApiKeyUses;
  let keyServer: Server;
  let url: string;
  const stack: string[] = [];
  let userId: string;
  let prefix: string;
  const key = async (scopes: string[]) => {
    const secret = generateApiKey();
    const row = (await insertApiKey(
      database.db,
      { ...secret, userId, name: 'lane', scopes, expiresAt: null },
      25,
    )) as ApiKeyRow;
    return { ...secret, row };
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    const log = createLogger('test', 'silent');
    const settings = parseSettings(apiSettingsSchema, { ...serviceUrls(), DATABASE_URL: database.url });
    keyRedis = createRedis(settings.REDIS_URL, log, 'fast-lane-keys-test');
    prefix = `rw:test:lane-keys:${Date.now()}:`;
    const store = new ResponseCache({ redis: keyRedis, prefix, log });
    const lane = new FastLane(store);
    changes = new ChangeFeed({ databaseUrl: database.url, log });
    const accounts = new Accounts({ db: database.db, changes, settings });
    limiter = new KeyRateLimiter({ redis: keyRedis, prefix, limit: LIMIT, log });
    uses = new ApiKeyUses({ db: database.db, log });
    const keys = new ApiKeyAuth({ cache: new ApiKeyCache({ db: database.db, changes }), limiter, uses, accounts });
    lane.useKeys(keys);
    const routes = new RouteRegistry({ cache: { store, lane } });
    const router = express.Router();
    addHot(routes, router);
    const app = express();
    app.use(requestContext(log));
    app.use(authenticate(accounts, keys));
    app.use(router);
    app.use(errorHandler);
    keyServer = createServer(
      lane.listener((req, res) => {
        stack.push(String(req.headers['x-api-key'] ?? req.headers.authorization ?? 'anonymous'));
        app(req, res);
      }),
    );
    changes.start();
    await waitFor(() => changes.isListening, { what: 'the change feed' });
    await new Promise<void>((r) => keyServer.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}`;
    userId = (
      await database.db
        .insertInto('users')
        .values({ email: `${Date.now()}@lane.test`, name: null, password_hash: 'x' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
  });
  afterAll(async () => {
    await new Promise((r) => keyServer?.close(r));
    await uses?.close();
    await limiter?.close();
    await changes?.close();
    keyRedis?.disconnect();
    await database?.drop();
  });

  it('answers a cached read sent with a valid read key itself, with RateLimit-* headers', async () => {
    const reader = await key(['read']);
    // the first answer with the key comes from the stack (which learns its headers from it)
    const first = await rawGet(`${url}/hot`, { 'x-api-key': reader.key });
    expect(first.status).toBe(200);
    expect(stack).toEqual([reader.key]);
    expect(first.headers['ratelimit-limit']).toBe(String(LIMIT));
    const remaining = [Number(first.headers['ratelimit-remaining'])];
    const forms: Record<string, string>[] = [{ 'x-api-key': reader.key }, { authorization: `Bearer ${reader.key}` }];
    for (const headers of forms) {
      const res = await rawGet(`${url}/hot`, headers);
      expect(res.status).toBe(200);
      expect(res.body.toString()).toBe('{"a":1}');
      expect(res.headers['ratelimit-limit']).toBe(String(LIMIT));
      expect(res.headers['ratelimit-policy']).toBe(`${LIMIT};w=60`);
      expect(res.headers['ratelimit-reset']).toMatch(/^\d+$/);
      remaining.push(Number(res.headers['ratelimit-remaining']));
    }
    expect(stack).toHaveLength(1);
    expect(remaining[1]).toBe(remaining[0]! - 1);
    expect(remaining[2]).toBe(remaining[0]! - 2);
    // what a keyed answer carried is not learned as a stack header: anonymous answers have none of it
    const anonymous = await rawGet(`${url}/hot`);
    expect(stack).toHaveLength(1);
    expect(anonymous.headers['ratelimit-limit']).toBeUndefined();
    expect(anonymous.headers['ratelimit-remaining']).toBeUndefined();
  });

  it('leaves to the stack keys it cannot admit at once: without the scope, tampered, unknown, an access token', async () => {
    const reader = await key(['read']);
    const jobsOnly = await key(['jobs']);
    await rawGet(`${url}/hot`, { 'x-api-key': reader.key });
    stack.length = 0;
    const flip = (k: string) => `${k.slice(0, -1)}${k.endsWith('A') ? 'B' : 'A'}`;
    const statuses = [];
    const cases: Record<string, string>[] = [
      { 'x-api-key': jobsOnly.key },
      { 'x-api-key': jobsOnly.key },
      { 'x-api-key': flip(reader.key) },
      { 'x-api-key': `rw_${'Z'.repeat(16)}_${'Z'.repeat(43)}` },
      { 'x-api-key': reader.key, authorization: 'Bearer something-else' },
      { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.e30.x' },
    ];
    for (const headers of cases) {
      statuses.push((await rawGet(`${url}/hot`, headers)).status);
    }
    expect(statuses).toEqual([403, 403, 401, 401, 400, 401]);
    expect(stack).toHaveLength(6);
  });

  it('stops answering a key the moment its revocation is announced', async () => {
    const reader = await key(['read']);
    await rawGet(`${url}/hot`, { 'x-api-key': reader.key });
    stack.length = 0;
    expect((await rawGet(`${url}/hot`, { 'x-api-key': reader.key })).status).toBe(200);
    expect(stack).toHaveLength(0);
    await database.db.updateTable('api_keys').set({ revoked_at: new Date() }).where('id', '=', reader.row.id).execute();
    const refused = await waitFor(async () => {
      const res = await rawGet(`${url}/hot`, { 'x-api-key': reader.key });
      return res.status === 200 ? undefined : res;
    });
    expect(refused.status).toBe(401);
    expect(stack.length).toBeGreaterThan(0);
  });

  it('spends leased tokens (max(1, limit/100) at a time) locally and tops the lease up in the background', async () => {
    const reader = await key(['read']);
    const started = Date.now();
    await rawGet(`${url}/hot`, { 'x-api-key': reader.key });
    stack.length = 0;
    const remaining: number[] = [];
    for (let i = 0; i < 25; i++) {
      const res = await rawGet(`${url}/hot`, { 'x-api-key': reader.key });
      expect(res.status).toBe(200);
      remaining.push(Number(res.headers['ratelimit-remaining']));
    }
    // every answer came from the lane, each one token less
    expect(stack).toHaveLength(0);
    expect(remaining).toEqual(remaining.map((_, i) => remaining[0]! - i));
    // the bucket in Redis gave out the 26 tokens spent and at most a lease and a half more (less what
    // it refilled meanwhile: LIMIT a minute)
    const refilled = Math.ceil(((Date.now() - started) * LIMIT) / 60_000);
    const taken = LIMIT - Number(await keyRedis.hget(`${prefix}{rl:${reader.lookup}}`, 'tokens'));
    expect(taken).toBeGreaterThanOrEqual(26 - refilled);
    expect(taken).toBeLessThanOrEqual(26 + 15);
  });
});
