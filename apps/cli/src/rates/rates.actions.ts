import {
  cbrFluctuationResponse,
  cbrRatesResponse,
  cbrSeriesResponse,
  convertResponse,
} from '@ratewire/contracts/rates.schemas';
import type { cbrGroupedPoint } from '@ratewire/contracts/rates.schemas';
import type { z } from 'zod';

import type { Action } from '../core/command.ts';
import { codes, str, upper } from '../core/options.ts';
import { usageError } from '../core/exit-codes.ts';

// Rates are public: no credential is sent, so an expired stored session never turns a read into exit 4.
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export const cbrRates: Action = async (ctx, [when], opts) => {
  const day = typeof when === 'string' ? when : 'latest';
  if (day !== 'latest' && !DAY.test(day))
    throw usageError(`expected "latest" or a day YYYY-MM-DD, not ${JSON.stringify(day)}`);
  const path = day === 'latest' ? '/api/v1/rates/cbr/latest' : `/api/v1/rates/cbr/${day}`;
  const query = { symbols: str(opts['symbols'])?.toUpperCase(), base: upper(opts['base']) };
  const data = await ctx.api().json(cbrRatesResponse, 'GET', path, { query, auth: 'none' });
  ctx.output(data, () => {
    const rows = Object.entries(data.rates).map(([code, r]) => ({ code, ...r }));
    const asked = data.requested && data.requested !== data.date ? ` (asked for ${data.requested})` : '';
    return (
      `CBR rates in force on ${data.date}${asked}, in ${data.base}\n` +
      ctx.table(rows, [
        { header: 'CODE', value: (r) => r.code },
        { header: 'NOMINAL', value: (r) => String(r.nominal), align: 'right' },
        { header: 'VALUE', value: (r) => r.value, align: 'right' },
        { header: 'UNIT RATE', value: (r) => r.unit_rate, align: 'right' },
      ])
    );
  });
};

export const cbrSeries: Action = async (ctx, [symbol], opts) => {
  const query = {
    symbol: String(symbol).toUpperCase(),
    from: str(opts['from']),
    to: str(opts['to']),
    group: str(opts['group']),
    base: upper(opts['base']),
  };
  if (opts['csv'] === true) return ctx.printCsv('/api/v1/rates/cbr/series', query, 'none');
  const points = await ctx.api().json(cbrSeriesResponse, 'GET', '/api/v1/rates/cbr/series', { query, auth: 'none' });
  ctx.output(points, () => {
    if (points.length === 0) return `No CBR rates for ${query.symbol} in that range.`;
    const grouped = points.filter((p): p is z.infer<typeof cbrGroupedPoint> => 'period_start' in p);
    if (grouped.length > 0)
      return ctx.table(grouped, [
        { header: 'FROM', value: (p) => p.period_start },
        { header: 'TO', value: (p) => p.period_end },
        { header: 'OPEN', value: (p) => p.open, align: 'right' },
        { header: 'HIGH', value: (p) => p.high, align: 'right' },
        { header: 'LOW', value: (p) => p.low, align: 'right' },
        { header: 'CLOSE', value: (p) => p.close, align: 'right' },
        { header: 'AVG', value: (p) => p.avg, align: 'right' },
        { header: 'DAYS', value: (p) => String(p.count), align: 'right' },
      ]);
    const days = points.filter((p) => 'date' in p);
    return ctx.table(days, [
      { header: 'DATE', value: (p) => p.date },
      { header: 'NOMINAL', value: (p) => String(p.nominal), align: 'right' },
      { header: 'VALUE', value: (p) => p.value, align: 'right' },
      { header: 'UNIT RATE', value: (p) => p.unit_rate, align: 'right' },
    ]);
  });
};

export const convert: Action = async (ctx, [amount, from, to], opts) => {
  const query = { amount: String(amount), from: upper(from), to: upper(to), date: str(opts['date']) };
  const c = await ctx.api().json(convertResponse, 'GET', '/api/v1/convert', { query, auth: 'none' });
  ctx.output(c, () => `${c.amount} ${c.from} = ${c.result} ${c.to}  (rate ${c.rate}, CBR rates of ${c.date})`);
};

export const fluctuation: Action = async (ctx, [symbols], opts) => {
  const query = { symbols: codes(symbols), from: str(opts['from']), to: str(opts['to']), base: upper(opts['base']) };
  const f = await ctx
    .api()
    .json(cbrFluctuationResponse, 'GET', '/api/v1/rates/cbr/fluctuation', { query, auth: 'none' });
  ctx.output(f, () => {
    const rows = Object.entries(f.rates).map(([code, r]) => ({ code, ...r }));
    return (
      `CBR rates from ${f.from} to ${f.to}, in ${f.base}\n` +
      ctx.table(rows, [
        { header: 'CODE', value: (r) => r.code },
        { header: 'START', value: (r) => r.start_rate, align: 'right' },
        { header: 'END', value: (r) => r.end_rate, align: 'right' },
        { header: 'CHANGE', value: (r) => r.change, align: 'right' },
        { header: '%', value: (r) => r.change_pct, align: 'right' },
        { header: 'MIN', value: (r) => r.min, align: 'right' },
        { header: 'MAX', value: (r) => r.max, align: 'right' },
      ])
    );
  });
};
