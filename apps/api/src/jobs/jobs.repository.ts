// SQL for exchange jobs on the api side: the submit (job + outbox row in one statement), reads, and
// the outbox relay's claim-and-mark.
import { sql } from 'kysely';

import { SUBJECTS } from '@ratewire/contracts';
import type { Database } from '@ratewire/db';

export interface NewJob {
  userId: string;
  requestId: string;
  bodyHash: string;
  request: unknown;
  currency: string | null;
  rate: string;
  callbackUrl: string | null;
}

export interface JobRow {
  id: string;
  user_id: string;
  request_id: string;
  body_hash: string;
  status: 'queued' | 'running' | 'done' | 'failed';
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

/** Latest CBR rate for one unit of `code` (the most recent published day), or undefined. */
export async function latestCbrUnitRate(db: Database, code: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('cbr_rates')
    .select('unit_rate')
    .where('code', '=', code)
    .orderBy('date', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.unit_rate;
}

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

export async function markPublished(trx: Database, ids: string[]): Promise<void> {
  if (!ids.length) return;
  await sql`update outbox set published_at = now() where id = any(${ids}::bigint[])`.execute(trx);
}

/** Published rows past their use (JetStream holds the message now); bounded per call. */
export async function prunePublished(db: Database, olderThanMs: number, limit = 10_000): Promise<number> {
  const result = await sql`
    delete from outbox where id in (
      select id from outbox
      where published_at is not null and published_at < now() - make_interval(secs => ${olderThanMs / 1000})
      limit ${limit})`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
