// The answers of the Binance price reads, apart from their queries: they need only exact decimal
// strings, so a client that checks a price answer loads nothing else of the contracts.
import { z } from 'zod';

import { decimalString } from './decimal.schemas.ts';

export const binanceOhlc = z
  .object({
    t: z.string().meta({ description: 'Start of the bucket (ISO, UTC)' }),
    open: decimalString.meta({ description: 'First price recorded in the bucket' }),
    high: decimalString,
    low: decimalString,
    close: decimalString.meta({ description: 'Last price recorded in the bucket' }),
    count: z.number().int().meta({ description: 'Price changes recorded in the bucket' }),
  })
  .meta({ id: 'BinanceOhlc' });
export const binanceHistoryResponse = z.array(binanceOhlc).meta({ id: 'BinanceHistory' });

export const binancePricesResponse = z
  .object({
    updated_at: z.string().nullable().meta({ description: 'Newest price time among the symbols (ISO)' }),
    count: z.number().int(),
    prices: z.record(z.string(), decimalString).meta({ description: 'Symbol → last price (decimal string)' }),
    statuses: z.record(z.string(), z.string().nullable()).optional().meta({
      description: 'With status=all or symbols: symbol → exchange status (TRADING, BREAK, …; null if unlisted)',
    }),
  })
  .meta({ id: 'BinancePrices' });

export const binancePriceResponse = z
  .object({
    symbol: z.string(),
    price: decimalString,
    updated_at: z.string(),
    status: z.string().nullable().meta({
      description: 'Exchange status: TRADING, or BREAK, HALT, … for a symbol that does not trade (its last price)',
    }),
  })
  .meta({ id: 'BinancePrice' });

export type BinancePricesResponse = z.infer<typeof binancePricesResponse>;
