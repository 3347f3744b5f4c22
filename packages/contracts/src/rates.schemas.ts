// REST rate reads: CBR (latest, by date, series), Binance latest prices, conversion through RUB.
import { z } from 'zod';

import { binanceSymbol, commaList, currencyCode, decimalInput, decimalString, isoDate } from './common.schemas.ts';
import { text } from './text.schemas.ts';

export const cbrRate = z
  .object({
    value: decimalString.meta({ description: 'Rubles for `nominal` units' }),
    nominal: z.number().int(),
    unit_rate: decimalString.meta({ description: 'Rubles for one unit' }),
  })
  .meta({ id: 'CbrRate' });

export const cbrRatesResponse = z
  .object({
    date: isoDate.meta({ description: 'Effective date: the CBR publication in force' }),
    requested: isoDate.optional().meta({ description: 'The day asked for (by-date reads)' }),
    base: z.string().meta({ description: 'The currency the values are in: RUB, or the `base` asked for' }),
    rates: z.record(z.string(), cbrRate),
  })
  .meta({ id: 'CbrRates' });

const baseParam = currencyCode.optional().meta({
  description:
    'Express values in this currency instead of rubles: cross rates through RUB, half-up to 8 places ' +
    '(as /convert’s rate); `base` itself is 1, and RUB is listed',
});

export const cbrLatestQuery = z.object({
  symbols: commaList(currencyCode).optional().meta({ description: 'Comma-separated codes, e.g. USD,EUR' }),
  base: baseParam,
});

export const cbrDateParams = z.object({ date: isoDate });

export const SERIES_GROUPS = ['day', 'week', 'month'] as const;

export const cbrSeriesQuery = z.object({
  symbol: currencyCode,
  from: isoDate.optional().meta({ description: 'First day (default: 30 days before `to`)' }),
  to: isoDate.optional().meta({ description: 'Last day (default: today, UTC)' }),
  group: z
    .enum(SERIES_GROUPS, { message: 'expected day, week or month' })
    .default('day')
    .meta({ description: 'day (each effective date), week (ISO week, Monday to Sunday) or month (calendar month)' }),
  fill: z
    .enum(['forward'], { message: "expected 'forward'" })
    .optional()
    .meta({ description: 'forward: day series get every calendar day, the days between publications `carried`' }),
  base: baseParam,
});

export const cbrSeriesPoint = z
  .object({
    date: isoDate,
    value: decimalString.meta({ description: 'Rates for `nominal` units (in rubles, or in `base`)' }),
    nominal: z.number().int(),
    unit_rate: decimalString,
    carried: z.boolean().optional().meta({ description: 'With fill=forward: a day without a publication of its own' }),
    effective_date: isoDate.optional().meta({ description: 'With fill=forward: the publication the values come from' }),
  })
  .meta({ id: 'CbrSeriesPoint' });

export const cbrGroupedPoint = z
  .object({
    period_start: isoDate.meta({ description: 'Monday of the ISO week, or the 1st of the month' }),
    period_end: isoDate.meta({ description: 'Sunday of the ISO week, or the last day of the month' }),
    open: decimalString.meta({ description: 'Unit rate of the first effective date in the period' }),
    high: decimalString,
    low: decimalString,
    close: decimalString.meta({ description: 'Unit rate of the last effective date in the period' }),
    avg: decimalString.meta({
      description: 'Exact mean of the unit rates, half-up to the longest of them in places + 4',
    }),
    count: z.number().int().meta({ description: 'Effective dates inside the period' }),
  })
  .meta({ id: 'CbrGroupedPoint' });

export const cbrSeriesResponse = z
  .union([z.array(cbrSeriesPoint), z.array(cbrGroupedPoint)])
  .meta({ id: 'CbrSeries', description: 'Day points (group=day), or grouped points (week, month); oldest first' });

export const cbrHistoryQuery = z.object({
  from: isoDate.optional().meta({ description: 'First day (default: 30 days before `to`)' }),
  to: isoDate.optional().meta({ description: 'Last day (default: today, UTC)' }),
  symbols: commaList(currencyCode).optional().meta({ description: 'Comma-separated codes; all when absent' }),
});

export const cbrHistoryRow = z
  .object({
    date: isoDate,
    code: z.string(),
    nominal: z.number().int(),
    value: decimalString,
    unit_rate: decimalString,
  })
  .meta({ id: 'CbrHistoryRow' });
export const cbrHistoryResponse = z.array(cbrHistoryRow).meta({ id: 'CbrHistory' });

