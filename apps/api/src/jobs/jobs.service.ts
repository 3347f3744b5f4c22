// Exchange jobs, api side: accept a job durably (job + outbox row before the reply), answer repeats
// of the same request with the same job, show a job to its owner (or an admin).
import { createHash } from 'node:crypto';

import {
  REDIS_NOTIFICATIONS,
  type ExchangeJobBody,
  type ExchangeJobView,
  type JobCallbackState,
  type NotificationMessage,
} from '@ratewire/contracts';
import {
  findJobByRequest,
  getJob,
  insertJobsWithOutbox,
  listJobs,
  rateOn,
  type Database,
  type JobRow,
} from '@ratewire/db';
import { normalize } from '@ratewire/money';
import { errorMessage, type Logger, type RedisClient } from '@ratewire/runtime';

import { AppError, notFound } from '../http/app-error.ts';
import { unknownUser } from '../auth/accounts.ts';
import type { AuthUser } from '../http/request-context.ts';
import { SubmitBatcher } from './submit.batcher.ts';

export interface JobsServiceDeps {
  db: Database;
  redis: RedisClient;
  log: Logger;
  /** Told after each accepted job so the outbox relay publishes at once. */
  onAccepted: () => void;
}

export interface Accepted {
  jobId: string;
  status: ExchangeJobView['status'];
  /** false when an earlier identical request already created the job. */
  created: boolean;
}

/** Stable JSON: object keys sorted at every level, so equal bodies hash equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hash of the body with decimals normalized: 75.5 and "75.50" are the same request. */
export function bodyHash(body: ExchangeJobBody): string {
  const normalized = {
    ...body,
    exchange_rate: body.exchange_rate === undefined ? undefined : normalize(body.exchange_rate),
    bills: body.bills.map((b) => ({ ...b, denomination: normalize(b.denomination) })),
  };
  return createHash('sha256').update(canonicalJson(normalized)).digest('hex');
}

export function createJobsService(deps: JobsServiceDeps) {
  const { db, redis, log } = deps;
  const batcher = new SubmitBatcher({ writeJobs: (jobs) => insertJobsWithOutbox(db, jobs) });
  // progress messages of one event-loop turn go to Redis in one pipeline
  let queuedNotes: string[] = [];

  async function resolveRate(body: ExchangeJobBody): Promise<string> {
    if (body.exchange_rate !== undefined) return normalize(body.exchange_rate);
    const code = body.currency!;
    // as /exchange/calculate: the newest CBR rate (rubles need none)
    const rate = (await rateOn(db, code))?.unit_rate;
    if (rate === undefined) {
      throw new AppError(422, 'validation_failed', 'the request is not valid', [
        { path: 'body.currency', message: `no CBR rate is known for ${code}` },
      ]);
    }
    return normalize(rate);
  }

  function publishQueued(jobId: string): void {
    const message: NotificationMessage = { job_id: jobId, status: 'queued' };
    queuedNotes.push(JSON.stringify(message));
    if (queuedNotes.length > 1) return;
    setImmediate(() => {
      const notes = queuedNotes;
      queuedNotes = [];
      const pipeline = redis.pipeline();
      for (const note of notes) pipeline.publish(REDIS_NOTIFICATIONS, note);
      pipeline.exec().catch((err: unknown) => {
        log.warn({ err: errorMessage(err), jobs: notes.length }, 'queued notifications not published');
      });
    });
  }

  return {
    async submit(user: AuthUser, body: ExchangeJobBody): Promise<Accepted> {
      const hash = bodyHash(body);
      // a repeat of a currency-priced request must not depend on that rate still being known
      const earlier =
        body.exchange_rate === undefined ? await findJobByRequest(db, user.id, body.request_id) : undefined;
      if (!earlier) {
        const inserted = await batcher
          .insert({
            userId: user.id,
            requestId: body.request_id,
            bodyHash: hash,
            request: body,
            currency: body.currency ?? null,
            rate: await resolveRate(body),
            callbackUrl: body.callback_url ?? null,
          })
          .catch(accountGone);
        if (inserted) {
          deps.onAccepted();
          publishQueued(inserted.id);
          return { jobId: inserted.id, status: 'queued', created: true };
        }
      }
      // the same (caller, request_id) exists, possibly created a moment ago by a concurrent request
      const job = earlier ?? (await findJobByRequest(db, user.id, body.request_id));
      if (!job) throw new Error('job vanished between insert and read');
      if (job.body_hash !== hash) {
        throw new AppError(409, 'request_id_conflict', `request_id ${body.request_id} was used with another body`);
      }
      return { jobId: job.id, status: job.status as Accepted['status'], created: false };
    },

    async get(user: AuthUser, id: string): Promise<ExchangeJobView> {
      const row = await getJob(db, id);
      // another user's job is indistinguishable from a missing one
      if (!row || (row.user_id !== user.id && user.role !== 'admin')) throw notFound('exchange job');
      return toView(row);
    },

    async list(user: AuthUser, limit: number, offset: number) {
      const { rows, total } = await listJobs(db, user.id, limit, offset);
      return { items: rows.map(toView), total, limit, offset };
    },
  };
}

export type JobsService = ReturnType<typeof createJobsService>;

/**
 * The account was deleted after its token was checked (a race of milliseconds; the check itself
 * refuses such tokens): the job's foreign key says so, and the answer is the 401 the check gives.
 */
function accountGone(err: unknown): never {
  if ((err as { code?: unknown; constraint?: unknown }).constraint === 'exchange_jobs_user_id_fkey') {
    throw unknownUser();
  }
  throw err;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function callbackState(row: JobRow): JobCallbackState {
  return {
    state: row.cb_status ?? 'none',
    attempts: row.cb_attempts ?? 0,
    next_attempt_at: row.cb_status === 'pending' ? iso(row.cb_next_attempt_at) : null,
    last_status: row.cb_last_status,
    last_error: row.cb_last_error,
    delivered_at: iso(row.cb_delivered_at),
  };
}

function toView(row: JobRow): ExchangeJobView {
  const breakdown = Array.isArray(row.breakdown)
    ? (row.breakdown as { denomination_id: number; subtotal_rub: string }[]).map((b) => ({
        denomination_id: b.denomination_id,
        subtotal_rub: b.subtotal_rub,
      }))
    : null;
  return {
    job_id: row.id,
    request_id: row.request_id,
    status: row.status,
    currency: row.currency,
    rate: normalize(row.rate),
    breakdown,
    total_rub: row.total_rub,
    error: row.error,
    created_at: row.created_at.toISOString(),
    started_at: iso(row.started_at),
    completed_at: iso(row.completed_at),
    callback: callbackState(row),
  };
}
