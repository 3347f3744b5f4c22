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
  it('ends within 5 s of SIGTERM, exit 0, no error logged', async () => {
    const result = await startThenTerminate('api', { DATABASE_URL: database.url, PORT: '0' }, /"msg":"api listening"/);
    expect(result.errors).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.output.some((l) => l.includes('"msg":"stopped"'))).toBe(true);
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
