// Range reads: CBR series (day, ISO week, month; forward fill; cross rates), the CBR history export,
// fluctuation, and Binance OHLC buckets. Each streams from a Postgres cursor through the folds of
// series.ts and answers as a table (JSON, CSV or NDJSON: the route negotiates), so a range of any
// length takes the memory of one batch. A range that ends before today cannot change any more: it is
// sent with a fingerprint (the route's strong ETag) and cached as immutable.
import type { CompiledQuery } from 'kysely';

import {
  CBR_HISTORY_COLUMNS,
  binanceOhlcQuery,
  cbrEffectiveOn,
  cbrHistoryQuery,
  cbrRangeFingerprint,
  cbrSeriesQuery,
  cbrUnitRatesQuery,
  cbrUnknownCodes,
  streamRows,
  type BinanceInterval,
  type BinanceOhlcRow,
  type CbrSeriesStreamRow,
  type CbrUnitRateRow,
  type Database,
  type Pool,
} from '@ratewire/db';

import { AppError } from '../http/app-error.ts';
import type { Reply } from '../http/route.ts';
import type { Row } from '../http/tabular.ts';
import { CACHE_IMMUTABLE, CACHE_LATEST } from '../cache/cache-keys.ts';
import { CBR_FIRST_DAY, unknownSymbols } from './rates.service.ts';
import {
  ForwardFill,
  FluctuationFold,
  PeriodFold,
  addDays,
  crossRate,
  type FilledDay,
  type Fluctuation,
  type SeriesGroup,
} from './series.ts';

export const DEFAULT_RANGE_DAYS = 30;
/** Days per cursor batch of the export: with CBR's few dozen currencies a day, about as many rows as a batch of rows. */
const HISTORY_BATCH_DAYS = 50;
/**
 * Range reads streaming at once per process: each holds a pooled connection for as long as it
 * streams, so they may take half the pool (at least one) and the other reads keep the rest.
 */
export const maxStreamsFor = (pool: Pool) => Math.max(1, Math.floor((pool.options.max ?? 10) / 2));

export interface SeriesServiceDeps {
  db: Database;
  pool: Pool;
  today?: () => string;
  /** Whether a Binance symbol has a stored price (any status). */
  binanceKnown: (symbol: string) => Promise<boolean>;
  /** At most this many range reads stream at once (default: half the pool); more get 503 with Retry-After. */
  maxStreams?: number;
}

const invalid = (path: string, message: string) =>
  new AppError(422, 'validation_failed', 'the request is not valid', [{ path, message }]);

type Batches<R> = AsyncIterable<R[]>;

/** Maps each batch of cursor rows to table rows (a row may give none or several). */
async function* mapRows<R>(source: Batches<R>, map: (row: R, out: Row[]) => void, end?: (out: Row[]) => void) {
  for await (const batch of source) {
    const out: Row[] = [];
    for (const row of batch) map(row, out);
    yield out;
  }
  if (end) {
    const out: Row[] = [];
    end(out);
    if (out.length) yield out;
  }
}

export class SeriesService {
  private readonly db: Database;
  private readonly pool: Pool;
  private readonly today: () => string;
  private readonly binanceKnown: (symbol: string) => Promise<boolean>;
  private readonly maxStreams: number;
  private streaming = 0;

  constructor(deps: SeriesServiceDeps) {
    this.db = deps.db;
    this.pool = deps.pool;
    this.today = deps.today ?? (() => new Date().toISOString().slice(0, 10));
    this.binanceKnown = deps.binanceKnown;
    this.maxStreams = deps.maxStreams ?? maxStreamsFor(deps.pool);
  }

  /**
   * A query's rows from a cursor, counted against the limit from the first batch asked for to the
   * last (a HEAD or a 304 never asks, so never counts): the pool keeps connections for everything else.
   */
  private async *rows<R extends readonly unknown[]>(query: CompiledQuery, batch?: number): AsyncGenerator<R[]> {
    if (this.streaming >= this.maxStreams) {
      throw new AppError(503, 'too_many_streams', 'too many range reads are streaming; try again shortly', undefined, {
        'retry-after': '1',
      });
    }
    this.streaming += 1;
    try {
      yield* streamRows<R>(this.pool, query, batch);
    } finally {
      this.streaming -= 1;
    }
  }

  /** [from, to] with their defaults, checked. */
  private range(from: string | undefined, to: string | undefined): { from: string; to: string } {
    const last = to ?? this.today();
    const first = from ?? addDays(last, -DEFAULT_RANGE_DAYS);
    if (first > last) throw invalid('query.from', 'must not be after `to`');
    return { from: first < CBR_FIRST_DAY && last >= CBR_FIRST_DAY ? CBR_FIRST_DAY : first, to: last };
  }

