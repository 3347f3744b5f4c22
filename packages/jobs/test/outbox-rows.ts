// Outbox rows for the relay's tests: written as a job submit writes them, and counted while unpublished.
import { randomUUID } from 'node:crypto';

import { SUBJECTS } from '@ratewire/contracts';
import type { Database } from '@ratewire/db';

/** `n` outbox rows as a submit writes them; returns the job ids. */
export async function submitRows(db: Database, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  await db
    .insertInto('outbox')
    .values(ids.map((id) => ({ subject: SUBJECTS.jobsSubmit, msg_id: id, payload: JSON.stringify({ job_id: id }) })))
    .execute();
  return ids;
}

/** Outbox rows not marked published yet. */
export async function unpublishedRows(db: Database): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('published_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
