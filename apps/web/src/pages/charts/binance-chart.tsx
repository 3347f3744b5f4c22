// The Binance mode of the Charts page: OHLC candles of one symbol from the price history the
// service stored from its polls (GET /api/v1/rates/binance/{symbol}/history), over a span ending
// now, in buckets of the chosen interval. The symbol, interval and span live in the URL.
import { BINANCE_HISTORY_INTERVALS, binanceHistoryResponse } from '@ratewire/contracts/rates.schemas';
import { binanceSymbol } from '@ratewire/contracts/common.schemas';
import { binancePricesResponse } from '@ratewire/contracts/binance.schemas';
import { useEffect, useMemo, useState } from 'preact/hooks';

import { Source } from '../../components/page.tsx';
import { request, urlOf } from '../../core/api.ts';
import { compareDecimals } from '../../core/decimal.ts';
import { formatDateTime, formatTime, groupDigits } from '../../core/format.ts';
import { useLoad } from '../../core/use.ts';
import { DataTable, ExportBar, ViewStatus, type View } from './chart-parts.tsx';
import { pixel, plural, type Dataset } from './dataset.ts';
import { Plot, type PlotSeries } from './plot.tsx';

export type Interval = (typeof BINANCE_HISTORY_INTERVALS)[number];

export const SPANS = { '1h': 3_600_000, '6h': 21_600_000, '24h': 86_400_000, '7d': 604_800_000, '30d': 2_592_000_000 };
export type Span = keyof typeof SPANS;
const INTERVAL_MS: Record<Interval, number> = {
  '1m': 60_000,
  '5m': 300_000,
  '15m': 900_000,
  '1h': 3_600_000,
  '1d': 86_400_000,
};
/** At most this many buckets in one chart. */
const MAX_BUCKETS = 2000;
const COLUMNS = ['t', 'open', 'high', 'low', 'close', 'count'] as const;

export interface BinanceState {
  pair: string;
  interval: Interval;
  span: Span;
}

const formatX = (x: number) => formatDateTime(new Date(x * 1000).toISOString());

const tooMany = (span: Span, interval: Interval) => SPANS[span] / INTERVAL_MS[interval] > MAX_BUCKETS;

