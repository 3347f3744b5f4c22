// A backing service that is down is an outage, not a bug: the api answers 503 problem+json with
// Retry-After, and recovers by itself when the service returns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { problemSchema } from '@ratewire/contracts';
import { startPrivateRedis, type PrivateServer } from '@ratewire/testkit/private-servers';

import { startTestApi, type TestApi } from './harness.ts';

let redis: PrivateServer;
let t: TestApi;
beforeAll(async () => {
  redis = await startPrivateRedis();
  t = await startTestApi({ REDIS_URL: redis.url });
});
afterAll(async () => {
  await redis?.start();
  await t?.close();
  await redis?.close();
});

describe('Redis down', () => {
  it('login answers 503 with Retry-After, then works again once Redis is back', async () => {
    const user = await t.user();
    const login = () =>
      t.request('POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    expect((await login()).status).toBe(200);

    await redis.stop();
    const down = await login();
    expect(down.status).toBe(503);
    expect(down.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(down.headers.get('retry-after')).toBe('5');
    expect(problemSchema.parse(down.body)).toMatchObject({ status: 503, code: 'service_unavailable' });

    await redis.start();
    let again = await login();
    for (let i = 0; i < 50 && again.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      again = await login();
    }
    expect(again.status).toBe(200);
  });
});
