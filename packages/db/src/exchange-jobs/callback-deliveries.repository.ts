// callback_deliveries: one row per job whose result is sent to a callback URL; created with the
// job's result, claimed when due under a lease, and updated with each round's outcomes.
import { sql } from 'kysely';

import type { Database } from '../pool.ts';

export interface NewDelivery {
  jobId: string;
  url: string;
  webhookId: string;
}

/** One pending delivery per job (job_id is the key: a second insert for a job is a no-op). */
export async function insertCallbackDeliveries(
  trx: Database,
  rows: NewDelivery[],
  firstDelayMs: number,
): Promise<void> {
  if (!rows.length) return;
  await sql`
    insert into callback_deliveries (job_id, url, webhook_id, next_attempt_at)
    select v.job_id, v.url, v.webhook_id, now() + make_interval(secs => ${firstDelayMs / 1000})
    from unnest(${rows.map((r) => r.jobId)}::uuid[], ${rows.map((r) => r.url)}::text[],
                ${rows.map((r) => r.webhookId)}::text[]) as v(job_id, url, webhook_id)
    on conflict (job_id) do nothing`.execute(trx);
}

export interface DueDelivery {
  job_id: string;
  url: string;
  webhook_id: string;
  attempts: number;
  request_id: string;
  breakdown: unknown;
  /** The job's own callback_url (null: the operator's EXCHANGE_CALLBACK_URL, trusted). */
  callback_url: string | null;
  /** The job's owner, whose webhook secret signs a callback to its own callback_url. */
  user_id: string;
}

/**
 * Claims up to `limit` due deliveries: their next attempt moves `leaseMs` ahead, so no other worker
 * takes them meanwhile, and a worker that dies mid-send leaves them due again after the lease.
 */
export async function claimDueDeliveries(db: Database, limit: number, leaseMs: number): Promise<DueDelivery[]> {
  const result = await sql<DueDelivery>`
    with due as (
      select job_id from callback_deliveries
      where status = 'pending' and next_attempt_at <= now()
      order by next_attempt_at
      limit ${limit}
      for update skip locked
    )
    update callback_deliveries d
    set next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000}), updated_at = now()
    from due, exchange_jobs j
    where d.job_id = due.job_id and j.id = d.job_id
    returning d.job_id, d.url, d.webhook_id, d.attempts,
              j.request_id, j.breakdown, j.callback_url, j.user_id`.execute(db);
  return result.rows;
}

export interface DeliveryOutcome {
  jobId: string;
  status: 'pending' | 'delivered' | 'failed';
  httpStatus: number | null;
  error: string | null;
  /** For `pending`: delay before the next attempt. */
  retryInMs: number | null;
}

/** Records the attempts of one round in one statement; returns the attempts count per job. */
export async function recordDeliveryOutcomes(db: Database, outcomes: DeliveryOutcome[]): Promise<Map<string, number>> {
  if (!outcomes.length) return new Map();
  const result = await sql<{ job_id: string; attempts: number }>`
    update callback_deliveries d
    set status = v.status,
        attempts = d.attempts + 1,
        last_status = v.http_status,
        last_error = v.error,
        delivered_at = case when v.status = 'delivered' then now() else d.delivered_at end,
        next_attempt_at = case when v.status = 'pending' then now() + make_interval(secs => v.retry_ms / 1000.0) end,
        updated_at = now()
    from unnest(${outcomes.map((o) => o.jobId)}::uuid[], ${outcomes.map((o) => o.status)}::text[],
                ${outcomes.map((o) => o.httpStatus)}::int[], ${outcomes.map((o) => o.error)}::text[],
                ${outcomes.map((o) => o.retryInMs)}::bigint[]) as v(job_id, status, http_status, error, retry_ms)
    where d.job_id = v.job_id and d.status = 'pending'
    returning d.job_id, d.attempts`.execute(db);
  return new Map(result.rows.map((r) => [r.job_id, r.attempts]));
}

/** Milliseconds until the earliest pending delivery is due (null when none is pending). */
export async function msUntilNextDelivery(db: Database): Promise<number | null> {
  const row = await sql<{ ms: string | null }>`
    select greatest(0, extract(epoch from (min(next_attempt_at) - now())) * 1000)::bigint as ms
    from callback_deliveries where status = 'pending'`.execute(db);
  const ms = row.rows[0]?.ms;
  return ms === null || ms === undefined ? null : Number(ms);
}
