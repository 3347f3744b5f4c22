// Starts the api in-process on an ephemeral port over a database of its own and the real
// Redis and NATS that `npm test` runs.
import { apiSettingsSchema, type ApiSettings } from '@ratewire/contracts';
import { createLogger, createNats, createRedis, parseSettings } from '@ratewire/core';
import { createTestDatabase, serviceUrls, type TestDatabase } from '@ratewire/testkit';

import { createApi, type ApiApp } from '../src/app.ts';
import type { ApiDeps } from '../src/deps.ts';

export interface TestApi {
  url: string;
  api: ApiApp;
  deps: ApiDeps;
  database: TestDatabase;
  close(): Promise<void>;
}

export async function startTestApi(env: Record<string, string> = {}): Promise<TestApi> {
  const database = await createTestDatabase();
  const urls = serviceUrls();
  const settings: ApiSettings = parseSettings(apiSettingsSchema, {
    ...urls,
    DATABASE_URL: database.url,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const log = createLogger('api-test', settings.LOG_LEVEL);
  const redis = createRedis(settings.REDIS_URL, log, 'api-test');
  const nats = await createNats(settings.NATS_URL, log, 'api-test');
  const deps: ApiDeps = { settings, log, pool: database.pool, db: database.db, redis, nats };
  const api = createApi(deps);
  const url = await api.listen(0, '127.0.0.1');
  return {
    url,
    api,
    deps,
    database,
    async close() {
      await api.close();
      await nats.drain();
      await redis.quit();
      await database.drop();
    },
  };
}
