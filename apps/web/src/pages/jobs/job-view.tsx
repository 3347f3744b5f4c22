// One exchange job (/jobs?id=…): its status live from the `jobs:<id>` channel (job.progress, then
// jobs.exchange.completed or .failed, then the callback's delivery), a progress bar with words, and
// once done the breakdown and total exactly as the API gives them, the rate used and where it came
// from, and the callback's state. The job is read over REST whenever the channel is (re)subscribed
// and after each frame that finishes something, since a job may finish before the socket subscribes.
import { callbackEvent, jobResultEvent, notificationMessage } from '@ratewire/contracts/events.schemas';
import { exchangeJobView, jobIdParams, type ExchangeJobView } from '@ratewire/contracts/jobs.schemas';
import { cbrRatesResponse } from '@ratewire/contracts/rates.schemas';
import { useEffect, useState } from 'preact/hooks';

import { LoadStatus } from '../../components/load-status.tsx';
import { Source } from '../../components/page.tsx';
import { toast } from '../../components/toasts.tsx';
import { request } from '../../core/api.ts';
import { compareDecimals } from '../../core/decimal.ts';
import { formatDateTime, groupDigits } from '../../core/format.ts';
import { connection } from '../../core/live.ts';
import { Link } from '../../core/router.tsx';
import { useChannel, useLoad } from '../../core/use.ts';
import { submitted } from './bills.ts';

type Status = ExchangeJobView['status'];
const RANK: Record<Status, number> = { queued: 0, running: 1, done: 2, failed: 2 };
const FINAL = (s: Status) => s === 'done' || s === 'failed';
/** How often the job is read again while the socket is not live and the job is not finished. */
const POLL_MS = 5000;

const STATUS_TEXT: Record<Status, string> = {
  queued: 'Queued: waiting for a worker.',
  running: 'Running: a worker is calculating.',
  done: 'Done.',
  failed: 'Failed.',
};

/** The effective date of the CBR rate the job used, when a CBR publication still shows that rate. */
function RateSource({ job }: { job: ExchangeJobView }) {
  const currency = job.currency;
  const [found] = useLoad(
    async (signal) => {
      if (!currency) return null;
      const day = job.created_at.slice(0, 10);
      for (const path of ['/api/v1/rates/cbr/latest', `/api/v1/rates/cbr/${day}`]) {
        try {
          const r = await request(path, { query: { symbols: currency }, schema: cbrRatesResponse, signal });
          const unit = r.rates[currency]?.unit_rate;
          if (unit && compareDecimals(unit, job.rate) === 0) return r.date;
        } catch {
          // the date is a courtesy: without it the source line still names the rate's origin
        }
      }
      return null;
    },
    [job.job_id, currency, job.rate],
  );
  if (!currency) return <Source>The exchange rate given with the job.</Source>;
  const date = found.state === 'ready' ? found.value : null;
  return (
    <Source>
      CBR unit rate of {currency}
      {date ? `, effective ${date}` : ''}: the newest when the job was submitted ({formatDateTime(job.created_at)}).
    </Source>
  );
}

function Breakdown({ job }: { job: ExchangeJobView }) {
  const mine = submitted.get(job.job_id);
  const lines = job.breakdown ?? [];
  // the lines follow the bills' order; a bill is matched by position when the counts agree
  const billOf = (i: number, id: number) =>
    mine && mine.bills.length === lines.length ? mine.bills[i] : mine?.bills.find((b) => b.id === id);
  return (
    <div class="table-wrap">
      <table class="breakdown">
        <caption>Breakdown</caption>
        <thead>
          <tr>
            <th scope="col">Denomination ID</th>
            {mine && <th scope="col">Bills</th>}
            <th scope="col" class="num">
              Subtotal (RUB)
            </th>
          </tr>
        </thead>
        <tbody>
          {lines.map((line, i) => {
            const bill = billOf(i, line.denomination_id);
            return (
              <tr key={i} data-line={i}>
                <th scope="row">{line.denomination_id}</th>
                {mine && <td>{bill ? `${groupDigits(bill.denomination)} × ${bill.count}` : '—'}</td>}
                <td class="num subtotal" data-value={line.subtotal_rub}>
                  {groupDigits(line.subtotal_rub)}
                </td>
              </tr>
            );
          })}
        </tbody>
        <tfoot>
          <tr>
            <th scope="row" colSpan={mine ? 2 : 1}>
              Total
            </th>
            <td class="num total" data-value={job.total_rub ?? ''}>
              <strong>{job.total_rub === null ? '—' : groupDigits(job.total_rub)}</strong>
            </td>
          </tr>
        </tfoot>
      </table>
    </div>
  );
}

function CallbackState({ job }: { job: ExchangeJobView }) {
  const cb = job.callback;
  const given = submitted.get(job.job_id)?.callback ?? false;
  if (cb.state === 'none' && !given) return null;
  const text =
    cb.state === 'delivered'
      ? `Delivered${cb.delivered_at ? ` ${formatDateTime(cb.delivered_at)}` : ''}${cb.last_status ? ` (HTTP ${cb.last_status})` : ''}, after ${cb.attempts} attempt${cb.attempts === 1 ? '' : 's'}.`
      : cb.state === 'failed'
        ? `Not delivered after ${cb.attempts} attempt${cb.attempts === 1 ? '' : 's'}${cb.last_status ? ` (last answer HTTP ${cb.last_status})` : ''}${cb.last_error ? `: ${cb.last_error}` : ''}.`
        : cb.state === 'pending'
          ? `Pending${cb.attempts ? `: ${cb.attempts} attempt${cb.attempts === 1 ? '' : 's'} so far` : ''}${cb.last_error ? ` (last: ${cb.last_error})` : ''}${cb.next_attempt_at ? `; next attempt ${formatDateTime(cb.next_attempt_at)}` : ''}.`
          : 'Waiting for the result.';
  return (
    <section aria-labelledby="callback-title">
      <h3 id="callback-title">Callback</h3>
      <p role="status" class={`callback callback-${cb.state}`} data-state={cb.state}>
        {text}
      </p>
    </section>
  );
}

