// The CBR mode of the Charts page: one currency's official rate over a range of days
// (GET /api/v1/rates/cbr/series), each effective date as a line or ISO weeks and months as
// candles, optionally beside a second currency on its own scale ("compare with") or expressed in
// it as a cross rate ("expressed in", the API's `base`). Every control lives in the URL.
import type { SERIES_GROUPS } from '@ratewire/contracts/rates.schemas';
import {
  cbrGroupedPoint,
  cbrSeriesPoint,
  cbrSeriesQuery,
  type CbrGroupedPoint,
  type CbrSeriesPoint,
} from '@ratewire/contracts/rates.schemas';
import { useMemo, useState } from 'preact/hooks';
import { z } from 'zod';

import { Source } from '../../components/page.tsx';
import { request, urlOf } from '../../core/api.ts';
import { compareDecimals } from '../../core/decimal.ts';
import { daysBefore } from '../../core/format.ts';
import { useLoad } from '../../core/use.ts';
import { currencyLabel, type CbrCurrencies } from '../convert/currencies.ts';
import { DataTable, ExportBar, ViewStatus, type View } from './chart-parts.tsx';
import { align, pixel, plural, type Dataset } from './dataset.ts';
import { Plot, type PlotSeries } from './plot.tsx';

export type Group = (typeof SERIES_GROUPS)[number];

export interface CbrState {
  symbol: string;
  /** The second currency, if any. */
  vs: string;
  /** How the second currency shows: its own line on its own scale, or as the unit of the first. */
  as: 'compare' | 'base';
  group: Group;
  /** Empty: the default (relative to the newest publication). */
  from: string;
  to: string;
}

const QUICK = [
  { label: '1M', days: 30, name: 'one month' },
  { label: '3M', days: 91, name: 'three months' },
  { label: '1Y', days: 365, name: 'one year' },
] as const;
const DEFAULT_DAYS = 91;

const SERIES_PATH = '/api/v1/rates/cbr/series';
const DAY_COLUMNS = ['date', 'value', 'nominal', 'unit_rate'] as const;
const GROUP_COLUMNS = ['period_start', 'period_end', 'open', 'high', 'low', 'close', 'avg', 'count'] as const;

const daySchema = z.array(cbrSeriesPoint);
const groupSchema = z.array(cbrGroupedPoint);

const dayX = (date: string) => Date.parse(`${date}T00:00:00Z`) / 1000;
export const formatDay = (x: number) => new Date(x * 1000).toISOString().slice(0, 10);

interface Loaded {
  sets: Dataset[];
  /** For each set: day points or grouped points. */
  kinds: ('day' | 'group')[];
}

async function loadSeries(
  query: { symbol: string; from: string; to: string; group: Group; base?: string | undefined },
  label: string,
  signal: AbortSignal,
): Promise<Dataset & { kind: 'day' | 'group' }> {
  const q = { ...query, group: query.group === 'day' ? undefined : query.group };
  const name = `cbr-${query.symbol}${query.base ? `-in-${query.base}` : ''}${query.group === 'day' ? '' : `-${query.group}`}-${query.from}-${query.to}`;
  const csvUrl = urlOf(SERIES_PATH, { ...q, format: 'csv' });
  if (query.group === 'day') {
    const rows: CbrSeriesPoint[] = await request(SERIES_PATH, { query: q, schema: daySchema, signal });
    return {
      kind: 'day',
      label,
      columns: DAY_COLUMNS,
      rows,
      xs: rows.map((r) => dayX(r.date)),
      filename: name,
      csvUrl,
    };
  }
  const rows: CbrGroupedPoint[] = await request(SERIES_PATH, { query: q, schema: groupSchema, signal });
  return {
    kind: 'group',
    label,
    columns: GROUP_COLUMNS,
    rows,
    xs: rows.map((r) => dayX(r.period_start)),
    filename: name,
    csvUrl,
  };
}

