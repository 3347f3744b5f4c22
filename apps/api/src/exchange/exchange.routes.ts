import type { Router } from 'express';

import { exchangeCalculateBody, exchangeCalculateResponse } from '@ratewire/contracts';

import { INVALID } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import type { ExchangeService } from './exchange.service.ts';

export function exchangeRoutes(router: Router, routes: RouteRegistry, exchange: ExchangeService): void {
  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/exchange/calculate',
      operationId: 'calculateExchange',
      summary: 'Rubles for a set of bills, at once',
      description:
        'Give `exchange_rate` (rubles per unit) or `currency` (the newest CBR unit rate is used and returned with ' +
        'its date). Subtotal = denomination × count × rate, exact, half-up to 2 places; total = the sum. At most ' +
        '10,000 bills; denominations and counts positive; numbers or decimal strings.',
      tags: ['exchange'],
      keyScope: 'jobs',
      body: exchangeCalculateBody,
      responses: {
        200: { description: 'The breakdown', schema: exchangeCalculateResponse },
        422: INVALID,
      },
    },
    async ({ body }) => ({ body: await exchange.calculate(body) }),
  );
}