  /**
   * Cache policy and fingerprint of a CBR range: a range over before today never changes. The
   * fingerprint's lookup runs beside the first rows (the answer awaits both before its headers).
   */
  private policy(identity: object, range: { from: string; to: string }): Pick<Reply, 'headers' | 'fingerprint'> {
    if (range.to >= this.today()) return { headers: { 'cache-control': CACHE_LATEST } };
    const fingerprint = cbrRangeFingerprint(this.db, range).then((data) => `${JSON.stringify(identity)}|${data}`);
    // awaited by the answer; a handler failing first must not leave it unhandled
    fingerprint.catch(() => undefined);
    return { headers: { 'cache-control': CACHE_IMMUTABLE }, fingerprint };
  }

  /** 404 naming the codes (RUB aside: it is 1 without a rate) of which no CBR rate is stored. */
  private async knownCodes(codes: (string | undefined)[]): Promise<void> {
    const named = [...new Set(codes.filter((c): c is string => c !== undefined && c !== 'RUB'))];
    const missing = await cbrUnknownCodes(this.db, named);
    if (missing.length) throw unknownSymbols('CBR currency', missing);
  }

  async cbrSeries(q: {
    symbol: string;
    from?: string | undefined;
    to?: string | undefined;
    group: SeriesGroup;
    fill?: 'forward' | undefined;
    base?: string | undefined;
  }): Promise<Reply> {
    const { from, to } = this.range(q.from, q.to);
    if (q.fill && q.group !== 'day') throw invalid('query.fill', 'applies to day series only (group=day)');
    if (q.symbol === 'RUB') throw invalid('query.symbol', 'RUB is what CBR rates are quoted in; name another currency');
    const base = q.base === 'RUB' ? undefined : q.base;
    await this.knownCodes([q.symbol, base]);
    const carryIn = q.fill === 'forward';
    const rows = this.rows<CbrSeriesStreamRow>(cbrSeriesQuery(this.db, { code: q.symbol, from, to, base, carryIn }));
    // the values of one effective date: as published, or in `base` (a date without a base rate has none)
    const values = (r: CbrSeriesStreamRow): { value: string; nominal: number; unit: string } | undefined => {
      if (!base) return { value: r[1], nominal: r[2], unit: r[3] };
      if (r[4] === null) return undefined;
      return { value: crossRate(r[1], r[4]), nominal: r[2], unit: crossRate(r[3], r[4]) };
    };
    const name = `cbr-${q.symbol}${base ? `-in-${base}` : ''}${q.group === 'day' ? '' : `-${q.group}`}-${from}-${to}`;
    const policy = this.policy(
      { op: 'cbrSeries', symbol: q.symbol, from, to, group: q.group, fill: q.fill, base },
      { from: carryIn ? CBR_FIRST_DAY : from, to },
    );

    if (q.group !== 'day') {
      const fold = new PeriodFold(q.group);
      const point = (p: ReturnType<PeriodFold['finish']>, out: Row[]) => {
        if (p) out.push([p.period_start, p.period_end, p.open, p.high, p.low, p.close, p.avg, p.count]);
      };
      return {
        ...policy,
        table: {
          columns: ['period_start', 'period_end', 'open', 'high', 'low', 'close', 'avg', 'count'],
          filename: name,
          rows: mapRows(
            rows,
            (r, out) => {
              const v = values(r);
              if (v) point(fold.push(r[0], v.unit), out);
            },
            (out) => point(fold.finish(), out),
          ),
        },
      };
    }

    if (!carryIn) {
      return {
        ...policy,
        table: {
          columns: ['date', 'value', 'nominal', 'unit_rate'],
          filename: name,
          rows: mapRows(rows, (r, out) => {
            const v = values(r);
            if (v) out.push([r[0], v.value, v.nominal, v.unit]);
          }),
        },
      };
    }

    // fill=forward: every calendar day of the range, except days after the last publication that are
    // still to come (their own rates may yet be published); a publication set in advance (tomorrow's)
    // still shows on its own date
    type DayValues = { value: string; nominal: number; unit: string };
    const fill = new ForwardFill<DayValues>(from, to, this.today());
    const days = (list: FilledDay<DayValues>[], out: Row[]) => {
      for (const d of list) out.push([d.day, d.value.value, d.value.nominal, d.value.unit, d.carried, d.effective]);
    };
    return {
      ...policy,
      table: {
        columns: ['date', 'value', 'nominal', 'unit_rate', 'carried', 'effective_date'],
        filename: `${name}-filled`,
        rows: mapRows(
          rows,
          (r, out) => {
            const v = values(r);
            if (v) days(fill.push(r[0], v), out);
          },
          (out) => days(fill.finish(), out),
        ),
      },
    };
  }

