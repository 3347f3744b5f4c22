import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { text as readStream } from 'node:stream/consumers';

import { exchangeCalculateBody, exchangeCalculateResponse } from '@ratewire/contracts/exchange.schemas';
import {
  exchangeJobAccepted,
  exchangeJobBody,
  exchangeJobList,
  type ExchangeJobView,
} from '@ratewire/contracts/jobs.schemas';
import type { z } from 'zod';

import type { Action } from '../core/command.ts';
import { str } from '../core/options.ts';
import type { Ctx } from '../core/context.ts';
import { CliError, EXIT, usageError } from '../core/exit-codes.ts';
import { parseBillFlags, parseBillsDocument, type BillsInput } from './bills.ts';
import { followJob, getJob } from './follow.ts';

/** The contract's first issues as one usage line: `bills.0.count: must be at least 1; …`. */
function contractIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || 'body'}: ${i.message}`)
    .join('; ');
}

async function billsInput(ctx: Ctx, opts: Record<string, unknown>): Promise<BillsInput> {
  const flags = (opts['bill'] as string[] | undefined) ?? [];
  const file = str(opts['file']);
  if (flags.length > 0 && file !== undefined) throw usageError('give bills with --bill or with --file, not both');
  if (file !== undefined) {
    const name = file === '-' ? 'stdin' : file;
    if (file === '-' && ctx.io.stdin.isTTY === true)
      throw usageError(
        '--file -: stdin is a terminal',
        'pipe the bills in, e.g. `ratewire jobs submit --file - < bills.csv`',
      );
    let text: string;
    try {
      text = file === '-' ? await readStream(ctx.io.stdin) : await readFile(file, 'utf8');
    } catch (err) {
      throw usageError(`--file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    return parseBillsDocument(text, name);
  }
  if (flags.length === 0) throw usageError('no bills: give --bill DENOMINATIONxCOUNT (repeatable) or --file');
  return { bills: parseBillFlags(flags), rest: {} };
}

/** The rate part of the body: flags win over a JSON body's own fields. */
function rateFields(opts: Record<string, unknown>, rest: Record<string, unknown>): Record<string, unknown> {
  const rate = str(opts['rate']);
  const currency = str(opts['currency']);
  if (rate !== undefined && currency !== undefined) throw usageError('give exactly one of --rate or --currency');
  if (rate !== undefined) return { exchange_rate: rate };
  if (currency !== undefined) return { currency: currency.toUpperCase() };
  const { exchange_rate, currency: c } = rest;
  if (exchange_rate === undefined && c === undefined) throw usageError('give exactly one of --rate or --currency');
  return { ...(exchange_rate !== undefined ? { exchange_rate } : {}), ...(c !== undefined ? { currency: c } : {}) };
}

function breakdownText(
  ctx: Ctx,
  breakdown: readonly { denomination_id: number; subtotal_rub: string }[],
  total: string,
) {
  return (
    ctx.table(breakdown, [
      { header: 'DENOMINATION ID', value: (l) => String(l.denomination_id), align: 'right' },
      { header: 'SUBTOTAL RUB', value: (l) => l.subtotal_rub, align: 'right' },
    ]) + `Total: ${total} RUB`
  );
}

function finalText(ctx: Ctx, job: ExchangeJobView): string {
  if (job.status === 'failed') return `Job ${job.job_id} failed: ${job.error ?? 'no reason given'}`;
  const rate = `Rate: ${job.rate} RUB${job.currency ? ` per ${job.currency}` : ''}\n`;
  return rate + breakdownText(ctx, job.breakdown ?? [], job.total_rub ?? '-');
}

/** The end of a followed job: the view (or its breakdown), and exit 5 for a failure when asked. */
function finish(ctx: Ctx, job: ExchangeJobView, exitStatus: boolean): number {
  if (ctx.json) ctx.printJson(job);
  else if (job.status === 'failed') ctx.say(finalText(ctx, job));
  else ctx.print(finalText(ctx, job));
  return job.status === 'failed' && exitStatus ? EXIT.failed : EXIT.ok;
}

