import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, runWithBadSettings, startThenTerminate, type TestDatabase } from '@ratewire/testkit';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database?.drop();
});

describe('worker process', () => {
  it('ends within 5 s of SIGTERM, exit 0, no error logged', async () => {
    const result = await startThenTerminate(
      'worker',
      {
        DATABASE_URL: database.url,
        HEALTH_PORT: '0',
        CBR_BASE_URL: 'http://127.0.0.1:9',
        BINANCE_BASE_URL: 'http://127.0.0.1:9',
      },
      /"msg":"worker started"/,
    );
    expect(result.errors).toEqual([]);
    expect(result.code).toBe(0);
  });

  it('refuses to start with a bad setting and names the key', async () => {
    const { code, output } = await runWithBadSettings('worker', { BINANCE_POLL_INTERVAL_MS: 'often' });
    expect(code).toBe(78);
    expect(output.join('\n')).toMatch(/invalid setting BINANCE_POLL_INTERVAL_MS/);
  });
});
