// The bodies of the callbacks Ratewire sends (Standard Webhooks signed: webhook-id, webhook-timestamp,
// webhook-signature), as a receiver reads them. The worker builds them; `ratewire callbacks listen`
// and the catalogue read them with these.
import { z } from 'zod';

import { alertTriggeredEvent } from './alerts.schemas.ts';
import { decimalInput } from './decimal.schemas.ts';

/**
 * An exchange job's result, sent with PUT in the async exchange service's shape. `subtotal_rub` is a
 * JSON number written digit for digit (read it exactly); `token` is there only in callbacks to the
 * operator's EXCHANGE_CALLBACK_URL, never in one to an address a user supplied.
 */
export const jobCallbackBody = z.object({
  token: z.string().nullable().optional(),
  request_id: z.string(),
  breakdown: z.array(z.object({ denomination_id: z.number().int(), subtotal_rub: decimalInput })),
});

/** An alert firing, sent with POST: `alerts.triggered` without whom it is for and where else it went. */
export const alertCallbackBody = alertTriggeredEvent.omit({ user_id: true, channels: true });

export type JobCallbackBody = z.output<typeof jobCallbackBody>;
export type AlertCallbackBody = z.output<typeof alertCallbackBody>;
