// Exchange jobs over REST: the submit body (the calculate body plus request_id and callback_url),
// the job as the api shows it, and the reply, compatible with the async exchange service, of POST /api/exchange_async.
import { z } from 'zod';

import { decimalString } from './common.schemas.ts';
import { jobStatus } from './events.schemas.ts';
import { exchangeCalculateBody } from './exchange.schemas.ts';
import { text } from './text.schemas.ts';

export const callbackUrl = text()
  .trim()
  .max(2048, { message: 'at most 2048 characters' })
  .refine(
    (value) => {
      try {
        const u = new URL(value);
        return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && !u.username && !u.password;
      } catch {
        return false;
      }
    },
    { message: 'expected an http:// or https:// URL without credentials' },
  )
  .meta({ description: 'Where the result is PUT; private and loopback addresses are refused unless allowed' });

export const requestId = text()
  .trim()
  .min(1, { message: 'must not be empty' })
  .max(200, { message: 'at most 200 characters' })
  .meta({ description: "The caller's id for this request; the same id with the same body returns the same job" });

export const exchangeJobBody = exchangeCalculateBody
  .safeExtend({ request_id: requestId, callback_url: callbackUrl.optional() })
  .meta({ id: 'ExchangeJobBody' });

export const jobIdParams = z.object({ id: z.uuid({ message: 'expected a job id (UUID)' }) });

export const exchangeJobAccepted = z
  .object({ job_id: z.uuid(), status: jobStatus })
  .meta({ id: 'ExchangeJobAccepted' });

export const exchangeJobCompatAccepted = z.object({ status: z.literal('ok'), job_id: z.uuid() });

export const jobCallbackState = z.object({
  state: z.enum(['none', 'pending', 'delivered', 'failed']).meta({
    description: '`none` until the result exists, or when the job has no callback target',
  }),
  attempts: z.number().int(),
  next_attempt_at: z.string().nullable(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  delivered_at: z.string().nullable(),
});

export const exchangeJobView = z
  .object({
    job_id: z.uuid(),
    request_id: z.string(),
    status: jobStatus,
    currency: z.string().nullable(),
    rate: decimalString,
    breakdown: z.array(z.object({ denomination_id: z.number().int(), subtotal_rub: decimalString })).nullable(),
    total_rub: decimalString.nullable(),
    error: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable(),
    callback: jobCallbackState,
  })
  .meta({ id: 'ExchangeJob' });

export const exchangeJobList = z.object({
  items: z.array(exchangeJobView),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});

export type ExchangeJobBody = z.output<typeof exchangeJobBody>;
export type ExchangeJobView = z.infer<typeof exchangeJobView>;
export type JobCallbackState = z.infer<typeof jobCallbackState>;
