// Binance reads. Their answers' schemas come from their own contracts module, so a price read loads
// only them (the cold-start path `ratewire rates binance SYMBOL` is measured by bench/src/cli).
import {
  binanceHistoryResponse,
  binancePriceResponse,
  binancePricesResponse,
} from '@ratewire/contracts/binance.schemas';

import type { Action } from '../core/command.ts';
import { codes, str } from '../core/options.ts';

export const binancePrices: Action = async (ctx, [symbols], opts) => {
  const list = codes(symbols);
  if (list?.length === 1 && opts['all'] !== true) {
    const one = await ctx
      .api()
      .json(binancePriceResponse, 'GET', `/api/v1/rates/binance/${encodeURIComponent(list[0] ?? '')}`, {
        auth: 'none',
      });
    ctx.output(one, () =>
      ctx.table(
        [one],
        [
          { header: 'SYMBOL', value: (r) => r.symbol },
          { header: 'PRICE', value: (r) => r.price, align: 'right' },
          { header: 'STATUS', value: (r) => r.status },
          { header: 'UPDATED', value: (r) => r.updated_at },
        ],
      ),
    );
    return;
  }
  const query = { symbols: list, status: opts['all'] === true ? 'all' : undefined };
  const data = await ctx.api().json(binancePricesResponse, 'GET', '/api/v1/rates/binance', { query, auth: 'none' });
  ctx.output(data, () => {
    const rows = Object.entries(data.prices).map(([symbol, price]) => ({
      symbol,
      price,
      status: data.statuses?.[symbol] ?? (data.statuses ? null : 'TRADING'),
    }));
    return (
      `Binance spot prices, ${data.count} symbols, newest ${data.updated_at ?? '-'}\n` +
      ctx.table(rows, [
        { header: 'SYMBOL', value: (r) => r.symbol },
        { header: 'PRICE', value: (r) => r.price, align: 'right' },
        { header: 'STATUS', value: (r) => r.status },
      ])
    );
  });
};

export const binanceHistory: Action = async (ctx, [symbol], opts) => {
  const path = `/api/v1/rates/binance/${encodeURIComponent(String(symbol).toUpperCase())}/history`;
  const query = { from: str(opts['from']), to: str(opts['to']), interval: str(opts['interval']) };
  if (opts['csv'] === true) return ctx.printCsv(path, query, 'none');
  const rows = await ctx.api().json(binanceHistoryResponse, 'GET', path, { query, auth: 'none' });
  ctx.output(rows, () =>
    rows.length === 0
      ? `No stored prices for ${String(symbol).toUpperCase()} in that range.`
      : ctx.table(rows, [
          { header: 'TIME', value: (r) => r.t },
          { header: 'OPEN', value: (r) => r.open, align: 'right' },
          { header: 'HIGH', value: (r) => r.high, align: 'right' },
          { header: 'LOW', value: (r) => r.low, align: 'right' },
          { header: 'CLOSE', value: (r) => r.close, align: 'right' },
          { header: 'CHANGES', value: (r) => String(r.count), align: 'right' },
        ]),
  );
};
