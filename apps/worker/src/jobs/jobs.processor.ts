// Processes a batch of exchange jobs: locks them, computes and stores every result and its pending
// callback in one transaction. A job already done or failed (a redelivery, or a worker
// that died after its commit) is left as it is, so each job gets exactly one result.
import { billsSchema } from '@ratewire/contracts';
import {
  insertCallbackDeliveries,
  lockJobs,
  storeJobResults,
  type Database,
  type JobResult,
  type NewDelivery,
} from '@ratewire/db';
import { calculateExchange } from '@ratewire/money';

import { webhookIdFor } from '../callbacks/callback.signer.ts';

export interface FinishedJob {
  id: string;
  request_id: string;
  status: 'done' | 'failed';
  total_rub?: string;
  error?: string;
}

export interface BatchOutcome {
  /** Jobs this batch finished (their result is committed). */
  finished: FinishedJob[];
  /** Jobs that were already finished before this batch (redeliveries). */
  alreadyFinished: FinishedJob[];
  /** Ids with no job row (nothing to do). */
  missing: string[];
  /** Whether any pending callback was created. */
  callbacks: number;
}

export interface ProcessorOptions {
  /** Operator default target when a job names none (trusted). */
  defaultCallbackUrl: string | undefined;
  /** Delay before the first callback attempt. */
  firstCallbackDelayMs: number;
}

function compute(job: { rate: string; request: unknown }): { breakdown: string; total: string } | { error: string } {
  const bills = billsSchema.safeParse((job.request as { bills?: unknown } | null)?.bills);
  if (!bills.success) return { error: `stored request has invalid bills: ${bills.error.issues[0]?.message ?? ''}` };
  try {
    const result = calculateExchange(job.rate, bills.data);
    return { breakdown: JSON.stringify(result.breakdown), total: result.total_rub };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

const asFinished = (j: {
  id: string;
  request_id: string;
  status: string;
  total_rub: string | null;
  error: string | null;
}) =>
  ({
    id: j.id,
    request_id: j.request_id,
    status: j.status as FinishedJob['status'],
    ...(j.total_rub !== null ? { total_rub: j.total_rub } : {}),
    ...(j.error !== null ? { error: j.error } : {}),
  }) satisfies FinishedJob;

export async function processBatch(
  db: Database,
  ids: string[],
  options: ProcessorOptions,
  onRunning?: (ids: string[]) => void,
): Promise<BatchOutcome> {
  const unique = [...new Set(ids)];
  return db.transaction().execute(async (trx) => {
    const jobs = await lockJobs(trx, unique);
    // 'running' is announced (Redis) but not written: the result follows within the same
    // transaction, and a second write per job would cost as much as the result itself
    const running = jobs.filter((j) => j.status === 'queued' || j.status === 'running').map((j) => j.id);
    if (running.length) onRunning?.(running);
    const found = new Set(jobs.map((j) => j.id));
    const missing = unique.filter((id) => !found.has(id));
    const alreadyFinished: FinishedJob[] = [];
    const results: JobResult[] = [];
    const deliveries: NewDelivery[] = [];
    const finished: FinishedJob[] = [];
    for (const job of jobs) {
      if (job.status === 'done' || job.status === 'failed') {
        alreadyFinished.push(asFinished(job));
        continue;
      }
      const out = compute(job);
      if ('error' in out) {
        results.push({ id: job.id, status: 'failed', breakdown: null, total: null, error: out.error });
        finished.push({ id: job.id, request_id: job.request_id, status: 'failed', error: out.error });
        continue;
      }
      results.push({ id: job.id, status: 'done', breakdown: out.breakdown, total: out.total, error: null });
      finished.push({ id: job.id, request_id: job.request_id, status: 'done', total_rub: out.total });
      const url = job.callback_url ?? options.defaultCallbackUrl;
      if (url) deliveries.push({ jobId: job.id, url, webhookId: webhookIdFor(job.id) });
    }
    // rows are locked, so every result above is written; the guard is a second line of defence
    const written = new Set(await storeJobResults(trx, results));
    await insertCallbackDeliveries(
      trx,
      deliveries.filter((d) => written.has(d.jobId)),
      options.firstCallbackDelayMs,
    );
    return {
      finished: finished.filter((f) => written.has(f.id)),
      alreadyFinished,
      missing,
      callbacks: deliveries.length,
    };
  });
}
