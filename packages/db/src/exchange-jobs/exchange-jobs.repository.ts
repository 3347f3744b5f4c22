// exchange_jobs: the api's submit (a job and its outbox row in one statement) and reads; the
// worker's batched result write (one statement per step for a whole batch, arrays through unnest).
import { sql } from 'kysely';

import { SUBJECTS } from '@ratewire/contracts';

import type { Database } from '../pool.ts';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface NewJob {
  userId: string;
  requestId: string;
  bodyHash: string;
  request: unknown;
  currency: string | null;
  rate: string;
  callbackUrl: string | null;
}

/** A job as its owner sees it, with the state of its callback (null columns when it has none). */
export interface JobRow {
  id: string;
  user_id: string;
  request_id: string;
  body_hash: string;
  status: JobStatus;
  currency: string | null;
  rate: string;
  breakdown: unknown;
  total_rub: string | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  cb_status: 'pending' | 'delivered' | 'failed' | null;
  cb_attempts: number | null;
  cb_next_attempt_at: Date | null;
  cb_last_status: number | null;
  cb_last_error: string | null;
  cb_delivered_at: Date | null;
}

export interface InsertedJob {
  id: string;
  user_id: string;
  request_id: string;
  status: 'queued';
}

/**
 * Inserts jobs and their outbox rows atomically: one statement, one commit for the whole batch.
 * Returns the rows actually inserted; a (user, request_id) that already exists is skipped.
 */
export async function insertJobsWithOutbox(db: Database, jobs: readonly NewJob[]): Promise<InsertedJob[]> {
  const result = await sql<InsertedJob>`
    with j as (
      insert into exchange_jobs (user_id, request_id, body_hash, request, currency, rate, callback_url)
      select * from unnest(
        ${jobs.map((j) => j.userId)}::uuid[], ${jobs.map((j) => j.requestId)}::text[],
        ${jobs.map((j) => j.bodyHash)}::text[], ${jobs.map((j) => JSON.stringify(j.request))}::jsonb[],
        ${jobs.map((j) => j.currency)}::text[], ${jobs.map((j) => j.rate)}::numeric[],
        ${jobs.map((j) => j.callbackUrl)}::text[])
      on conflict (user_id, request_id) do nothing
      returning id, user_id, request_id, status
    ), o as (
      insert into outbox (subject, msg_id, payload)
      select ${SUBJECTS.jobsSubmit}, j.id::text, jsonb_build_object('job_id', j.id) from j
    )
    select id, user_id, request_id, status from j`.execute(db);
  return result.rows;
}

export async function findJobByRequest(
  db: Database,
  userId: string,
  requestId: string,
): Promise<{ id: string; status: string; body_hash: string } | undefined> {
  return db
    .selectFrom('exchange_jobs')
    .select(['id', 'status', 'body_hash'])
    .where('user_id', '=', userId)
    .where('request_id', '=', requestId)
    .executeTakeFirst();
}

const jobColumns = sql`
  j.id, j.user_id, j.request_id, j.body_hash, j.status, j.currency, j.rate, j.breakdown, j.total_rub, j.error,
  j.created_at, j.started_at, j.completed_at,
  d.status as cb_status, d.attempts as cb_attempts, d.next_attempt_at as cb_next_attempt_at,
  d.last_status as cb_last_status, d.last_error as cb_last_error, d.delivered_at as cb_delivered_at`;

export async function getJob(db: Database, id: string): Promise<JobRow | undefined> {
  const result = await sql<JobRow>`
    select ${jobColumns}
    from exchange_jobs j left join callback_deliveries d on d.job_id = j.id
    where j.id = ${id}`.execute(db);
  return result.rows[0];
}

export async function listJobs(
  db: Database,
  userId: string,
  limit: number,
  offset: number,
): Promise<{ rows: JobRow[]; total: number }> {
  const [page, count] = await Promise.all([
    sql<JobRow>`
      select ${jobColumns}
      from exchange_jobs j left join callback_deliveries d on d.job_id = j.id
      where j.user_id = ${userId}
      order by j.created_at desc, j.id desc
      limit ${limit} offset ${offset}`.execute(db),
    db
      .selectFrom('exchange_jobs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow(),
  ]);
  return { rows: page.rows, total: Number(count.n) };
}

/** The id of the user who owns a job, or null when there is no such job. */
export async function jobOwner(db: Database, jobId: string): Promise<string | null> {
  const row = await db.selectFrom('exchange_jobs').select('user_id').where('id', '=', jobId).executeTakeFirst();
  return row?.user_id ?? null;
}

export interface ClaimedJob {
  id: string;
  request_id: string;
  status: JobStatus;
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
export async function storeJobResults(trx: Database, results: JobResult[]): Promise<string[]> {
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