function JobDetails({ job, live }: { job: ExchangeJobView; live: Status | null }) {
  const status: Status = live && RANK[live] > RANK[job.status] ? live : job.status;
  const done = status === 'done' && job.status === 'done';
  const words =
    status === 'done' && !done
      ? 'Done: reading the result…'
      : status === 'failed' && job.status !== 'failed'
        ? 'Failed: reading the details…'
        : status === 'failed'
          ? `Failed${job.error ? `: ${job.error}` : '.'}`
          : status === 'done' && job.completed_at
            ? `Done ${formatDateTime(job.completed_at)}.`
            : STATUS_TEXT[status];
  return (
    <>
      <div class="job-progress">
        <progress
          id="job-progress"
          max={1}
          value={FINAL(status) ? 1 : undefined}
          aria-labelledby="job-status"
          data-status={status}
        />
        <p id="job-status" role="status" aria-live="polite" class={`job-status job-${status}`} data-status={status}>
          <span class={`badge status-${status}`}>{status}</span> {words}
        </p>
      </div>
      <dl class="job-facts">
        <dt>Request ID</dt>
        <dd>
          <code>{job.request_id}</code>
        </dd>
        <dt>Submitted</dt>
        <dd title={job.created_at}>{formatDateTime(job.created_at)}</dd>
        {job.started_at && (
          <>
            <dt>Started</dt>
            <dd title={job.started_at}>{formatDateTime(job.started_at)}</dd>
          </>
        )}
        <dt>Rate used</dt>
        <dd>
          <span class="job-rate" data-value={job.rate}>
            {groupDigits(job.rate)}
          </span>{' '}
          RUB per {job.currency ?? 'unit'}
          <RateSource job={job} />
        </dd>
      </dl>
      {done && <Breakdown job={job} />}
      {done && (
        <Source>
          Calculated by Ratewire’s worker, completed {formatDateTime(job.completed_at ?? job.created_at)}.
        </Source>
      )}
      <CallbackState job={job} />
    </>
  );
}

export function JobView({ id }: { id: string }) {
  const valid = jobIdParams.safeParse({ id }).success;
  const [job, reload] = useLoad(
    (signal) =>
      valid
        ? request(`/api/v1/exchange-jobs/${id}`, { schema: exchangeJobView, signal })
        : Promise.reject(new Error('not a job id')),
    [id],
  );
  const [live, setLive] = useState<Status | null>(null);
  const [ignored, setIgnored] = useState(0);
  useEffect(() => setLive(null), [id]);
  useChannel(valid ? `jobs:${id}` : null, {
    event(frame) {
      if (frame.event === 'job.progress') {
        const m = notificationMessage.safeParse(frame.data);
        if (!m.success || !('job_id' in m.data) || m.data.job_id !== id) return setIgnored((n) => n + 1);
        const status = m.data.status;
        setLive((now) => (now && RANK[now] >= RANK[status] ? now : status));
        if (FINAL(status)) reload();
      } else if (frame.event === 'jobs.exchange.completed' || frame.event === 'jobs.exchange.failed') {
        const m = jobResultEvent.safeParse(frame.data);
        if (!m.success || m.data.job_id !== id) return setIgnored((n) => n + 1);
        setLive(m.data.status);
        reload();
        toast({
          title: m.data.status === 'done' ? 'Job done' : 'Job failed',
          body: m.data.total_rub ? `Total ${groupDigits(m.data.total_rub)} RUB` : (m.data.error ?? ''),
          tone: m.data.status === 'done' ? 'success' : 'error',
        });
      } else if (frame.event.startsWith('jobs.exchange.callback.')) {
        const m = callbackEvent.safeParse(frame.data);
        if (!m.success || m.data.job_id !== id) return setIgnored((n) => n + 1);
        reload();
      }
      return undefined;
    },
    subscribed: () => reload(),
    reset: () => reload(),
  });
  // without the socket, the job is read every few seconds until it is finished
  const conn = connection.value.state;
  const current = job.state === 'ready' ? job.value : null;
  const unfinished = current ? !FINAL(current.status) || current.callback.state === 'pending' : false;
  useEffect(() => {
    if (conn === 'live' || !unfinished) return undefined;
    const t = setInterval(reload, POLL_MS);
    return () => clearInterval(t);
  }, [conn, unfinished]);
  return (
    <section class="panel job-view" aria-labelledby="job-title">
      <p>
        <Link href="/jobs">← All jobs and a new one</Link>
      </p>
      <h2 id="job-title">
        Job <code>{id.slice(0, 8)}</code>
      </h2>
      {!valid && (
        <p role="alert" class="error">
          “{id}” is not a job id.
        </p>
      )}
      {valid && <LoadStatus loaded={job} what="the job" reload={reload} />}
      {current && <JobDetails job={current} live={live} />}
      {ignored > 0 && (
        <p class="hint">
          {ignored} live message{ignored === 1 ? '' : 's'} for this job did not match the contract and were ignored.
        </p>
      )}
    </section>
  );
}
