// Compatible aliases (tag `compat`): the paths and shapes of the Currency-API service, the async exchange
// service and the Binance rates service, over the same services as /api/v1.
// Money in these bodies is a JSON number, written from the exact decimal (never via a float).
import type { Router } from 'express';
import { z } from 'zod';

import {
  compatCurrenciesQuery,
  compatCurrencyCreateBody,
  compatCurrencyPatchBody,
  compatCurrencySchema,
  compatExchangeSyncBody,
  compatExchangeSyncResponse,
  compatSymbolParams,
  binanceStatusQuery,
  compatSymbolPrice,
  currencyId,
  taskAccepted,
} from '@ratewire/contracts';
import type { CurrencyRow } from '@ratewire/db';
import { jsonNumber, normalize } from '@ratewire/money';

import { CACHE_LATEST, cacheKeys } from '../cache/cache-keys.ts';
import type { CurrenciesService } from '../currencies/currencies.service.ts';
import type { ExchangeService } from '../exchange/exchange.service.ts';
import { FORBIDDEN, INVALID, UNAUTHORIZED, problem } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import type { RatesService } from '../rates/rates.service.ts';
import type { TasksService } from '../tasks/tasks.service.ts';

export interface CompatServices {
  currencies: CurrenciesService;
  exchange: ExchangeService;
  rates: RatesService;
  tasks: TasksService;
}

const tags = ['compat'];
const NOT_FOUND = problem('No currency with that id');
const CONFLICT = problem('The currency code is taken');