/** The plot's series: the first dataset on the left scale, a compared one on the right. */
function plotSeries(loaded: Loaded, xs: number[], at: (number | undefined)[][]): PlotSeries[] {
  return loaded.sets.map((set, k) => {
    const rowAt = (i: number) => {
      const r = at[k]![i];
      return r === undefined ? undefined : set.rows[r];
    };
    const scale = k === 0 ? 'y' : 'y2';
    const color = k === 0 ? '--accent' : '--warn';
    if (loaded.kinds[k] === 'day' || k > 0) {
      const column = loaded.kinds[k] === 'day' ? 'unit_rate' : 'close';
      return {
        label: set.label,
        scale,
        kind: 'line',
        color,
        values: xs.map((_, i) => pixel(rowAt(i)?.[column])),
        text: (i) => {
          const r = rowAt(i);
          return r ? [String(r[column])] : undefined;
        },
      };
    }
    const col = (c: string) => xs.map((_, i) => pixel(rowAt(i)?.[c]));
    return {
      label: set.label,
      scale,
      kind: 'candles',
      color,
      values: col('close'),
      ohlc: { open: col('open'), high: col('high'), low: col('low'), close: col('close') },
      rising: xs.map((_, i) => {
        const r = rowAt(i);
        return r ? compareDecimals(String(r['close']), String(r['open'])) >= 0 : true;
      }),
      text: (i) => {
        const r = rowAt(i);
        return r ? [String(r['open']), String(r['high']), String(r['low']), String(r['close'])] : undefined;
      },
    };
  });
}

function CodeSelect(props: {
  id: string;
  label: string;
  value: string;
  list: CbrCurrencies;
  exclude: string[];
  none?: string;
  onChange: (v: string) => void;
}) {
  const codes = props.list.codes.filter((c) => !props.exclude.includes(c) || c === props.value);
  return (
    <div>
      <label for={props.id}>{props.label}</label>
      <select id={props.id} value={props.value} onChange={(e) => props.onChange(e.currentTarget.value)}>
        {props.none !== undefined && <option value="">{props.none}</option>}
        {!codes.includes(props.value) && props.value && <option value={props.value}>{props.value}</option>}
        {codes.map((c) => (
          <option key={c} value={c}>
            {currencyLabel(props.list, c)}
          </option>
        ))}
      </select>
    </div>
  );
}