export function BinanceChart({ state, update }: { state: BinanceState; update: (p: Partial<BinanceState>) => void }) {
  const [pair, setPair] = useState(state.pair);
  const [pairError, setPairError] = useState<string>();
  useEffect(() => setPair(state.pair), [state.pair]);
  const [symbols] = useLoad(
    (signal) => request('/api/v1/rates/binance', { schema: binancePricesResponse, signal }),
    [],
  );

  const checked = binanceSymbol.safeParse(state.pair);
  const spanError = tooMany(state.span, state.interval)
    ? `${state.span} of ${state.interval} buckets is more than ${MAX_BUCKETS} points: choose a longer interval`
    : undefined;
  const [tick, setTick] = useState(0);
  const key = JSON.stringify([state.pair, state.interval, state.span, tick]);
  const [loaded] = useLoad(
    async (signal) => {
      if (!checked.success || spanError) return { key, set: undefined };
      const to = new Date();
      const from = new Date(to.getTime() - SPANS[state.span]);
      const path = `/api/v1/rates/binance/${encodeURIComponent(checked.data)}/history`;
      const query = { from: from.toISOString(), to: to.toISOString(), interval: state.interval };
      const rows = await request(path, { query, schema: binanceHistoryResponse, signal });
      const set: Dataset = {
        label: checked.data,
        columns: COLUMNS,
        rows,
        xs: rows.map((r) => Date.parse(r.t) / 1000),
        filename: `binance-${checked.data}-${state.interval}`,
        csvUrl: urlOf(path, { ...query, format: 'csv' }),
      };
      return { key, set, from, to };
    },
    [key],
  );
  const [view, setView] = useState<View>();
  const current = loaded.state === 'ready' && loaded.value.key === key ? loaded.value : undefined;
  const set = current?.set;
  const series = useMemo((): PlotSeries[] | undefined => {
    if (!set) return undefined;
    const col = (c: string) => set.rows.map((r) => pixel(r[c]));
    return [
      {
        label: set.label,
        scale: 'y',
        kind: 'candles',
        color: '--accent',
        values: col('close'),
        ohlc: { open: col('open'), high: col('high'), low: col('low'), close: col('close') },
        rising: set.rows.map((r) => compareDecimals(String(r['close']), String(r['open'])) >= 0),
        text: (i) => {
          const r = set.rows[i];
          return r ? [String(r['open']), String(r['high']), String(r['low']), String(r['close'])] : undefined;
        },
      },
    ];
  }, [set]);

  const choose = (e: Event) => {
    e.preventDefault();
    const parsed = binanceSymbol.safeParse(pair);
    if (!parsed.success) {
      setPairError(parsed.error.issues[0]?.message ?? 'expected a Binance symbol such as BTCUSDT');
      document.getElementById('binance-pair')?.focus();
      return;
    }
    setPairError(undefined);
    update({ pair: parsed.data });
  };
  const shownPairError = pairError ?? (checked.success ? undefined : checked.error.issues[0]?.message);
  const last = set?.rows[set.rows.length - 1];

  return (
    <>
      <form class="chart-controls" onSubmit={choose} noValidate aria-label="Binance history">
        <div class="form-row">
          <div>
            <label for="binance-pair">Symbol</label>
            <input
              id="binance-pair"
              list="binance-symbols"
              value={pair}
              autoComplete="off"
              spellcheck={false}
              aria-invalid={shownPairError ? true : undefined}
              aria-describedby={shownPairError ? 'binance-pair-error' : undefined}
              onInput={(e) => setPair(e.currentTarget.value)}
            />
            <datalist id="binance-symbols">
              {symbols.state === 'ready' &&
                Object.keys(symbols.value.prices)
                  .sort()
                  .map((s) => <option key={s} value={s} />)}
            </datalist>
            {shownPairError && (
              <p id="binance-pair-error" class="field-error" role="alert">
                {shownPairError}
              </p>
            )}
          </div>
          <button type="submit">Show</button>
          <div>
            <label for="binance-interval">Interval</label>
            <select
              id="binance-interval"
              value={state.interval}
              aria-describedby={spanError ? 'binance-span-error' : undefined}
              onChange={(e) => update({ interval: e.currentTarget.value as Interval })}
            >
              {BINANCE_HISTORY_INTERVALS.map((i) => (
                <option key={i} value={i}>
                  {i}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="binance-span">Span, ending now</label>
            <select
              id="binance-span"
              value={state.span}
              aria-describedby={spanError ? 'binance-span-error' : undefined}
              onChange={(e) => update({ span: e.currentTarget.value as Span })}
            >
              {Object.keys(SPANS).map((s) => (
                <option key={s} value={s}>
                  last {s}
                </option>
              ))}
            </select>
          </div>
          <button type="button" class="secondary" onClick={() => setTick((t) => t + 1)}>
            Refresh
          </button>
        </div>
        {spanError && (
          <p id="binance-span-error" class="field-error" role="alert">
            {spanError}
          </p>
        )}
      </form>

      <div aria-live="polite">
        {checked.success && !spanError && !current && loaded.state !== 'failed' && (
          <p class="muted">Loading the history…</p>
        )}
        {loaded.state === 'failed' && (
          <p class="error" role="alert">
            The history could not be loaded: {loaded.error}
          </p>
        )}
        {set && !set.rows.length && (
          <p role="status">
            No stored price changes of {set.label} in the last {state.span}.
          </p>
        )}
      </div>

      {current && set && set.rows.length > 0 && series && (
        <>
          <Plot
            xs={set.xs as number[]}
            series={series}
            utc={false}
            xPad={INTERVAL_MS[state.interval] / 1000}
            formatX={formatX}
            yLabel="Price"
            summary={`${set.label} candles, ${state.interval} buckets over the last ${state.span}. The data table below has every bucket.`}
            onView={(min, max) => setView({ min, max })}
          />
          <ViewStatus sets={[set]} view={view} format={formatX} />
          <ExportBar sets={[set]} view={view} />
          <Source>
            Binance spot prices as this service stored them from its polls: {plural(set.rows.length, 'bucket')} of{' '}
            {state.interval} (aligned to UTC midnight) from {formatDateTime(set.rows[0]!.t as string)} to{' '}
            {formatDateTime(last!.t as string)}; last close {groupDigits(String(last!['close']))}. Loaded at{' '}
            {formatTime(current.to.toISOString())}.
          </Source>
          <DataTable set={set} caption={`${set.label}, ${state.interval} buckets, the last ${state.span}`} />
        </>
      )}
    </>
  );
}
