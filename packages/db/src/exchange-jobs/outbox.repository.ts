// outbox: messages committed with the rows they announce (a submitted job's jobs.submit), carried
// to JetStream by the outbox relay: claim a batch, mark what was acknowledged, prune what is past use.
import { sql } from 'kysely';

import type { Database } from '../pool.ts';

export interface OutboxRow {
  id: string;
  subject: string;
  msg_id: string;
  payload: unknown;
}

/** Unpublished rows, oldest first, skipping rows another relay holds. Call inside a transaction. */
export async function claimOutbox(trx: Database, limit: number): Promise<OutboxRow[]> {
  const result = await sql<OutboxRow>`
    select id, subject, msg_id, payload from outbox
    where published_at is null
    order by id
    limit ${limit}
    for update skip locked`.execute(trx);
  return result.rows;
}

export async function markOutboxPublished(trx: Database, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await sql`update outbox set published_at = now() where id = any(${ids}::bigint[])`.execute(trx);
}

/** Published rows past their use (JetStream holds the message now); bounded per call. */
export async function pruneOutboxPublished(db: Database, olderThanMs: number, limit = 10_000): Promise<number> {
  const result = await sql`
    delete from outbox where id in (
      select id from outbox
      where published_at is not null and published_at < now() - make_interval(secs => ${olderThanMs / 1000})
      limit ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
