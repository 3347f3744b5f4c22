import type { Router } from 'express';

import {
  binanceHistoryQuery,
  binanceHistoryResponse,
  binancePriceResponse,
  binancePricesQuery,
  binancePricesResponse,
  binanceSymbolParams,
  cbrDateParams,
  cbrFluctuationQuery,
  cbrFluctuationResponse,
  cbrHistoryQuery,
  cbrHistoryResponse,
  cbrLatestQuery,
  cbrRatesResponse,
  cbrSeriesQuery,
  cbrSeriesResponse,
  convertQuery,
  convertResponse,
  type BinancePricesResponse,
} from '@ratewire/contracts';

import { CACHE_LATEST, cacheKeys, type Cacheable } from '../cache/cache-keys.ts';
import { INVALID, problem } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import type { Table } from '../http/tabular.ts';
import { RatesService, type CbrBody } from './rates.service.ts';
import type { SeriesService } from './series.service.ts';

const CACHED =
  'Served from a pre-serialized body with a strong ETag (If-None-Match → 304) and gzip/brotli variants ' +
  '(Vary: Accept-Encoding); rebuilt as soon as the data changes.';

const TABULAR =
  'Answers JSON, CSV (header row, RFC 4180) or NDJSON: by `Accept` (text/csv, application/x-ndjson) or `?format=`. ';
const STREAMED =
  `${TABULAR}Rows stream from a Postgres cursor, so a range of any length can be asked for. A range that ends ` +
  'before today cannot change: it carries a strong ETag (If-None-Match → 304) and `Cache-Control: immutable`. HEAD works.';

/** The whole body, or the subset `symbols` names, in rubles or in `base` (cut from the same data, not cached itself). */
async function narrowCbr(
  read: Promise<Cacheable<CbrBody>>,
  query: { symbols?: string[] | undefined; base?: string | undefined },
): Promise<Cacheable> {
  const whole = await read;
  let data = query.base ? RatesService.inBase(whole.data, query.base) : whole.data;
  if (query.symbols?.length) data = RatesService.filterCbr(data, query.symbols);
  return data === whole.data ? whole : { ...whole, data };
}

/** A CBR body as rows, a currency each. */
const cbrTable = (body: CbrBody): Table => ({
  columns: ['code', 'nominal', 'value', 'unit_rate', 'date', 'base'],
  filename: `cbr-${body.requested ?? body.date}${body.base === 'RUB' ? '' : `-in-${body.base}`}`,
  rows: Object.entries(body.rates).map(([code, r]) => [code, r.nominal, r.value, r.unit_rate, body.date, body.base]),
});

/** Binance prices as rows, a symbol each (status empty where the body lists only trading symbols). */
const binanceTable = (body: BinancePricesResponse): Table => ({
  columns: ['symbol', 'price', 'status'],
  filename: 'binance-prices',
  rows: Object.entries(body.prices).map(([symbol, price]) => [
    symbol,
    price,
    body.statuses ? body.statuses[symbol] : 'TRADING',
  ]),
});

const cbrKey = (query: { symbols?: string[] | undefined; base?: string | undefined }, key: string) =>
  query.symbols?.length || query.base ? undefined : key;