export const cbrFluctuationQuery = z.object({
  from: isoDate.optional().meta({ description: 'First day (default: 30 days before `to`)' }),
  to: isoDate.optional().meta({ description: 'Last day (default: today, UTC)' }),
  symbols: commaList(currencyCode).optional().meta({ description: 'Comma-separated codes; all when absent' }),
  base: baseParam,
});

export const cbrFluctuation = z
  .object({
    start_rate: decimalString.meta({ description: 'Unit rate on the effective date for `from`' }),
    end_rate: decimalString.meta({ description: 'Unit rate on the effective date for `to`' }),
    change: decimalString.meta({ description: 'end_rate − start_rate, exact' }),
    change_pct: decimalString.meta({ description: 'change ÷ start_rate × 100, half-up to 4 places' }),
    min: decimalString,
    max: decimalString,
  })
  .meta({ id: 'CbrFluctuation' });

export const cbrFluctuationResponse = z
  .object({
    from: isoDate.meta({ description: 'The effective date used for the start (the publication in force on `from`)' }),
    to: isoDate.meta({ description: 'The effective date used for the end' }),
    base: z.string(),
    rates: z.record(z.string(), cbrFluctuation),
  })
  .meta({ id: 'CbrFluctuations' });

export const BINANCE_HISTORY_INTERVALS = ['1m', '5m', '15m', '1h', '1d'] as const;

/** A day (its 00:00 UTC) or an ISO 8601 date-time with its zone, as a Date. */
const instant = z
  .union([isoDate, text().pipe(z.iso.datetime({ offset: true }))], {
    error: 'expected a date (YYYY-MM-DD) or an ISO 8601 date-time with a zone (…Z or +hh:mm)',
  })
  .transform((v) => new Date(v.length === 10 ? `${v}T00:00:00Z` : v));

export const binanceHistoryQuery = z.object({
  from: instant.optional().meta({ description: 'Start, included (default: `to` − 24 h; 30 days for 1d)' }),
  to: instant.optional().meta({ description: 'End, excluded (default: now)' }),
  interval: z
    .enum(BINANCE_HISTORY_INTERVALS, { message: 'expected 1m, 5m, 15m, 1h or 1d' })
    .default('1h')
    .meta({ description: 'Bucket width; buckets are aligned to UTC midnight' }),
});

export const binanceStatusQuery = z.object({
  status: z
    .enum(['trading', 'all'], { message: "expected 'trading' or 'all'" })
    .default('trading')
    .meta({ description: 'trading (default): symbols whose exchange status is TRADING; all: every priced symbol' }),
});

export const binancePricesQuery = binanceStatusQuery.extend({
  symbols: commaList(binanceSymbol, 1000)
    .optional()
    .meta({ description: 'Comma-separated symbols (whatever their status); all trading ones when absent' }),
});

export const binanceSymbolParams = z.object({ symbol: binanceSymbol });

export const convertQuery = z.object({
  from: currencyCode,
  to: currencyCode,
  amount: decimalInput.refine((v) => !v.startsWith('-'), { message: 'must not be negative' }),
  date: isoDate.optional().meta({ description: 'Use the CBR rates in force that day (default: latest)' }),
});

export const convertResponse = z
  .object({
    from: z.string(),
    to: z.string(),
    amount: decimalString,
    rate: decimalString.meta({ description: 'unit rate(from) ÷ unit rate(to), half-up to 8 places' }),
    result: decimalString.meta({ description: 'amount × the unrounded rate, half-up to 2 places' }),
    date: isoDate.meta({ description: 'Effective date of the CBR rates used' }),
  })
  .meta({ id: 'Conversion' });

export {
  binanceHistoryResponse,
  binanceOhlc,
  binancePriceResponse,
  binancePricesResponse,
  type BinancePricesResponse,
} from './binance.schemas.ts';

// The Binance rates service’s shapes
export const compatSymbolPrice = z
  .object({ symbol: z.string(), price: z.string(), status: z.string().nullable().optional() })
  .meta({ id: 'CompatSymbolPrice' });
export const compatSymbolParams = z.object({ symbol: binanceSymbol });

export type CbrRatesResponse = z.infer<typeof cbrRatesResponse>;
export type CbrSeriesPoint = z.infer<typeof cbrSeriesPoint>;
export type CbrGroupedPoint = z.infer<typeof cbrGroupedPoint>;
export type CbrFluctuationResponse = z.infer<typeof cbrFluctuationResponse>;
export type ConvertResponse = z.infer<typeof convertResponse>;
export type CompatSymbolPrice = z.infer<typeof compatSymbolPrice>;
