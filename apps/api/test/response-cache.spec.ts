// The response cache's memory: its keys come from requests (list pages, CBR days), so it must hold
// a bounded number of entries however many distinct reads arrive between two invalidations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLogger, createRedis, type RedisClient } from '@ratewire/runtime';
import { startPrivateRedis, type PrivateServer } from '@ratewire/testkit/private-servers';

import { ResponseCache } from '../src/cache/response-cache.ts';

const log = createLogger('test', 'silent');
let server: PrivateServer;
let redis: RedisClient;

beforeAll(async () => {
  server = await startPrivateRedis();
  redis = createRedis(server.url, log, 'response-cache-test');
});
afterAll(async () => {
  redis?.disconnect();
  await server?.close();
});

const page = (cache: ResponseCache, offset: number) =>
  cache.get(
    'currencies',
    `currencies:list:100:${offset}`,
    () => Promise.resolve({ json: `{"items":[],"offset":${offset}}`, cacheControl: 'no-cache' }),
    { shared: false },
  );

describe('ResponseCache', () => {
  it('holds at most maxEntries, dropping the oldest built first', async () => {
    const cache = new ResponseCache({ redis, prefix: 'rw:test:bound:', log, maxEntries: 50 });
    for (let offset = 0; offset < 500; offset++) await page(cache, offset);
    expect(cache.size).toBe(50);
    expect(cache.peek('currencies', 'currencies:list:100:499')).toBeDefined();
    expect(cache.peek('currencies', 'currencies:list:100:449')).toBeUndefined();
  });

  it('is bounded by default: distinct pages read without any write do not grow it past 2000', async () => {
    const cache = new ResponseCache({ redis, prefix: 'rw:test:bound-default:', log });
    for (let offset = 0; offset < 2500; offset++) await page(cache, offset);
    expect(cache.size).toBe(2000);
  });
});
