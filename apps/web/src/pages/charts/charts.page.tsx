// The Charts page: CBR official rates over days, weeks or months, and Binance price candles from
// the stored history. What is charted is all in the URL query (mode, currencies, grouping, range;
// symbol, interval, span), so a chart can be linked and reloaded; the controls replace the URL
// rather than adding history entries. uPlot loads with this page only.
import { BINANCE_HISTORY_INTERVALS, SERIES_GROUPS } from '@ratewire/contracts/rates.schemas';

import { Page } from '../../components/page.tsx';
import { navigate, route } from '../../core/router.tsx';
import { useLoad } from '../../core/use.ts';
import { cbrCurrencies } from '../convert/currencies.ts';
import { BinanceChart, SPANS, type BinanceState, type Interval, type Span } from './binance-chart.tsx';
import { CbrChart, type CbrState, type Group } from './cbr-chart.tsx';
import './charts.css';

type Mode = 'cbr' | 'binance';

const pick = <T extends string>(value: string | null, allowed: readonly T[], fallback: T): T =>
  allowed.includes(value as T) ? (value as T) : fallback;

function stateOf(search: string): { mode: Mode; cbr: CbrState; binance: BinanceState } {
  const q = new URLSearchParams(search);
  return {
    mode: pick(q.get('mode'), ['cbr', 'binance'], 'cbr'),
    cbr: {
      symbol: (q.get('symbol') ?? 'USD').toUpperCase(),
      vs: (q.get('vs') ?? '').toUpperCase(),
      as: pick(q.get('as'), ['compare', 'base'], 'compare'),
      group: pick<Group>(q.get('group'), SERIES_GROUPS, 'day'),
      from: q.get('from') ?? '',
      to: q.get('to') ?? '',
    },
    binance: {
      pair: (q.get('pair') ?? 'BTCUSDT').toUpperCase(),
      interval: pick<Interval>(q.get('interval'), BINANCE_HISTORY_INTERVALS, '15m'),
      span: pick<Span>(q.get('span'), Object.keys(SPANS) as Span[], '24h'),
    },
  };
}

/** The URL of a state: only what differs from the defaults is written. */
function urlOfState(mode: Mode, params: Record<string, string>): string {
  const q = new URLSearchParams();
  if (mode !== 'cbr') q.set('mode', mode);
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `/charts?${s}` : '/charts';
}

export default function ChartsPage() {
  const { mode, cbr, binance } = stateOf(route.value.search);
  const [currencies] = useLoad(() => cbrCurrencies(), []);

  const updateCbr = (patch: Partial<CbrState>) => {
    const next = { ...cbr, ...patch };
    navigate(
      urlOfState('cbr', {
        symbol: next.symbol === 'USD' ? '' : next.symbol,
        vs: next.vs,
        as: next.vs && next.as !== 'compare' ? next.as : '',
        group: next.group === 'day' ? '' : next.group,
        from: next.from,
        to: next.to,
      }),
      { replace: true },
    );
  };
  const updateBinance = (patch: Partial<BinanceState>) => {
    const next = { ...binance, ...patch };
    navigate(urlOfState('binance', { pair: next.pair, interval: next.interval, span: next.span }), { replace: true });
  };
  const switchTo = (m: Mode) => {
    if (m === mode) return;
    if (m === 'cbr') updateCbr({});
    else updateBinance({});
  };

  return (
    <Page
      title="Charts"
      intro="Official CBR rates over time, and Binance prices from the stored history. Drag across a chart to zoom; export what is in view as CSV."
    >
      <div class="chart-modes" role="group" aria-label="What to chart">
        <button type="button" class="secondary" aria-pressed={mode === 'cbr'} onClick={() => switchTo('cbr')}>
          CBR official rates
        </button>
        <button type="button" class="secondary" aria-pressed={mode === 'binance'} onClick={() => switchTo('binance')}>
          Binance history
        </button>
      </div>
      {mode === 'binance' ? (
        <BinanceChart state={binance} update={updateBinance} />
      ) : currencies.state === 'ready' ? (
        <CbrChart state={cbr} list={currencies.value} update={updateCbr} />
      ) : currencies.state === 'failed' ? (
        <p class="error" role="alert">
          The CBR currencies could not be loaded: {currencies.error}
        </p>
      ) : (
        <p class="muted">Loading the CBR currencies…</p>
      )}
    </Page>
  );
}
