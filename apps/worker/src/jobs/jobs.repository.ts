// SQL for exchange jobs on the worker side, batched: one statement per step for a whole batch,
// arrays passed through unnest (one parameter per column).
import { sql } from 'kysely';

import type { Database } from '@ratewire/db';

export interface ClaimedJob {
  id: string;
  request_id: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  rate: string;
  request: unknown;
  callback_url: string | null;
  breakdown: unknown;
  total_rub: string | null;
  error: string | null;
}

/**
 * Locks the batch's jobs (in id order, so two workers holding overlapping batches cannot deadlock)
 * and returns them with their current status. Call inside the result transaction.
 */
export async function lockJobs(trx: Database, ids: string[]): Promise<ClaimedJob[]> {
  const result = await sql<ClaimedJob>`
    select id, request_id, status, rate, request, callback_url, breakdown, total_rub, error
    from exchange_jobs where id = any(${ids}::uuid[])
    order by id
    for update`.execute(trx);
  return result.rows;
}

export interface JobResult {
  id: string;
  status: 'done' | 'failed';
  breakdown: string | null;
  total: string | null;
  error: string | null;
}

/** Writes every result of the batch in one statement; the status guard keeps the first result. */
export async function storeResults(trx: Database, results: JobResult[]): Promise<string[]> {
  if (!results.length) return [];
  const written = await sql<{ id: string }>`
    update exchange_jobs j
    set status = v.status, breakdown = v.breakdown, total_rub = v.total, error = v.error,
        started_at = coalesce(j.started_at, now()), completed_at = clock_timestamp()
    from unnest(${results.map((r) => r.id)}::uuid[], ${results.map((r) => r.status)}::text[],
                ${results.map((r) => r.breakdown)}::jsonb[], ${results.map((r) => r.total)}::numeric[],
                ${results.map((r) => r.error)}::text[]) as v(id, status, breakdown, total, error)
    where j.id = v.id and j.status not in ('done', 'failed')
    returning j.id`.execute(trx);
  return written.rows.map((r) => r.id);
}

export interface NewDelivery {
  jobId: string;
  url: string;
  webhookId: string;
}

/** One pending delivery per job (job_id is the key: a second insert for a job is a no-op). */
export async function insertDeliveries(trx: Database, rows: NewDelivery[], firstDelayMs: number): Promise<void> {
  if (!rows.length) return;
  await sql`
    insert into callback_deliveries (job_id, url, webhook_id, next_attempt_at)
    select v.job_id, v.url, v.webhook_id, now() + make_interval(secs => ${firstDelayMs / 1000})
    from unnest(${rows.map((r) => r.jobId)}::uuid[], ${rows.map((r) => r.url)}::text[],
                ${rows.map((r) => r.webhookId)}::text[]) as v(job_id, url, webhook_id)
    on conflict (job_id) do nothing`.execute(trx);
}
