import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, runWithBadSettings, startThenTerminate, type TestDatabase } from '@ratewire/testkit';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('api process', () => {
  it('drains for SHUTDOWN_DRAIN_MS, then ends within 5 s of SIGTERM, exit 0, no error logged', async () => {
    const result = await startThenTerminate(
      'api',
      { DATABASE_URL: database.url, PORT: '0', SHUTDOWN_DRAIN_MS: '500' },
      /"msg":"api listening"/,
    );
    expect(result.errors).toEqual([]);
    expect(result.code).toBe(0);
    const draining = result.output.findIndex((l) => l.includes('"msg":"draining: /readyz answers 503'));
    const stopped = result.output.findIndex((l) => l.includes('"msg":"stopped"'));
    expect(draining).toBeGreaterThanOrEqual(0);
    expect(stopped).toBeGreaterThan(draining);
  });

  it('refuses to start with a bad setting and names the key', async () => {
    const { code, output } = await runWithBadSettings('api', { PORT: 'not-a-port' });
    expect(code).toBe(78);
    expect(output.join('\n')).toMatch(/invalid setting PORT/);
  });

  it('refuses the development JWT secret when NODE_ENV=production', async () => {
    const { code, output } = await runWithBadSettings('api', { NODE_ENV: 'production', JWT_SECRET: '' });
    expect(code).toBe(78);
    expect(output.join('\n')).toMatch(/invalid setting JWT_SECRET/);
  });
});
