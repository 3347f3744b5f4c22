// NATS subjects and payloads, and the Redis `notifications` message. Publishers build with these
// schemas and consumers validate with them: a message that does not parse is logged and dropped.
import { z } from 'zod';

import { ID_FORMS, binanceSymbol, currencyCode, decimalString, exactly, isoDate } from './common.schemas.ts';
import { positiveDecimalInput } from './decimal.schemas.ts';

export const SUBJECTS = {
  ratesCbrUpdated: 'rates.cbr.updated',
  ratesBinanceUpdated: 'rates.binance.updated',
  currenciesCreated: 'currencies.created',
  currenciesUpdated: 'currencies.updated',
  currenciesDeleted: 'currencies.deleted',
  currenciesInbound: 'currencies.updates',
  tasksRatesRefresh: 'tasks.rates-refresh', // .requested | .queued | .running | .done | .failed
  /** NATS request/reply served by any worker: fetch and store the CBR rates for one past day. */
  ratesCbrFetchDay: 'rates.cbr.fetch-day',
  jobsSubmit: 'jobs.exchange.submit',
  jobsCompleted: 'jobs.exchange.completed',
  jobsFailed: 'jobs.exchange.failed',
  callbackDelivered: 'jobs.exchange.callback.delivered',
  callbackFailed: 'jobs.exchange.callback.failed',
} as const;

export const REDIS_NOTIFICATIONS = 'notifications';

const cbrRateFields = {
  value: decimalString.meta({ description: 'Rubles for `nominal` units' }),
  nominal: z.number().int().positive(),
  unit_rate: decimalString.meta({ description: 'Rubles for one unit' }),
};

export const cbrUpdatedEvent = z.object({
  date: isoDate.meta({ description: 'Effective date of the rates (ValCurs@Date)' }),
  changed: z.array(
    z.object({
      code: currencyCode,
      ...cbrRateFields,
      previous: z.object(cbrRateFields).nullable(),
    }),
  ),
});

export const binanceUpdatedEvent = z.object({
  ts: z.string().meta({ description: 'ISO time of the snapshot' }),
  changed: z.array(z.object({ symbol: binanceSymbol, price: decimalString, previous: decimalString.nullable() })),
});

export const currencyEvent = z.object({
  id: z.number().int(),
  code: currencyCode,
  name: z.string().nullable(),
  nominal: z.number().int().positive(),
  rate: decimalString,
  unit_rate: decimalString,
  updated_at: z.string(),
  source: z.enum(['api', 'cbr']),
});

export const currencyDeletedEvent = z.object({ id: z.number().int(), code: currencyCode });

/**
 * Inbound from outside publishers on `currencies.updates`: validated and forwarded, never stored.
 * Rates are decimal inputs (parse the message with exact numbers): decimal strings after parsing.
 */
export const inboundCurrencyUpdate = z.object({
  event: z.literal('rates_update'),
  rates: z
    .record(
      z.string().regex(exactly(ID_FORMS.currencyCode), { message: 'keys are 3-letter currency codes' }),
      positiveDecimalInput,
    )
    .refine((r) => Object.keys(r).length > 0 && Object.keys(r).length <= 500, { message: '1 to 500 rates' }),
});

export const taskStatus = z.enum(['queued', 'running', 'done', 'failed']);
export const taskEvent = z.object({
  task_id: z.string().uuid(),
  status: taskStatus,
  detail: z.string().optional(),
});

export const cbrFetchDayRequest = z.object({ date: isoDate });
export const cbrFetchDayReply = z.union([
  z.object({ ok: z.literal(true), requested: isoDate, effective: isoDate.nullable() }),
  z.object({ ok: z.literal(false), error: z.string() }),
]);

export const jobStatus = z.enum(['queued', 'running', 'done', 'failed']);
export const jobResultEvent = z.object({
  job_id: z.string().uuid(),
  request_id: z.string(),
  status: jobStatus,
  total_rub: decimalString.optional(),
  error: z.string().optional(),
});
export const callbackEvent = z.object({
  job_id: z.string().uuid(),
  request_id: z.string(),
  webhook_id: z.string(),
  attempts: z.number().int(),
  status_code: z.number().int().nullable(),
  error: z.string().optional(),
});

/** Redis pub/sub `notifications`: job and task progress. */
export const notificationMessage = z.union([
  z.object({
    job_id: z.string().uuid(),
    status: jobStatus,
    progress: z.number().min(0).max(1).optional(),
    detail: z.string().optional(),
  }),
  z.object({
    task_id: z.string().uuid(),
    status: taskStatus,
    progress: z.number().min(0).max(1).optional(),
    detail: z.string().optional(),
  }),
]);

export type CbrUpdatedEvent = z.infer<typeof cbrUpdatedEvent>;
export type BinanceUpdatedEvent = z.infer<typeof binanceUpdatedEvent>;
export type CurrencyEvent = z.infer<typeof currencyEvent>;
export type CurrencyDeletedEvent = z.infer<typeof currencyDeletedEvent>;
export type InboundCurrencyUpdate = z.infer<typeof inboundCurrencyUpdate>;
export type TaskEvent = z.infer<typeof taskEvent>;
export type JobResultEvent = z.infer<typeof jobResultEvent>;
export type CallbackEvent = z.infer<typeof callbackEvent>;
export type NotificationMessage = z.infer<typeof notificationMessage>;