function toCompatCurrency(row: CurrencyRow) {
  return {
    id: row.id,
    currency: row.code,
    rate: jsonNumber(normalize(row.rate)),
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
}

export function compatRoutes(router: Router, routes: RouteRegistry, s: CompatServices): void {
  // ---- the Currency-API service: currencies ------------------------------------------------------------
  routes.add(
    router,
    {
      method: 'get',
      path: '/currencies',
      operationId: 'compatListCurrencies',
      summary: 'Currencies in the Currency-API service’s shape (alias of GET /api/v1/currencies)',
      tags,
      query: compatCurrenciesQuery,
      cached: {
        family: 'currencies',
        key: ({ query }) => cacheKeys.currenciesPage('compat', query.limit, query.offset),
      },
      responses: {
        200: { description: 'Every currency', schema: z.array(compatCurrencySchema) },
        304: { description: 'Not modified' },
        422: INVALID,
      },
    },
    async ({ query }) => {
      const { data: page, cacheControl } = await s.currencies.list(query.limit, query.offset);
      return { data: page.rows.map(toCompatCurrency), cacheControl };
    },
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/currencies/{id}',
      operationId: 'compatGetCurrency',
      summary: 'One currency in the Currency-API service’s shape',
      tags,
      params: currencyId,
      responses: { 200: { description: 'The currency', schema: compatCurrencySchema }, 404: NOT_FOUND, 422: INVALID },
    },
    async ({ params }) => ({ body: toCompatCurrency(await s.currencies.get(params.id)) }),
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/currencies',
      operationId: 'compatCreateCurrency',
      summary: 'Add a currency {currency, rate} (admin)',
      tags,
      auth: 'admin',
      body: compatCurrencyCreateBody,
      responses: {
        201: { description: 'Created', schema: compatCurrencySchema },
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        409: CONFLICT,
        422: INVALID,
      },
    },
    async ({ body }) => ({
      status: 201,
      body: toCompatCurrency(await s.currencies.create({ code: body.currency, nominal: 1, rate: body.rate })),
    }),
  );

  routes.add(
    router,
    {
      method: 'patch',
      path: '/currencies/{id}',
      operationId: 'compatUpdateCurrency',
      summary: 'Change a currency {currency?, rate?} (admin)',
      tags,
      auth: 'admin',
      params: currencyId,
      body: compatCurrencyPatchBody,
      responses: {
        200: { description: 'Updated', schema: compatCurrencySchema },
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        409: CONFLICT,
        422: INVALID,
      },
    },
    async ({ params, body }) => ({
      body: toCompatCurrency(
        await s.currencies.update(params.id, {
          ...(body.currency !== undefined ? { code: body.currency } : {}),
          ...(body.rate !== undefined ? { rate: body.rate } : {}),
        }),
      ),
    }),
  );

  routes.add(
    router,
    {
      method: 'delete',
      path: '/currencies/{id}',
      operationId: 'compatDeleteCurrency',
      summary: 'Remove a currency (admin)',
      tags,
      auth: 'admin',
      params: currencyId,
      responses: {
        204: { description: 'Deleted' },
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        422: INVALID,
      },
    },
    async ({ params }) => {
      await s.currencies.remove(params.id);
      return { status: 204 };
    },
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/tasks/run',
      operationId: 'compatRunTask',
      summary: 'Refresh the rates now (admin; alias of POST /api/v1/tasks/rates-refresh)',
      tags,
      auth: 'admin',
      responses: { 202: { description: 'Accepted', schema: taskAccepted }, 401: UNAUTHORIZED, 403: FORBIDDEN },
    },
    async ({ req }) => ({ status: 202, body: await s.tasks.requestRatesRefresh(req.user!.id) }),
  );

  // ---- the async exchange service: synchronous exchange ----------------------------------------------------
  routes.add(
    router,
    {
      method: 'post',
      path: '/api/exchange_sync',
      operationId: 'compatExchangeSync',
      summary:
        'Exchange calculation at once, in the async exchange service’s shape (alias of POST /api/v1/exchange/calculate)',
      description: '`subtotal_rub` is a JSON number carrying the exact decimal (2 places). 400 on a bad payload.',
      tags,
      keyScope: 'jobs',
      body: compatExchangeSyncBody,
      invalidStatus: 400,
      responses: {
        200: { description: 'The breakdown', schema: compatExchangeSyncResponse },
        400: problem('Invalid payload (field errors listed)'),
      },
    },
    async ({ body }) => {
      const result = await s.exchange.calculate({ exchange_rate: body.exchange_rate, bills: body.bills });
      return {
        body: {
          status: 'completed',
          breakdown: result.breakdown.map((l) => ({
            denomination_id: l.denomination_id,
            subtotal_rub: jsonNumber(l.subtotal_rub),
          })),
        },
      };
    },
  );

  // ---- the Binance rates service: symbols -----------------------------------------------------------
  routes.add(
    router,
    {
      method: 'get',
      path: '/symbols/get/all',
      operationId: 'compatAllSymbols',
      summary: 'Latest Binance prices [{symbol, price}] (alias of GET /api/v1/rates/binance)',
      description:
        'Symbols that trade (exchange status TRADING); `?status=all` lists every priced symbol with its status.',
      tags,
      query: binanceStatusQuery,
      cached: {
        family: 'binance',
        key: ({ query }) => (query.status === 'trading' ? cacheKeys.binanceList() : undefined),
      },
      responses: {
        200: { description: 'Every symbol', schema: z.array(compatSymbolPrice) },
        304: { description: 'Not modified' },
        422: INVALID,
      },
    },
    ({ query }) => s.rates.binanceList(query.status),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/symbols/get/{symbol}',
      operationId: 'compatOneSymbol',
      summary: 'Latest price of one symbol {symbol, price}',
      tags,
      params: compatSymbolParams,
      responses: {
        200: { description: 'The price', schema: compatSymbolPrice },
        404: problem('Unknown symbol (named in the detail)'),
        422: INVALID,
      },
    },
    async ({ params }) => {
      const row = await s.rates.binancePrice(params.symbol);
      // a symbol that does not trade says so (its price is the last one before it stopped)
      const body =
        row.status === 'TRADING'
          ? { symbol: row.symbol, price: row.price }
          : { symbol: row.symbol, price: row.price, status: row.status };
      return { body, headers: { 'cache-control': CACHE_LATEST } };
    },
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/ping',
      operationId: 'compatPing',
      summary: 'Liveness, in the Binance rates service’s shape',
      tags,
      responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
    },
    () => ({ body: { status: 'ok' } }),
  );
}
