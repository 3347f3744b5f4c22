// REST rate reads: CBR (latest, by date, series), Binance latest prices, conversion through RUB.
import { z } from 'zod';

import { binanceSymbol, commaList, currencyCode, decimalInput, decimalString, isoDate } from './common.schemas.ts';

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
    base: z.literal('RUB'),
    rates: z.record(z.string(), cbrRate),
  })
  .meta({ id: 'CbrRates' });

export const cbrLatestQuery = z.object({
  symbols: commaList(currencyCode).optional().meta({ description: 'Comma-separated codes, e.g. USD,EUR' }),
});

export const cbrDateParams = z.object({ date: isoDate });

export const cbrSeriesQuery = z.object({
  symbol: currencyCode,
  from: isoDate.optional().meta({ description: 'First day (default: 30 days before `to`)' }),
  to: isoDate.optional().meta({ description: 'Last day (default: today, UTC)' }),
});

export const cbrSeriesPoint = z
  .object({ date: isoDate, value: decimalString, nominal: z.number().int(), unit_rate: decimalString })
  .meta({ id: 'CbrSeriesPoint' });
export const cbrSeriesResponse = z.array(cbrSeriesPoint).meta({ id: 'CbrSeries' });

export const binancePricesQuery = z.object({
  symbols: commaList(binanceSymbol, 1000).optional().meta({ description: 'Comma-separated symbols; all when absent' }),
});

export const binancePricesResponse = z
  .object({
    updated_at: z.string().nullable().meta({ description: 'Newest price time among the symbols (ISO)' }),
    count: z.number().int(),
    prices: z.record(z.string(), decimalString).meta({ description: 'Symbol → last price (decimal string)' }),
  })
  .meta({ id: 'BinancePrices' });

export const binanceSymbolParams = z.object({ symbol: binanceSymbol });

export const binancePriceResponse = z
  .object({ symbol: z.string(), price: decimalString, updated_at: z.string() })
  .meta({ id: 'BinancePrice' });

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

// The Binance rates service’s shapes
export const compatSymbolPrice = z.object({ symbol: z.string(), price: z.string() }).meta({ id: 'CompatSymbolPrice' });
export const compatSymbolParams = z.object({ symbol: binanceSymbol });

export type CbrRatesResponse = z.infer<typeof cbrRatesResponse>;
export type CbrSeriesPoint = z.infer<typeof cbrSeriesPoint>;
export type BinancePricesResponse = z.infer<typeof binancePricesResponse>;
export type ConvertResponse = z.infer<typeof convertResponse>;
