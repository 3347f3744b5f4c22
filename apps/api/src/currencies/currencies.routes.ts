import type { Router } from 'express';

import {
  currenciesListQuery,
  currencyCreateBody,
  currencyId,
  currencyListSchema,
  currencyPatchBody,
  currencySchema,
} from '@ratewire/contracts';

import { cacheKeys } from '../cache/cache-keys.ts';
import { FORBIDDEN, INVALID, UNAUTHORIZED, problem } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import { itemsTable } from '../http/tabular.ts';
import { toCurrencyDto, type CurrenciesService } from './currencies.service.ts';

const NOT_FOUND = problem('No currency with that id');
const CONFLICT = problem('The code is taken by another currency');

const CURRENCY_COLUMNS = ['id', 'code', 'name', 'nominal', 'rate', 'unit_rate', 'created_at', 'updated_at'];

export function currenciesRoutes(router: Router, routes: RouteRegistry, currencies: CurrenciesService): void {
  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/currencies',
      operationId: 'listCurrencies',
      summary: 'Currencies (latest rate each), by id, paginated',
      description:
        'Pages of at most 1000 (`limit`, `offset`; `next_offset` is null on the last page). ETag + 304. ' +
        'CSV or NDJSON (Accept or `?format=`) give the page’s currencies as rows.',
      tags: ['currencies'],
      query: currenciesListQuery,
      table: itemsTable('currencies', CURRENCY_COLUMNS),
      cached: {
        family: 'currencies',
        key: ({ query }) => cacheKeys.currenciesPage('list', query.limit, query.offset),
      },
      responses: {
        200: { description: 'A page', schema: currencyListSchema },
        304: { description: 'Not modified' },
        422: INVALID,
      },
    },
    async ({ query }) => {
      const { data: page, cacheControl } = await currencies.list(query.limit, query.offset);
      return {
        data: {
          items: page.rows.map(toCurrencyDto),
          limit: page.limit,
          offset: page.offset,
          next_offset: page.more ? page.offset + page.limit : null,
        },
        cacheControl,
      };
    },
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/currencies/{id}',
      operationId: 'getCurrency',
      summary: 'One currency',
      tags: ['currencies'],
      params: currencyId,
      responses: { 200: { description: 'The currency', schema: currencySchema }, 404: NOT_FOUND, 422: INVALID },
    },
    async ({ params }) => ({ body: toCurrencyDto(await currencies.get(params.id)) }),
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/currencies',
      operationId: 'createCurrency',
      summary: 'Add a currency (admin)',
      description: 'Publishes `currencies.created` once committed.',
      tags: ['currencies'],
      auth: 'admin',
      body: currencyCreateBody,
      responses: {
        201: { description: 'Created', schema: currencySchema },
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        409: CONFLICT,
        422: INVALID,
      },
    },
    async ({ body }) => {
      const row = await currencies.create(body);
      return { status: 201, body: toCurrencyDto(row), headers: { location: `/api/v1/currencies/${row.id}` } };
    },
  );

  routes.add(
    router,
    {
      method: 'patch',
      path: '/api/v1/currencies/{id}',
      operationId: 'updateCurrency',
      summary: 'Change a currency (admin)',
      description: 'Publishes `currencies.updated` once committed.',
      tags: ['currencies'],
      auth: 'admin',
      params: currencyId,
      body: currencyPatchBody,
      responses: {
        200: { description: 'Updated', schema: currencySchema },
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: NOT_FOUND,
        409: CONFLICT,
        422: INVALID,
      },
    },
    async ({ params, body }) => ({ body: toCurrencyDto(await currencies.update(params.id, body)) }),
  );

  routes.add(
    router,
    {
      method: 'delete',
      path: '/api/v1/currencies/{id}',
      operationId: 'deleteCurrency',
      summary: 'Remove a currency (admin)',
      description: 'Publishes `currencies.deleted` once committed.',
      tags: ['currencies'],
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
      await currencies.remove(params.id);
      return { status: 204 };
    },
  );
}