export function CbrChart({
  state,
  list,
  update,
}: {
  state: CbrState;
  list: CbrCurrencies;
  update: (patch: Partial<CbrState>) => void;
}) {
  const to = state.to || list.date;
  const from = state.from || daysBefore(to, DEFAULT_DAYS);
  const base = state.as === 'base' && state.vs ? state.vs : undefined;
  const compare = state.as === 'compare' && state.vs ? state.vs : undefined;

  // the query as the contract reads it, and what this page adds to it
  const checked = cbrSeriesQuery.safeParse({ symbol: state.symbol, from, to, group: state.group, base });
  const errors: Record<string, string> = {};
  if (!checked.success) {
    for (const issue of checked.error.issues) errors[String(issue.path[0])] ??= issue.message;
  } else if (from > to) errors['from'] = 'must not be after the last day';
  if (state.symbol === 'RUB') errors['symbol'] = 'CBR rates are in rubles: choose another currency';
  if (state.vs && state.vs === state.symbol) errors['vs'] = 'choose a currency other than the first';
  const valid = Object.keys(errors).length === 0;

  const key = JSON.stringify([state.symbol, from, to, state.group, base, compare]);
  const [loaded] = useLoad(
    async (signal): Promise<Loaded & { key: string }> => {
      if (!valid) return { key, sets: [], kinds: [] };
      const unit = base ?? 'RUB';
      const first = loadSeries(
        { symbol: state.symbol, from, to, group: state.group, base },
        `${state.symbol} in ${unit}`,
        signal,
      );
      const second = compare
        ? loadSeries({ symbol: compare, from, to, group: state.group }, `${compare} in RUB`, signal)
        : undefined;
      const sets = await Promise.all(second ? [first, second] : [first]);
      return { key, sets, kinds: sets.map((s) => s.kind) };
    },
    [key],
  );
  const [view, setView] = useState<View>();
  const current = loaded.state === 'ready' && loaded.value.key === key ? loaded.value : undefined;
  const aligned = useMemo(() => (current ? align(current.sets) : undefined), [current]);
  const series = useMemo(
    () => (current && aligned ? plotSeries(current, aligned.xs, aligned.at) : undefined),
    [current, aligned],
  );

  const range = (days: number) => update({ from: daysBefore(to, days), to: state.to });
  const fieldError = (name: string) =>
    errors[name] && (
      <p id={`cbr-${name}-error`} class="field-error" role="alert">
        {errors[name]}
      </p>
    );
  const described = (name: string) => (errors[name] ? `cbr-${name}-error` : undefined);
  const main = current?.sets[0];
  const unit = base ?? 'RUB';

  return (
    <>
      <form class="chart-controls" onSubmit={(e) => e.preventDefault()} aria-label="CBR series">
        <div class="form-row">
          <div>
            <CodeSelect
              id="cbr-symbol"
              label="Currency"
              value={state.symbol}
              list={list}
              exclude={['RUB']}
              onChange={(symbol) => update({ symbol })}
            />
            {fieldError('symbol')}
          </div>
          <div>
            <CodeSelect
              id="cbr-vs"
              label="Second currency"
              value={state.vs}
              list={list}
              exclude={['RUB', state.symbol]}
              none="None"
              onChange={(vs) => update({ vs })}
            />
            {fieldError('vs')}
          </div>
          <fieldset class="chart-as" disabled={!state.vs}>
            <legend>Show the second currency as</legend>
            <label>
              <input
                type="radio"
                name="cbr-as"
                value="compare"
                checked={state.as === 'compare'}
                onChange={() => update({ as: 'compare' })}
              />{' '}
              compare with (own scale)
            </label>
            <label>
              <input
                type="radio"
                name="cbr-as"
                value="base"
                checked={state.as === 'base'}
                onChange={() => update({ as: 'base' })}
              />{' '}
              expressed in (cross rate)
            </label>
          </fieldset>
          <div>
            <label for="cbr-group">Grouping</label>
            <select
              id="cbr-group"
              value={state.group}
              onChange={(e) => update({ group: e.currentTarget.value as Group })}
            >
              <option value="day">Each publication (day)</option>
              <option value="week">ISO week</option>
              <option value="month">Month</option>
            </select>
          </div>
        </div>
        <div class="form-row">
          <div>
            <label for="cbr-from">From</label>
            <input
              id="cbr-from"
              type="date"
              value={from}
              aria-invalid={errors['from'] ? true : undefined}
              aria-describedby={described('from')}
              onChange={(e) => update({ from: e.currentTarget.value })}
            />
            {fieldError('from')}
          </div>
          <div>
            <label for="cbr-to">To</label>
            <input
              id="cbr-to"
              type="date"
              value={to}
              aria-invalid={errors['to'] ? true : undefined}
              aria-describedby={described('to')}
              onChange={(e) => update({ to: e.currentTarget.value })}
            />
            {fieldError('to')}
          </div>
          <div class="chart-quick" role="group" aria-label="Quick ranges, ending on the last day">
            {QUICK.map((q) => (
              <button
                key={q.label}
                type="button"
                class="secondary"
                aria-pressed={from === daysBefore(to, q.days)}
                onClick={() => range(q.days)}
              >
                {q.label}
                <span class="visually-hidden"> (the last {q.name})</span>
              </button>
            ))}
          </div>
        </div>
      </form>

      <div aria-live="polite">
        {valid && !current && loaded.state !== 'failed' && <p class="muted">Loading the series…</p>}
        {loaded.state === 'failed' && (
          <p class="error" role="alert">
            The series could not be loaded: {loaded.error}
          </p>
        )}
        {current && main && !main.rows.length && (
          <p role="status">
            No CBR publication between {from} and {to}. The newest is effective {list.date}.
          </p>
        )}
      </div>

      {current && main && main.rows.length > 0 && aligned && series && (
        <>
          <Plot
            xs={aligned.xs}
            series={series}
            utc
            xPad={{ day: 1, week: 4, month: 16 }[state.group] * 86_400}
            formatX={formatDay}
            yLabel={`${unit} per 1 ${state.symbol}`}
            y2Label={compare ? `RUB per 1 ${compare}` : undefined}
            summary={`${main.label}, ${state.group === 'day' ? 'each CBR publication' : `by ${state.group}`}, ${from} to ${to}${compare ? `, compared with ${compare} on the right-hand scale` : ''}. The data table below has every point.`}
            onView={(min, max) => setView({ min, max })}
          />
          <ViewStatus sets={current.sets} view={view} format={formatDay} />
          <ExportBar sets={current.sets} view={view} />
          <Source>
            Central Bank of Russia official rates:{' '}
            {state.group === 'day'
              ? `${plural(main.rows.length, 'publication')}, effective dates ${String(main.rows[0]!['date'])} to ${String(main.rows[main.rows.length - 1]!['date'])}`
              : `${plural(main.rows.length, state.group)} from ${String(main.rows[0]!['period_start'])} to ${String(main.rows[main.rows.length - 1]!['period_end'])}, each folding the unit rates of its effective dates`}{' '}
            (asked {from} to {to}); {unit} per one unit{base ? ', cross rates through RUB, half-up to 8 places' : ''}.
            Newest publication: {list.date}.
          </Source>
          {current.sets.map((set) => (
            <DataTable
              key={set.label}
              set={set}
              caption={`${set.label}, ${state.group === 'day' ? 'each CBR publication' : `by ${state.group}`}, ${from} to ${to}`}
            />
          ))}
        </>
      )}
    </>
  );
}
