import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createTestDatabase, type TestDatabase } from '@ratewire/testkit';

import { processBatch } from '../src/jobs/jobs.processor.ts';
import { seedJobs, seedUser } from './jobs-support.ts';

let database: TestDatabase;
let userId: string;
const options = { defaultCallbackUrl: 'http://127.0.0.1:9/hook', firstCallbackDelayMs: 0 };

beforeAll(async () => {
  database = await createTestDatabase();
  userId = await seedUser(database.db);
});
afterAll(async () => {
  await database?.drop();
});

describe('processBatch', () => {
  it('computes denomination × count × rate exactly and stores the total', async () => {
    const ids = await seedJobs(database.db, userId, 1);
    const outcome = await processBatch(database.db, ids, options);
    expect(outcome.finished).toEqual([
      { id: ids[0], request_id: expect.any(String), status: 'done', total_rub: '8305.00' },
    ]);
    const row = await database.db
      .selectFrom('exchange_jobs')
      .selectAll()
      .where('id', '=', ids[0]!)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({
      status: 'done',
      total_rub: '8305.00',
      breakdown: [
        { denomination_id: 1, subtotal_rub: '3775.00' },
        { denomination_id: 2, subtotal_rub: '4530.00' },
      ],
    });
    expect(row.started_at).toBeInstanceOf(Date);
    expect(row.completed_at).toBeInstanceOf(Date);
  });

  it('rounds half-up to 2 places without floats', async () => {
    const [id] = await seedJobs(database.db, userId, 1, {
      request: { exchange_rate: '0.005', bills: [{ denomination_id: 7, denomination: '1', count: 1 }] },
    });
    await database.db.updateTable('exchange_jobs').set({ rate: '0.005' }).where('id', '=', id!).execute();
    const outcome = await processBatch(database.db, [id!], options);
    expect(outcome.finished[0]).toMatchObject({ status: 'done', total_rub: '0.01' });
  });

  it('gives each job exactly one result when the same batch is processed twice at once and again later', async () => {
    const ids = await seedJobs(database.db, userId, 200);
    const [a, b] = await Promise.all([
      processBatch(database.db, ids, options),
      processBatch(database.db, [...ids].reverse(), options),
    ]);
    const finishedIds = [...a.finished, ...b.finished].map((f) => f.id).sort();
    expect(finishedIds).toEqual([...ids].sort());
    expect(a.alreadyFinished.length + b.alreadyFinished.length).toBe(200);
    const later = await processBatch(database.db, ids, options);
    expect(later.finished).toEqual([]);
    expect(later.alreadyFinished).toHaveLength(200);
    const deliveries = await database.db
      .selectFrom('callback_deliveries')
      .select(['job_id', 'webhook_id'])
      .where('job_id', 'in', ids)
      .execute();
    expect(deliveries).toHaveLength(200);
    expect(deliveries.every((d) => d.webhook_id === `msg_${d.job_id}`)).toBe(true);
  });

  it('fails a job whose stored request is unusable and reports unknown ids', async () => {
    const [bad] = await seedJobs(database.db, userId, 1, { request: { bills: 'none' } });
    const unknown = '00000000-0000-4000-8000-000000000001';
    const outcome = await processBatch(database.db, [bad!, unknown], options);
    expect(outcome.missing).toEqual([unknown]);
    expect(outcome.finished).toEqual([expect.objectContaining({ id: bad, status: 'failed' })]);
    const row = await database.db
      .selectFrom('exchange_jobs')
      .selectAll()
      .where('id', '=', bad!)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('failed');
    expect(row.error).toMatch(/invalid bills/);
    const delivery = await database.db
      .selectFrom('callback_deliveries')
      .selectAll()
      .where('job_id', '=', bad!)
      .executeTakeFirst();
    expect(delivery).toBeUndefined();
  });
});
