// REST currencies (latest CBR rate per currency, editable by admins) and the Currency-API service’s shape.
import { z } from 'zod';

import { currencyCode, decimalString, paginationQuery } from './common.schemas.ts';
import { positiveDecimalInput } from './decimal.schemas.ts';
import { text } from './text.schemas.ts';

export { positiveDecimalInput };

export const currencyId = z.object({
  id: z.coerce
    .number({ message: 'expected a whole number' })
    .int({ message: 'expected a whole number' })
    .min(1, { message: 'must be at least 1' })
    .max(2_147_483_647, { message: 'too large' }),
});

export const currencySchema = z
  .object({
    id: z.number().int(),
    code: z.string(),
    name: z.string().nullable(),
    nominal: z.number().int(),
    rate: decimalString.meta({ description: 'Rubles for `nominal` units' }),
    unit_rate: decimalString.meta({ description: 'Rubles for one unit (rate ÷ nominal)' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Currency' });

const nominal = z.number().int().min(1).max(1_000_000);
const name = text().trim().min(1).max(200).nullable();

export const currencyCreateBody = z
  .object({
    code: currencyCode,
    name: name.optional(),
    nominal: nominal.default(1),
    rate: positiveDecimalInput.meta({ description: 'Rubles for `nominal` units (number or decimal string)' }),
  })
  .meta({ id: 'CurrencyCreate' });

export const currencyPatchBody = z
  .object({
    code: currencyCode.optional(),
    name: name.optional(),
    nominal: nominal.optional(),
    rate: positiveDecimalInput.optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { message: 'nothing to change' })
  .meta({ id: 'CurrencyPatch' });

export const currenciesListQuery = paginationQuery;

export const currencyListSchema = z
  .object({
    items: z.array(currencySchema),
    limit: z.number().int(),
    offset: z.number().int(),
    next_offset: z.number().int().nullable().meta({ description: 'Offset of the next page; null on the last' }),
  })
  .meta({ id: 'CurrencyList' });

// The Currency-API service’s shape: {id, currency, rate, created_at, updated_at}, rate a JSON number (written exactly).
export const compatCurrencySchema = z
  .object({
    id: z.number().int(),
    currency: z.string(),
    rate: z.number(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'CompatCurrency' });

export const compatCurrencyCreateBody = z
  .object({ currency: currencyCode, rate: positiveDecimalInput })
  .meta({ id: 'CompatCurrencyCreate' });

export const compatCurrencyPatchBody = z
  .object({ currency: currencyCode.optional(), rate: positiveDecimalInput.optional() })
  .refine((v) => v.currency !== undefined || v.rate !== undefined, { message: 'nothing to change' })
  .meta({ id: 'CompatCurrencyPatch' });

export type CurrencyDto = z.infer<typeof currencySchema>;
export type CurrencyCreateBody = z.output<typeof currencyCreateBody>;
export type CurrencyPatchBody = z.output<typeof currencyPatchBody>;

/** The Currency-API service lists every row; pages exist for very long lists. */
export const compatCurrenciesQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
  offset: z.coerce.number().int().min(0).default(0),
});