  /** Every stored rate in the range, by date then code: the export. */
  async cbrHistory(q: { from?: string | undefined; to?: string | undefined; symbols?: string[] | undefined }) {
    const { from, to } = this.range(q.from, q.to);
    if (q.symbols?.length) await this.knownCodes(q.symbols);
    const codes = q.symbols?.length ? [...q.symbols].sort() : undefined;
    const policy = this.policy({ op: 'cbrHistory', from, to, codes }, { from, to });
    return {
      ...policy,
      table: {
        columns: CBR_HISTORY_COLUMNS,
        filename: `cbr-history-${from}-${to}`,
        // the columns go out as stored: Postgres renders the rows in the answer's format, a date's per text
        rendered: (format) =>
          this.rows<[string]>(cbrHistoryQuery(this.db, { from, to, codes }, format), HISTORY_BATCH_DAYS),
      },
    } satisfies Reply;
  }

  /**
   * Each currency's start and end rates on the effective dates for `from` and `to`, its change, and
   * its lowest and highest rate in between; JSON is one object, CSV and NDJSON a row per currency.
   */
  async cbrFluctuation(q: {
    from?: string | undefined;
    to?: string | undefined;
    symbols?: string[] | undefined;
    base?: string | undefined;
  }): Promise<Reply> {
    const range = this.range(q.from, q.to);
    const base = q.base === 'RUB' ? undefined : q.base;
    await this.knownCodes([...(q.symbols ?? []), base]);
    const [start, end] = await Promise.all([cbrEffectiveOn(this.db, range.from), cbrEffectiveOn(this.db, range.to)]);
    if (!end) throw new AppError(404, 'no_cbr_rates', `no CBR rates are stored on or before ${range.to}`);
    // a range opening before any stored publication starts with the first one inside it
    const first = start ?? range.from;
    const wanted = q.symbols?.length ? new Set(q.symbols) : undefined;
    const codes = wanted ? [...wanted, ...(base ? [base] : [])].sort() : undefined;
    const fold = new FluctuationFold();
    // rows come by date: the base's rate of a date arrives among that date's rows
    let day = '';
    let pending: CbrUnitRateRow[] = [];
    const flush = () => {
      const baseUnit = base ? pending.find((r) => r[1] === base)?.[2] : '1';
      if (baseUnit !== undefined) {
        for (const r of pending) {
          if (wanted && !wanted.has(r[1])) continue;
          fold.push(r[1], base ? crossRate(r[2], baseUnit) : r[2]);
        }
        if (base && (!wanted || wanted.has('RUB'))) fold.push('RUB', crossRate('1', baseUnit));
      }
      pending = [];
    };
    for await (const batch of this.rows<CbrUnitRateRow>(cbrUnitRatesQuery(this.db, { from: first, to: end, codes }))) {
      for (const r of batch) {
        if (r[0] !== day) flush();
        day = r[0];
        pending.push(r);
      }
    }
    flush();
    const missing = q.symbols?.filter((s) => !fold.result(s)) ?? [];
    if (missing.length) throw unknownSymbols('CBR currency', missing);
    const rates: Record<string, Fluctuation> = {};
    for (const code of q.symbols?.length ? q.symbols : fold.codes()) rates[code] = fold.result(code)!;
    const baseName = base ?? 'RUB';
    const policy = this.policy(
      { op: 'cbrFluctuation', from: range.from, to: range.to, codes, base },
      { from: first, to: end },
    );
    return {
      ...policy,
      body: { from: first, to: end, base: baseName, rates },
      table: {
        columns: ['symbol', 'from', 'to', 'base', 'start_rate', 'end_rate', 'change', 'change_pct', 'min', 'max'],
        filename: `cbr-fluctuation${base ? `-in-${base}` : ''}-${range.from}-${range.to}`,
        rows: Object.entries(rates).map(([code, f]) => [
          code,
          first,
          end,
          baseName,
          f.start_rate,
          f.end_rate,
          f.change,
          f.change_pct,
          f.min,
          f.max,
        ]),
      },
    };
  }

  /** OHLC buckets of one symbol's stored price changes. */
  async binanceHistory(
    symbol: string,
    q: { from?: Date | undefined; to?: Date | undefined; interval: BinanceInterval },
  ): Promise<Reply> {
    const to = q.to ?? new Date();
    const from = q.from ?? new Date(to.getTime() - (q.interval === '1d' ? 30 : 1) * 86_400_000);
    if (from > to) throw invalid('query.from', 'must not be after `to`');
    if (!(await this.binanceKnown(symbol))) throw unknownSymbols('Binance', [symbol]);
    return {
      // stored history is trimmed by retention: never immutable
      headers: { 'cache-control': CACHE_LATEST },
      table: {
        columns: ['t', 'open', 'high', 'low', 'close', 'count'],
        filename: `binance-${symbol}-${q.interval}-${from.toISOString().slice(0, 10)}-${to.toISOString().slice(0, 10)}`,
        rows: this.rows<BinanceOhlcRow>(binanceOhlcQuery(this.db, { symbol, from, to, interval: q.interval })),
      },
    };
  }
}
