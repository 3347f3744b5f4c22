// The worker as a real process against a Redis and a NATS that require credentials: it logs in
// with those of REDIS_URL and NATS_URL (JetStream included), never prints them, and keeps its
// health port on loopback by default.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, spawnApp, type AppProcess, type TestDatabase } from '@ratewire/testkit';
import { startPrivateNats, startPrivateRedis, type PrivateServer } from '@ratewire/testkit/private-servers';

const REDIS_PASSWORD = 'worker-redis-secret-81fa';
const NATS_PASSWORD = 'worker-nats-secret-0b6e';

let database: TestDatabase;
let redis: PrivateServer;
let nats: PrivateServer;
let worker: AppProcess | undefined;

beforeAll(async () => {
  // one at a time, so that whatever started is closed by afterAll even when a later start fails
  redis = await startPrivateRedis({ auth: { password: REDIS_PASSWORD } });
  nats = await startPrivateNats({ auth: { user: 'worker', password: NATS_PASSWORD } });
  database = await createTestDatabase();
});
afterAll(async () => {
  if (worker && worker.child.exitCode === null) {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
  await redis?.close();
  await nats?.close();
  await database?.drop();
});

describe('worker process with credentials', () => {
  it('connects with the credentials in REDIS_URL and NATS_URL, ready on loopback, secrets never printed', async () => {
    worker = spawnApp('worker', {
      DATABASE_URL: database.url,
      REDIS_URL: redis.authUrl,
      NATS_URL: nats.authUrl,
      HEALTH_PORT: '0',
      LOG_LEVEL: 'debug',
      CBR_BASE_URL: 'http://127.0.0.1:9',
      BINANCE_BASE_URL: 'http://127.0.0.1:9',
      CBR_POLL_INTERVAL_MS: '86400000',
      BINANCE_POLL_INTERVAL_MS: '86400000',
    });
    await worker.waitForLine(/"msg":"consuming exchange jobs"/, 30_000);
    const line = await worker.waitForLine(/"msg":"worker started"/, 30_000);
    const { address, port } = (JSON.parse(line) as { health: { address: string; port: number } }).health;
    expect(address).toBe('127.0.0.1');
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    expect(ready.status).toBe(200);
    const text = worker.output.join('\n');
    expect(text).not.toContain(REDIS_PASSWORD);
    expect(text).not.toContain(NATS_PASSWORD);
  });
});
