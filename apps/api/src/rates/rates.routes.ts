import type { Router } from 'express';

import {
  binancePriceResponse,
  binancePricesQuery,
  binancePricesResponse,
  binanceSymbolParams,
  cbrDateParams,
  cbrLatestQuery,
  cbrRatesResponse,
  cbrSeriesQuery,
  cbrSeriesResponse,
  convertQuery,
  convertResponse,
} from '@ratewire/contracts';

import { CACHE_LATEST, cacheKeys, type Cacheable } from '../cache/cache-keys.ts';
import { INVALID, problem } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import { RatesService, type CbrBody } from './rates.service.ts';

const CACHED =
  'Served from a pre-serialized body with a strong ETag (If-None-Match → 304) and gzip/brotli variants ' +
  '(Vary: Accept-Encoding); rebuilt as soon as the data changes.';

/** The whole body, or the subset `symbols` names (cut from the same data, not cached itself). */
async function narrowCbr(read: Promise<Cacheable<CbrBody>>, symbols: string[] | undefined): Promise<Cacheable> {
  const whole = await read;
  return symbols?.length ? { ...whole, data: RatesService.filterCbr(whole.data, symbols) } : whole;
}

export function ratesRoutes(router: Router, routes: RouteRegistry, rates: RatesService): void {
  // literal segments first: `latest` and `series` are not dates
  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/cbr/latest',
      operationId: 'cbrLatest',
      summary: 'The newest CBR rates (rubles per currency)',
      description: CACHED,
      tags: ['rates'],
      query: cbrLatestQuery,
      cached: { family: 'cbr', key: ({ query }) => (query.symbols?.length ? undefined : cacheKeys.cbrLatest()) },
      responses: {
        200: { description: 'Rates of the newest published date', schema: cbrRatesResponse },
        304: { description: 'Not modified' },
        404: problem('No rates stored yet, or an unknown code in `symbols`'),
        422: INVALID,
      },
    },
    ({ query }) => narrowCbr(rates.cbrLatest(), query.symbols),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/cbr/series',
      operationId: 'cbrSeries',
      summary: 'One currency over a range of published dates (at most 366 days)',
      tags: ['rates'],
      query: cbrSeriesQuery,
      responses: {
        200: { description: 'Rates by effective date, oldest first', schema: cbrSeriesResponse },
        404: problem('Unknown currency'),
        422: INVALID,
      },
    },
    async ({ query }) => ({
      body: await rates.cbrSeries(query.symbol, query.from, query.to),
      headers: { 'cache-control': CACHE_LATEST },
    }),
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
      cached: {
        family: 'cbr',
        key: ({ params, query }) => (query.symbols?.length ? undefined : cacheKeys.cbrOn(params.date)),
      },
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
    ({ params, query }) => narrowCbr(rates.cbrOn(params.date), query.symbols),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/binance',
      operationId: 'binancePrices',
      summary: 'Latest Binance prices (all symbols, or those named)',
      description: `Prices are decimal strings. ${CACHED}`,
      tags: ['rates'],
      query: binancePricesQuery,
      cached: { family: 'binance', key: ({ query }) => (query.symbols?.length ? undefined : cacheKeys.binanceAll()) },
      responses: {
        200: { description: 'Symbol → price', schema: binancePricesResponse },
        304: { description: 'Not modified' },
        404: problem('An unknown symbol in `symbols` (named in the detail)'),
        422: INVALID,
      },
    },
    ({ query }) => (query.symbols?.length ? rates.binanceSome(query.symbols) : rates.binanceAll()),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/rates/binance/{symbol}',
      operationId: 'binancePrice',
      summary: 'Latest price of one Binance symbol',
      description: CACHED,
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