export const submit: Action = async (ctx, _args, opts) => {
  const input = await billsInput(ctx, opts);
  const requestId = str(opts['requestId']) ?? str(input.rest['request_id']) ?? randomUUID();
  const callback = str(opts['callbackUrl']) ?? input.rest['callback_url'];
  const body = {
    request_id: requestId,
    ...rateFields(opts, input.rest),
    bills: input.bills,
    ...(callback !== undefined ? { callback_url: callback } : {}),
  };
  const parsed = exchangeJobBody.safeParse(body);
  if (!parsed.success) throw usageError(contractIssues(parsed.error));

  const path = '/api/v1/exchange-jobs';
  const res = await ctx.api().send('POST', path, { body, auth: 'required' });
  const accepted = exchangeJobAccepted.safeParse(await res.json().catch(() => undefined));
  if (!accepted.success) throw new CliError(`unexpected answer from POST ${path}`);
  const { job_id: jobId } = accepted.data;
  ctx.io.onJob?.(jobId);
  const again = res.status === 200;
  if (!ctx.json)
    ctx.say(
      again
        ? `Job ${jobId} (the same request ${requestId} was submitted before: this is its job)`
        : `Submitted job ${jobId} (request id ${requestId}; submit again with --request-id ${requestId} to get the same job)`,
    );
  if (opts['follow'] === false) {
    if (ctx.json) ctx.printJson({ ...accepted.data, request_id: requestId });
    else ctx.print(jobId);
    return EXIT.ok;
  }
  return finish(ctx, await followJob(ctx, jobId), opts['wait'] === true);
};

export const watch: Action = async (ctx, [id], opts) => {
  // read first: an unknown job is a 404 (exit 3), and a finished one needs no socket
  const job = await getJob(ctx, String(id));
  const end = job.status === 'done' || job.status === 'failed' ? job : await followJob(ctx, job.job_id);
  return finish(ctx, end, opts['exitStatus'] === true);
};

export const get: Action = async (ctx, [id]) => {
  const job = await getJob(ctx, String(id));
  ctx.output(job, () => {
    const cb = job.callback;
    const record = ctx.record([
      ['job id', job.job_id],
      ['request id', job.request_id],
      ['status', job.status],
      ['rate', job.rate],
      ['currency', job.currency],
      ['total rub', job.total_rub],
      ['error', job.error],
      ['created', job.created_at],
      ['started', job.started_at],
      ['completed', job.completed_at],
      [
        'callback',
        cb.state === 'none' ? 'none' : `${cb.state} (${cb.attempts} attempt${cb.attempts === 1 ? '' : 's'})`,
      ],
      ...(cb.last_status !== null ? [['callback status', String(cb.last_status)] as const] : []),
      ...(cb.last_error !== null ? [['callback error', cb.last_error] as const] : []),
      ...(cb.next_attempt_at !== null ? [['next attempt', cb.next_attempt_at] as const] : []),
      ...(cb.delivered_at !== null ? [['delivered', cb.delivered_at] as const] : []),
    ]);
    return job.breakdown && job.total_rub !== null
      ? `${record}\n${breakdownText(ctx, job.breakdown, job.total_rub)}`
      : record;
  });
};

export const list: Action = async (ctx, _args, opts) => {
  const query = { limit: str(opts['limit']), offset: str(opts['offset']) };
  const path = '/api/v1/exchange-jobs';
  if (opts['csv'] === true) {
    if (opts['status'] !== undefined) throw usageError('--status cannot be combined with --csv');
    return ctx.printCsv(path, query, 'required');
  }
  const page = await ctx.api().json(exchangeJobList, 'GET', path, { query, auth: 'required' });
  const status = str(opts['status']);
  const items = status ? page.items.filter((j) => j.status === status) : page.items;
  ctx.output(status ? { ...page, items } : page, () => {
    if (items.length === 0) return status ? `No ${status} jobs on this page.` : 'No jobs yet.';
    const shown = page.offset + page.items.length;
    const more = shown < page.total ? `\n${shown} of ${page.total} jobs; see more with --offset ${shown}` : '';
    return (
      ctx
        .table(items, [
          { header: 'JOB ID', value: (j) => j.job_id },
          { header: 'STATUS', value: (j) => j.status },
          { header: 'RATE', value: (j) => j.rate, align: 'right' },
          { header: 'CURRENCY', value: (j) => j.currency },
          { header: 'TOTAL RUB', value: (j) => j.total_rub, align: 'right' },
          { header: 'CREATED', value: (j) => j.created_at },
        ])
        .trimEnd() + more
    );
  });
};

export const calculate: Action = async (ctx, _args, opts) => {
  const input = await billsInput(ctx, opts);
  const body = { ...rateFields(opts, input.rest), bills: input.bills };
  const parsed = exchangeCalculateBody.safeParse(body);
  if (!parsed.success) throw usageError(contractIssues(parsed.error));
  const out = await ctx.api().json(exchangeCalculateResponse, 'POST', '/api/v1/exchange/calculate', { body });
  ctx.output(out, () => {
    const rate = `Rate: ${out.rate} RUB${out.currency ? ` per ${out.currency}` : ''}${out.date ? ` (CBR, ${out.date})` : ''}\n`;
    return rate + breakdownText(ctx, out.breakdown, out.total_rub);
  });
};
