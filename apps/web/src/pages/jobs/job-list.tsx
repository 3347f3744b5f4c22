// The signed-in user's exchange jobs, newest first, a page at a time (the API paginates with limit
// and offset): when, status, rate, total; each opens its view.
import { request } from '../../core/api.ts';
import { exchangeJobList } from '@ratewire/contracts/jobs.schemas';
import { useState } from 'preact/hooks';

import { LoadStatus } from '../../components/load-status.tsx';
import { Source } from '../../components/page.tsx';
import { formatDateTime, formatTime, groupDigits } from '../../core/format.ts';
import { Link } from '../../core/router.tsx';
import { useLoad } from '../../core/use.ts';

const PAGE = 20;

export function JobList() {
  const [offset, setOffset] = useState(0);
  const [list, reload] = useLoad(
    (signal) =>
      request('/api/v1/exchange-jobs', { query: { limit: PAGE, offset }, schema: exchangeJobList, signal }).then(
        (l) => ({ ...l, at: new Date().toISOString() }),
      ),
    [offset],
  );
  return (
    <section class="panel job-list" aria-labelledby="job-list-title">
      <h2 id="job-list-title">Your jobs</h2>
      <LoadStatus loaded={list} what="your jobs" reload={reload} />
      {list.state === 'ready' && list.value.total === 0 && <p>No jobs yet: submit one with the form.</p>}
      {list.state === 'ready' && list.value.items.length > 0 && (
        <>
          <div class="table-wrap">
            <table>
              <caption class="visually-hidden">Your exchange jobs, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Submitted</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="hide-narrow">
                    Rate
                  </th>
                  <th scope="col" class="num">
                    Total (RUB)
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.value.items.map((job) => (
                  <tr key={job.job_id} data-job-id={job.job_id}>
                    <th scope="row">
                      <Link href={`/jobs?id=${job.job_id}`} title={`Open job ${job.job_id}`}>
                        {formatDateTime(job.created_at)}
                      </Link>
                    </th>
                    <td>
                      <span class={`badge status-${job.status}`}>{job.status}</span>
                    </td>
                    <td class="hide-narrow">
                      {groupDigits(job.rate)} {job.currency ? `(${job.currency}, CBR)` : '(given)'}
                    </td>
                    <td class="num">{job.total_rub === null ? '—' : groupDigits(job.total_rub)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav class="pager" aria-label="Pages of jobs">
            <button
              type="button"
              class="secondary"
              disabled={offset === 0}
              onClick={() => setOffset(Math.max(0, offset - PAGE))}
            >
              Newer
            </button>
            <span role="status">
              Jobs {list.value.offset + 1}–{list.value.offset + list.value.items.length} of {list.value.total}
            </span>
            <button
              type="button"
              class="secondary"
              disabled={offset + PAGE >= list.value.total}
              onClick={() => setOffset(offset + PAGE)}
            >
              Older
            </button>
            <button type="button" class="secondary" onClick={reload}>
              Refresh
            </button>
          </nav>
          <Source>Read from the API at {formatTime(list.value.at)}.</Source>
        </>
      )}
    </section>
  );
}
