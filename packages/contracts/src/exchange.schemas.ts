// Exchange calculation: bills × rate in rubles (the async exchange service’s calculation), answered at once or as a job.
import { z } from 'zod';

import { currencyCode, decimalString, isoDate } from './common.schemas.ts';
import { positiveDecimalInput } from './currencies.schemas.ts';

export const MAX_BILLS = 10_000;

export const billSchema = z
  .object({
    denomination_id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    denomination: positiveDecimalInput.meta({ description: 'Face value (number or decimal string), > 0' }),
    count: z
      .number()
      .int({ message: 'expected a whole number' })
      .min(1, { message: 'must be at least 1' })
      .max(Number.MAX_SAFE_INTEGER, { message: 'too large' }),
  })
  .meta({ id: 'Bill' });

export const billsSchema = z
  .array(billSchema)
  .min(1, { message: 'at least one bill' })
  .max(MAX_BILLS, { message: `at most ${MAX_BILLS} bills` });

/** One of `exchange_rate` (rubles per unit) or `currency` (latest CBR unit rate). */
export const exchangeCalculateBody = z
  .object({
    exchange_rate: positiveDecimalInput.optional(),
    currency: currencyCode.optional(),
    bills: billsSchema,
  })
  .superRefine((v, ctx) => {
    if ((v.exchange_rate === undefined) === (v.currency === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['exchange_rate'],
        message: 'give exactly one of exchange_rate or currency',
      });
    }
  })
  .meta({ id: 'ExchangeCalculateRequest' });

export const exchangeLine = z
  .object({ denomination_id: z.number().int(), subtotal_rub: decimalString })
  .meta({ id: 'ExchangeLine' });

export const exchangeCalculateResponse = z
  .object({
    rate: decimalString.meta({ description: 'Rubles per unit used' }),
    currency: z.string().optional(),
    date: isoDate.optional().meta({ description: 'Effective date of the CBR rate, when `currency` was given' }),
    breakdown: z.array(exchangeLine),
    total_rub: decimalString,
  })
  .meta({ id: 'ExchangeCalculation' });

// The async exchange service’s POST /api/exchange_sync {exchange_rate, bills} → {"status":"completed", breakdown}
export const compatExchangeSyncBody = z
  .object({ exchange_rate: positiveDecimalInput, bills: billsSchema })
  .meta({ id: 'CompatExchangeSyncRequest' });

export const compatExchangeSyncResponse = z
  .object({
    status: z.literal('completed'),
    breakdown: z.array(z.object({ denomination_id: z.number().int(), subtotal_rub: z.number() })),
  })
  .meta({ id: 'CompatExchangeSync' });

export type ExchangeCalculateBody = z.output<typeof exchangeCalculateBody>;
export type ExchangeCalculateResponse = z.infer<typeof exchangeCalculateResponse>;
