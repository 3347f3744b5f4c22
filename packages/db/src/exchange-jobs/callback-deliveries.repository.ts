// callback_deliveries: one row per callback to send — a job's result (created with the result) or
// an alert's firing (created with the firing, alert-events.repository.ts) — claimed when due under a
// lease, and updated with each attempt's outcome as soon as it is known, by the row's own id.
import { sql } from 'kysely';

import type { AlertFiringRow } from '../alerts/alert-events.repository.ts';
import {
  PREFIXED_FIRING_COLUMNS,
  firingFromColumns,
  type PrefixedFiringColumns,
} from '../alerts/alert-firing-columns.ts';
import type { Database } from '../pool.ts';

export interface NewDelivery {
  jobId: string;
  url: string;
  webhookId: string;
}

/** One pending delivery per job (job_id is unique: a second insert for a job is a no-op). */
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

interface DueDeliveryCommon {
  /** The delivery's own key (a job's result and an alert's firing share the table). */
  id: string;
  url: string;
  webhook_id: string;
  attempts: number;
  /** Whose webhook secret signs a callback to an address they supplied: the job's or the alert's owner. */
  user_id: string;
}

/** An exchange job's result. */
export interface DueJobDelivery extends DueDeliveryCommon {
  kind: 'job';
  job_id: string;
  request_id: string;
  breakdown: unknown;
  /** The job's own callback_url (null: the operator's EXCHANGE_CALLBACK_URL, trusted). */
  callback_url: string | null;
}

/** An alert's firing, as stored (its body is built from it when it is sent). */
export interface DueAlertDelivery extends DueDeliveryCommon {
  kind: 'alert';
  firing: AlertFiringRow;
}

export type DueDelivery = DueJobDelivery | DueAlertDelivery;

type ClaimedRow = DueDeliveryCommon & {
  job_id: string | null;
  request_id: string | null;
  breakdown: unknown;
  callback_url: string | null;
} & PrefixedFiringColumns;

/**
 * Claims up to `limit` due deliveries of either kind: their next attempt moves `leaseMs` ahead, so
 * no other worker takes them meanwhile, and a worker that dies mid-send leaves them due again after
 * the lease. One statement: the claim, and what each one delivers read beside it (the job, or the
 * firing and its alert; both cascade to their delivery, so one of the two is always there).
 */
export async function claimDueDeliveries(db: Database, limit: number, leaseMs: number): Promise<DueDelivery[]> {
  const result = await sql<ClaimedRow>`
    with due as (
      select id from callback_deliveries
      where status = 'pending' and next_attempt_at <= now()
      order by next_attempt_at
      limit ${limit}
      for update skip locked
    ), claimed as (
      update callback_deliveries d
      set next_attempt_at = now() + make_interval(secs => ${leaseMs / 1000}), updated_at = now()
      from due
      where d.id = due.id
      returning d.id, d.job_id, d.alert_event_id, d.url, d.webhook_id, d.attempts
    )
    select c.id, c.url, c.webhook_id, c.attempts, coalesce(j.user_id, e.user_id) as user_id,
           c.job_id, j.request_id, j.breakdown, j.callback_url,
           ${PREFIXED_FIRING_COLUMNS}
    from claimed c
    left join exchange_jobs j on j.id = c.job_id
    left join alert_events e on e.id = c.alert_event_id`.execute(db);
  return result.rows.map(toDue);
}

function toDue(r: ClaimedRow): DueDelivery {
  const common = { id: r.id, url: r.url, webhook_id: r.webhook_id, attempts: r.attempts, user_id: r.user_id };
  if (r.job_id !== null) {
    return {
      ...common,
      kind: 'job',
      job_id: r.job_id,
      request_id: r.request_id!,
      breakdown: r.breakdown,
      callback_url: r.callback_url,
    };
  }
  return {
    ...common,
    kind: 'alert',
    firing: firingFromColumns(r),
  };
}

export interface DeliveryOutcome {
  /** The delivery's id (DueDelivery.id). */
  id: string;
  status: 'pending' | 'delivered' | 'failed';
  httpStatus: number | null;
  error: string | null;
  /** For `pending`: delay before the next attempt. */
  retryInMs: number | null;
}

/**
 * Records attempts that ended (one, or the few that ended together) in one statement; returns the
 * attempts count per delivery id. A row no longer pending (recorded already) is left alone.
 */
export async function recordDeliveryOutcomes(db: Database, outcomes: DeliveryOutcome[]): Promise<Map<string, number>> {
  if (!outcomes.length) return new Map();
  const result = await sql<{ id: string; attempts: number }>`
    update callback_deliveries d
    set status = v.status,
        attempts = d.attempts + 1,
        last_status = v.http_status,
        last_error = v.error,
        delivered_at = case when v.status = 'delivered' then now() else d.delivered_at end,
        next_attempt_at = case when v.status = 'pending' then now() + make_interval(secs => v.retry_ms / 1000.0) end,
        updated_at = now()
    from unnest(${outcomes.map((o) => o.id)}::bigint[], ${outcomes.map((o) => o.status)}::text[],
                ${outcomes.map((o) => o.httpStatus)}::int[], ${outcomes.map((o) => o.error)}::text[],
                ${outcomes.map((o) => o.retryInMs)}::bigint[]) as v(id, status, http_status, error, retry_ms)
    where d.id = v.id and d.status = 'pending'
    returning d.id, d.attempts`.execute(db);
  return new Map(result.rows.map((r) => [r.id, r.attempts]));
}

/** Milliseconds until the earliest pending delivery is due (null when none is pending). */
export async function msUntilNextDelivery(db: Database): Promise<number | null> {
  const row = await sql<{ ms: string | null }>`
    select greatest(0, extract(epoch from (min(next_attempt_at) - now())) * 1000)::bigint as ms
    from callback_deliveries where status = 'pending'`.execute(db);
  const ms = row.rows[0]?.ms;
  return ms === null || ms === undefined ? null : Number(ms);
}
