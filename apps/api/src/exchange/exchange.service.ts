// Exchange calculation at once: the rate is given, or the newest CBR unit rate of a currency.
import type { ExchangeCalculateBody, ExchangeCalculateResponse } from '@ratewire/contracts';
import { rateOn, type Database } from '@ratewire/db';
import { calculateExchange } from '@ratewire/money';

import { AppError } from '../http/app-error.ts';

export class ExchangeService {
  private readonly db: Database;

  constructor(deps: { db: Database }) {
    this.db = deps.db;
  }

  async calculate(body: ExchangeCalculateBody): Promise<ExchangeCalculateResponse> {
    let rate = body.exchange_rate;
    let date: string | undefined;
    if (rate === undefined) {
      const code = body.currency!;
      const found = await rateOn(this.db, code);
      if (!found) {
        throw new AppError(422, 'validation_failed', 'the request is not valid', [
          { path: 'body.currency', message: `no CBR rate is known for ${code}` },
        ]);
      }
      rate = found.unit_rate;
      date = found.date;
    }
    const result = calculateExchange(rate, body.bills);
    return {
      rate,
      ...(body.currency ? { currency: body.currency } : {}),
      ...(date ? { date } : {}),
      ...result,
    };
  }
}
