// One alert's firings (GET /api/v1/alerts/{id}/events), newest first as the service lists them:
// when the rate was observed, the value and the one before it (exact strings), a test firing marked
// as such, and how each channel's delivery stands. Reloaded on every firing the console hears of.
import { alertEventList, type AlertDto, type AlertEventDto } from '@ratewire/contracts/alerts.schemas';
import { useState } from 'preact/hooks';

import { LoadStatus } from '../../components/load-status.tsx';
import { Source } from '../../components/page.tsx';
import { request } from '../../core/api.ts';
import { formatDateTime, formatTime, groupDigits } from '../../core/format.ts';
import { useLoad } from '../../core/use.ts';
import { alertFirings } from './alert-toasts.tsx';
import { CHANNEL_WORDS, describeCondition, SOURCE_WORDS } from './describe.ts';

const PAGE = 50;

type Delivery = NonNullable<AlertEventDto['delivery']['ws']>;

const DELIVERY_NAMES = { nats: 'Announced', ...CHANNEL_WORDS } as const;
const STATE_WORDS = { pending: 'pending', sent: 'sent', failed: 'failed', skipped: 'skipped' } as const;

function deliveryText(d: Delivery): string {
  const parts: string[] = [STATE_WORDS[d.status]];
  if (d.attempts) parts.push(`${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`);
  if (d.last_status) parts.push(`HTTP ${d.last_status}`);
  if (d.error) parts.push(d.error);
  return parts.join(', ');
}

function Deliveries({ delivery }: { delivery: AlertEventDto['delivery'] }) {
  const entries = (Object.keys(DELIVERY_NAMES) as (keyof typeof DELIVERY_NAMES)[]).flatMap((k) => {
    const d = delivery[k];
    return d ? [[k, d] as const] : [];
  });
  return (
    <ul class="deliveries">
      {entries.map(([k, d]) => (
        <li key={k} data-channel={k} data-state={d.status}>
          <span class="delivery-name">{DELIVERY_NAMES[k]}</span>:{' '}
          <span class={`delivery-${d.status}`} title={d.at ?? undefined}>
            {deliveryText(d)}
          </span>
        </li>
      ))}
    </ul>
  );
}

export function AlertFirings({ alert, refresh }: { alert: AlertDto; refresh: number }) {
  const [limit, setLimit] = useState(PAGE);
  const firings = alertFirings.value;
  const [loaded, reload] = useLoad(
    async (signal) => {
      const list = await request(`/api/v1/alerts/${alert.id}/events`, {
        query: { limit },
        schema: alertEventList,
        signal,
      });
      return { ...list, readAt: new Date().toISOString() };
    },
    [alert.id, limit, firings, refresh, alert.fired_count],
  );
  const what = `${alert.symbol} ${describeCondition(alert.condition)}`;
  return (
    <section class="panel alert-firings" id="alert-firings" aria-labelledby="alert-firings-title">
      <h2 id="alert-firings-title" tabIndex={-1}>
        Firings of {what}
      </h2>
      <LoadStatus loaded={loaded} what="the firings" reload={reload} />
      {loaded.state === 'ready' && (
        <>
          <Source>
            Observed values are {SOURCE_WORDS[alert.source]}{' '}
            {alert.source === 'cbr' ? 'unit rates in rubles' : 'spot prices'} as stored at each observation; listed{' '}
            <time dateTime={loaded.value.readAt} title={loaded.value.readAt}>
              {formatTime(loaded.value.readAt)}
            </time>
            , and again on every firing.
          </Source>
          {loaded.value.items.length === 0 ? (
            <p>No firings yet. “Send a test firing” fires it once, marked as a test.</p>
          ) : (
            <div class="table-wrap">
              <table class="firings-table">
                <caption class="visually-hidden">Firings of {what}, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">Observed at</th>
                    <th scope="col" class="num">
                      Value
                    </th>
                    <th scope="col" class="num hide-narrow">
                      Previous
                    </th>
                    <th scope="col">Kind</th>
                    <th scope="col">Delivery</th>
                  </tr>
                </thead>
                <tbody>
                  {loaded.value.items.map((e) => (
                    <tr key={e.id} data-event={e.id} data-test={String(e.test)}>
                      <td>
                        <time dateTime={e.observed.at} title={`observed ${e.observed.at}, recorded ${e.created_at}`}>
                          {formatDateTime(e.observed.at)}
                        </time>
                      </td>
                      <td class="num observed-value">
                        {groupDigits(e.observed.value)}
                        {e.observed.change_pct !== undefined && <span class="muted"> ({e.observed.change_pct}%)</span>}
                      </td>
                      <td class="num hide-narrow">
                        {e.observed.previous === null ? <span class="muted">—</span> : groupDigits(e.observed.previous)}
                      </td>
                      <td>{e.test ? <span class="badge badge-test">Test</span> : 'Fired'}</td>
                      <td>
                        <Deliveries delivery={e.delivery} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {loaded.value.items.length >= limit && (
            <button type="button" class="secondary" onClick={() => setLimit((l) => l + PAGE)}>
              Show older firings
            </button>
          )}
        </>
      )}
    </section>
  );
}
