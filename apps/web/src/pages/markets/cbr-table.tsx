// The CBR part of the markets page: the latest official rates of the Central Bank of Russia with
// their effective date, read again (revalidated, not from the browser's copy) on every `rates.cbr`
// event and after a reconnect; the rows an event changed flash up or down.
import { cbrUpdatedEvent, SUBJECTS } from '@ratewire/contracts/events.schemas';
import { cbrRatesResponse } from '@ratewire/contracts/rates.schemas';
import type { WsEventFrame } from '@ratewire/contracts/ws.schemas';
import { useRef, useState } from 'preact/hooks';

import { Source } from '../../components/page.tsx';
import { ApiError, request } from '../../core/api.ts';
import { compareDecimals } from '../../core/decimal.ts';
import { formatTime, groupDigits } from '../../core/format.ts';
import { useChannel, useLoad } from '../../core/use.ts';

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'long', timeZone: 'UTC' });
const currencyNames =
  typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames(undefined, { type: 'currency' }) : null;

/** The currency's name in the reader's language (the CBR answer carries only codes). */
function nameOf(code: string): string {
  try {
    return currencyNames?.of(code) ?? code;
  } catch {
    return code;
  }
}

interface Flash {
  direction: 'up' | 'down';
  seq: number;
}

export function CbrTable() {
  const [readAt, setReadAt] = useState<string | null>(null);
  const [loaded, reload] = useLoad(async (signal) => {
    try {
      const body = await request('/api/v1/rates/cbr/latest', { schema: cbrRatesResponse, signal, cache: 'no-cache' });
      setReadAt(new Date().toISOString());
      return body;
    } catch (err) {
      // a service that has not stored a publication yet (a first start, the feed unreachable)
      if (err instanceof ApiError && err.code === 'no_cbr_rates') return null;
      throw err;
    }
  }, []);
  const [flashes, setFlashes] = useState<ReadonlyMap<string, Flash>>(new Map());
  const seq = useRef(0);

  const onEvent = (frame: WsEventFrame) => {
    if (frame.event !== SUBJECTS.ratesCbrUpdated) return;
    const parsed = cbrUpdatedEvent.safeParse(frame.data);
    if (parsed.success) {
      const next = new Map<string, Flash>();
      for (const c of parsed.data.changed) {
        const cmp = c.previous ? compareDecimals(c.unit_rate, c.previous.unit_rate) : 0;
        if (cmp !== 0) next.set(c.code, { direction: cmp > 0 ? 'up' : 'down', seq: ++seq.current });
      }
      setFlashes(next);
    } else {
      console.warn(`markets: a ${frame.event} frame (${frame.id}) does not match its contract; read the rates again`);
    }
    reload();
  };
  useChannel('rates.cbr', { event: onEvent, subscribed: (resumed) => resumed && reload(), reset: reload });

  if (loaded.state === 'loading') {
    return (
      <section class="market" aria-labelledby="cbr-title">
        <h2 id="cbr-title">Central Bank of Russia</h2>
        <p class="muted">Loading the CBR rates…</p>
      </section>
    );
  }
  if (loaded.state === 'failed') {
    return (
      <section class="market" aria-labelledby="cbr-title">
        <h2 id="cbr-title">Central Bank of Russia</h2>
        <div role="alert">
          <p class="error">The CBR rates could not be read: {loaded.error}</p>
          <button type="button" onClick={reload}>
            Try again
          </button>
        </div>
      </section>
    );
  }
  const body = loaded.value;
  if (!body) {
    return (
      <section class="market" aria-labelledby="cbr-title">
        <h2 id="cbr-title">Central Bank of Russia</h2>
        <p role="status">
          No CBR rates are stored yet: the worker has not fetched a publication (the header shows the feed's state).
          They appear here as soon as it does.
        </p>
      </section>
    );
  }
  const codes = Object.keys(body.rates).sort();
  const effective = dateFormat.format(new Date(`${body.date}T00:00:00Z`));
  return (
    <section class="market" aria-labelledby="cbr-title">
      <h2 id="cbr-title">Central Bank of Russia</h2>
      <p class="effective" data-date={body.date}>
        Official rates set by the Central Bank of Russia, in force on{' '}
        <strong>
          <time dateTime={body.date}>{effective}</time>
        </strong>
      </p>
      <Source>
        Central Bank of Russia · daily · effective date {body.date} · in {body.base} · read{' '}
        {readAt ? (
          <time dateTime={readAt} title={readAt}>
            {formatTime(readAt)}
          </time>
        ) : (
          '—'
        )}
      </Source>
      <div class="table-wrap" tabIndex={0} role="region" aria-label="CBR rates (scrollable)">
        <table class="cbr-table">
          <caption class="visually-hidden">
            CBR rates in rubles, in force on {body.date}: {codes.length} currencies
          </caption>
          <thead>
            <tr>
              <th scope="col">Code</th>
              <th scope="col">Name</th>
              <th scope="col" class="num hide-narrow">
                Nominal
              </th>
              <th scope="col" class="num hide-narrow">
                Value, {body.base}
              </th>
              <th scope="col" class="num">
                Unit rate, {body.base}
              </th>
            </tr>
          </thead>
          <tbody>
            {codes.map((code) => {
              const r = body.rates[code]!;
              const flash = flashes.get(code);
              return (
                <tr key={code} data-code={code}>
                  <th scope="row">{code}</th>
                  <td>{nameOf(code)}</td>
                  <td class="num hide-narrow">{groupDigits(String(r.nominal))}</td>
                  <td class="num hide-narrow" title={`${body.base} for ${r.nominal} ${code}`}>
                    {groupDigits(r.value)}
                  </td>
                  <td class={`num${flash ? ` ${flash.direction}` : ''}`} title={`${body.base} for 1 ${code}`}>
                    <span key={flash?.seq ?? 0} class={flash ? `flash-${flash.direction}` : undefined}>
                      {flash && <span aria-hidden="true">{flash.direction === 'up' ? '▲ ' : '▼ '}</span>}
                      {groupDigits(r.unit_rate)}
                    </span>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
