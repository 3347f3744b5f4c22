// OHLC buckets of one symbol's stored price history (changes only, trimmed by retention), compiled
// for streamRows.
import { sql, type CompiledQuery } from 'kysely';

import type { Database } from '../pool.ts';

/** Bucket widths, as Postgres intervals. */
export const BINANCE_INTERVALS = {
  '1m': '1 minute',
  '5m': '5 minutes',
  '15m': '15 minutes',
  '1h': '1 hour',
  '1d': '1 day',
} as const;
export type BinanceInterval = keyof typeof BINANCE_INTERVALS;

/** `[t, open, high, low, close, count]`; t is the bucket's start (ISO, UTC). */
export type BinanceOhlcRow = [t: string, open: string, high: string, low: string, close: string, count: number];

/**
 * One bucket per `interval` (aligned to UTC midnight) in which the price changed, over [from, to):
 * open and close are the first and last prices recorded in it, count how many were.
 */
export function binanceOhlcQuery(
  db: Database,
  q: { symbol: string; from: Date; to: Date; interval: BinanceInterval },
): CompiledQuery {
  const width = BINANCE_INTERVALS[q.interval];
  return sql`
    select to_char(b.t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), b.open, b.high, b.low, b.close, b.count
    from (
      select date_bin(${width}::interval, observed_at, timestamptz '2000-01-01 00:00:00+00') as t,
        (array_agg(price order by observed_at, id))[1] as open, max(price) as high, min(price) as low,
        (array_agg(price order by observed_at desc, id desc))[1] as close, count(*)::int as count
      from binance_price_history
      where symbol = ${q.symbol} and observed_at >= ${q.from}::timestamptz and observed_at < ${q.to}::timestamptz
      group by 1
    ) b
    order by b.t
  `.compile(db);
}

/**
 * For alerts on a % change: each symbol's price as it stood `seconds` before `at` (the last stored
 * observation at or before then), one index probe per symbol; a symbol whose history does not reach
 * back that far is absent.
 */
export async function binancePricesBefore(
  db: Database,
  symbols: readonly string[],
  at: Date,
  seconds: number,
): Promise<Map<string, string>> {
  if (!symbols.length) return new Map();
  const result = await sql<{ symbol: string; price: string }>`
    select s.symbol, h.price
    from unnest(${symbols}::text[]) as s(symbol)
    cross join lateral (
      select price from binance_price_history
      where symbol = s.symbol and observed_at <= ${at.toISOString()}::timestamptz - make_interval(secs => ${seconds})
      order by observed_at desc limit 1
    ) h`.execute(db);
  return new Map(result.rows.map((r) => [r.symbol, r.price]));
}