export function ratesRoutes(router: Router, routes: RouteRegistry, rates: RatesService, series: SeriesService): void {
  // literal segments first: `latest` and `series` are not dates
  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/cbr/latest',
      operationId: 'cbrLatest',
      summary: 'The newest CBR rates (rubles per currency, or in `base`)',
      description: `${CACHED} ${TABULAR}`,
      tags: ['rates'],
      query: cbrLatestQuery,
      table: { fromBody: cbrTable },
      cached: { family: 'cbr', key: ({ query }) => cbrKey(query, cacheKeys.cbrLatest()) },
      responses: {
        200: { description: 'Rates of the newest published date', schema: cbrRatesResponse },
        304: { description: 'Not modified' },
        404: problem('No rates stored yet, or an unknown code in `symbols` or `base`'),
        422: INVALID,
      },
    },
    ({ query }) => narrowCbr(rates.cbrLatest(), query),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/cbr/series',
      operationId: 'cbrSeries',
      summary: 'One currency over a range of days: each effective date, or ISO weeks or months',
      description:
        'group=day: one point per effective date (CBR’s publication date; weekends and holidays have none), values ' +
        'as published. fill=forward adds every calendar day between publications (`carried: true`, ' +
        '`effective_date` naming the publication in force); a range starting on a weekend opens with the rate ' +
        'published before it. group=week (ISO weeks, Monday to Sunday: a week across New Year is one week) and ' +
        'group=month fold the unit rates of the effective dates inside each period into open, high, low, close, ' +
        '`avg` (exact mean, half-up to the longest input’s places + 4) and `count`. `base` gives cross rates ' +
        `through RUB (half-up to 8 places, as /convert’s rate). ${STREAMED}`,
      tags: ['rates'],
      query: cbrSeriesQuery,
      table: {},
      responses: {
        200: { description: 'Points, oldest first', schema: cbrSeriesResponse },
        304: { description: 'Not modified (a past range)' },
        404: problem('Unknown currency (`symbol` or `base`)'),
        422: INVALID,
      },
    },
    ({ query }) => series.cbrSeries(query),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/cbr/history',
      operationId: 'cbrHistory',
      summary: 'Every stored CBR rate in a range (the export), by date then currency',
      description: `One row per effective date and currency, values as published. ${STREAMED}`,
      tags: ['rates'],
      query: cbrHistoryQuery,
      table: {},
      responses: {
        200: { description: 'Rows, oldest first', schema: cbrHistoryResponse },
        304: { description: 'Not modified (a past range)' },
        404: problem('An unknown code in `symbols`'),
        422: INVALID,
      },
    },
    ({ query }) => series.cbrHistory(query),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/cbr/fluctuation',
      operationId: 'cbrFluctuation',
      summary: 'How each currency moved over a range: start and end rates, change, change %, low and high',
      description:
        'Start and end are the unit rates on the effective dates in force on `from` and on `to` (the answer’s ' +
        '`from` and `to`); min and max range over every effective date between. `change` is exact, `change_pct` ' +
        `half-up to 4 places. CSV and NDJSON give a row per currency. ${STREAMED}`,
      tags: ['rates'],
      query: cbrFluctuationQuery,
      table: {},
      responses: {
        200: { description: 'Currency → its movement', schema: cbrFluctuationResponse },
        304: { description: 'Not modified (a past range)' },
        404: problem('No rates stored for the range, or an unknown code in `symbols` or `base`'),
        422: INVALID,
      },
    },
    ({ query }) => series.cbrFluctuation(query),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/cbr/{date}',
      operationId: 'cbrByDate',
      summary: 'The CBR rates in force on a day',
      description:
        'Weekends and holidays resolve to the last published date (`date` is the effective date, `requested` the ' +
        'day asked for). A day never stored is fetched from CBR by a worker and stored. Days up to tomorrow are ' +
        'accepted (CBR sets the next day’s rates in advance); later ones are 422. Past days are cacheable ' +
        `forever (immutable). ${CACHED}`,
      tags: ['rates'],
      params: cbrDateParams,
      query: cbrLatestQuery,
      table: { fromBody: cbrTable },
      cached: { family: 'cbr', key: ({ params, query }) => cbrKey(query, cacheKeys.cbrOn(params.date)) },
      responses: {
        200: { description: 'Rates in force that day', schema: cbrRatesResponse },
        304: { description: 'Not modified' },
        404: problem('CBR has no rates for that day (or an unknown code in `symbols`)'),
        422: INVALID,
        502: problem('The worker could not read CBR'),
        503: problem('No worker available to fetch the day'),
        504: problem('Fetching the day took too long'),
      },
    },
    ({ params, query }) => narrowCbr(rates.cbrOn(params.date), query),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/binance',
      operationId: 'binancePrices',
      summary: 'Latest Binance prices (the symbols that trade, every symbol, or those named)',
      description:
        'Prices are decimal strings. Binance keeps a last price for halted and delisted pairs: by default only ' +
        'symbols whose exchangeInfo status is TRADING are listed; `?status=all` lists every priced symbol and ' +
        `\`statuses\` says each one's status (as it does for the symbols named in \`symbols\`). ${CACHED} ${TABULAR}`,
      tags: ['rates'],
      query: binancePricesQuery,
      table: { fromBody: binanceTable },
      cached: {
        family: 'binance',
        key: ({ query }) => (query.symbols?.length || query.status === 'all' ? undefined : cacheKeys.binanceAll()),
      },
      responses: {
        200: { description: 'Symbol → price', schema: binancePricesResponse },
        304: { description: 'Not modified' },
        404: problem('An unknown symbol in `symbols` (named in the detail)'),
        422: INVALID,
      },
    },
    ({ query }) => (query.symbols?.length ? rates.binanceSome(query.symbols) : rates.binanceAll(query.status)),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/binance/{symbol}/history',
      operationId: 'binanceHistory',
      summary: 'OHLC buckets of one symbol from stored price history',
      description:
        'Buckets of `interval` (aligned to UTC midnight) over [from, to) in which the price changed: open and close ' +
        'are the first and last prices recorded in the bucket, `count` how many changes were. History is kept ' +
        `for BINANCE_HISTORY_RETENTION_DAYS. ${TABULAR}Rows stream from a Postgres cursor. HEAD works.`,
      tags: ['rates'],
      params: binanceSymbolParams,
      query: binanceHistoryQuery,
      table: {},
      responses: {
        200: { description: 'Buckets, oldest first', schema: binanceHistoryResponse },
        404: problem('Unknown symbol (named in the detail)'),
        422: INVALID,
      },
    },
    ({ params, query }) => series.binanceHistory(params.symbol, query),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/binance/{symbol}',
      operationId: 'binancePrice',
      summary: 'Latest price of one Binance symbol, and its exchange status',
      description: `A symbol that does not trade (status other than TRADING) answers its last price and says its status. ${CACHED}`,
      tags: ['rates'],
      params: binanceSymbolParams,
      // one symbol's body is cut from the rows in memory: cheaper than a Redis round trip
      cached: { family: 'binance', key: ({ params }) => cacheKeys.binanceOne(params.symbol), shared: false },
      responses: {
        200: { description: 'The price', schema: binancePriceResponse },
        304: { description: 'Not modified' },
        404: problem('Unknown symbol (named in the detail)'),
        422: INVALID,
      },
    },
    ({ params }) => rates.binanceOne(params.symbol),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/convert',
      operationId: 'convert',
      summary: 'Convert an amount through RUB at CBR rates',
      description:
        '`rate` = unit rate of `from` ÷ unit rate of `to`, half-up to 8 places; `result` = amount × the unrounded ' +
        'rate, half-up to 2 places; `date` is the effective date of the rates used. RUB may be either side.',
      tags: ['rates'],
      query: convertQuery,
      responses: {
        200: { description: 'The conversion', schema: convertResponse },
        404: problem('No CBR rate for a currency (or for the day)'),
        422: INVALID,
        502: problem('The worker could not read CBR'),
        503: problem('No worker available to fetch the day'),
        504: problem('Fetching the day took too long'),
      },
    },
    async ({ query }) => ({ body: await rates.convert(query), headers: { 'cache-control': CACHE_LATEST } }),
  );
}
