// Set-up for the exchange-job and callback tests: jobs seeded straight into a test database.
import { randomUUID } from 'node:crypto';

import type { Database } from '@ratewire/db';

export async function seedUser(db: Database): Promise<string> {
  const row = await db
    .insertInto('users')
    .values({ email: `${randomUUID()}@jobs.test`, name: null, password_hash: 'x' })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export const EXAMPLE_REQUEST = {
  exchange_rate: '75.5',
  bills: [
    { denomination_id: 1, denomination: '10', count: 5 },
    { denomination_id: 2, denomination: '20', count: 3 },
  ],
};

/** Inserts queued jobs as the api would (without the outbox); returns their ids in order. */
export async function seedJobs(
  db: Database,
  userId: string,
  n: number,
  options: { callbackUrl?: string | null; request?: unknown; prefix?: string } = {},
): Promise<string[]> {
  const prefix = options.prefix ?? randomUUID();
  const rows = await db
    .insertInto('exchange_jobs')
    .values(
      Array.from({ length: n }, (_, i) => ({
        user_id: userId,
        request_id: `${prefix}-${i}`,
        body_hash: 'h',
        request: JSON.stringify({ request_id: `${prefix}-${i}`, ...((options.request as object) ?? EXAMPLE_REQUEST) }),
        currency: null,
        rate: '75.5',
        callback_url: options.callbackUrl ?? null,
      })),
    )
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}
