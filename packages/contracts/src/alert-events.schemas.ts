// An alert's firing as it is announced — NATS `alerts.triggered`, WS `alerts:<user_id>`, the signed
// callback — with the condition and observation it carries, in a module of their own: they need
// only exact decimal strings, so a client that checks a firing (the web console, on every page)
// loads nothing else of the alerts contracts. alerts.schemas re-exports all of it.
import { z } from 'zod';

import { decimalString } from './decimal.schemas.ts';

export const ALERT_SOURCES = ['binance', 'cbr'] as const;
export const ALERT_LEVEL_TYPES = ['above', 'below', 'crosses_above', 'crosses_below'] as const;
export const ALERT_CHANNELS = ['ws', 'callback', 'email'] as const;
export const ALERT_DIRECTIONS = ['up', 'down', 'both'] as const;

export const alertSource = z.enum(ALERT_SOURCES).meta({
  id: 'AlertSource',
  description: '`binance`: a spot price (symbol such as BTCUSDT); `cbr`: a CBR unit rate in rubles (code such as USD)',
});
export const alertChannel = z.enum(ALERT_CHANNELS).meta({ id: 'AlertChannel' });

const levelConditionOut = z.object({ type: z.enum(ALERT_LEVEL_TYPES), level: decimalString });
const pctConditionOut = z.object({
  type: z.literal('pct_change'),
  window: z.enum(['1h', '24h']),
  threshold_pct: decimalString,
  direction: z.enum(ALERT_DIRECTIONS),
});
export const alertConditionOut = z.discriminatedUnion('type', [levelConditionOut, pctConditionOut]);

/** What was observed when an alert fired. */
export const alertObservation = z
  .object({
    value: decimalString.meta({ description: 'The rate observed' }),
    previous: decimalString.nullable().meta({
      description: 'The observation before it; for pct_change, the value `window` before',
    }),
    at: z.string().meta({ description: 'When it was observed (a CBR rate: its effective date, 00:00 UTC)' }),
    change_pct: decimalString.optional().meta({ description: 'pct_change: the move, in percent (4 places)' }),
  })
  .meta({ id: 'AlertObservation' });

/** The firing as it is announced: NATS alerts.triggered, WS alerts:<user_id>, and (minus user_id) the callback. */
export const alertTriggeredEvent = z
  .object({
    type: z.literal('alert.triggered'),
    alert_id: z.uuid(),
    event_id: z.uuid(),
    user_id: z.uuid(),
    test: z.boolean().meta({ description: 'true for POST /alerts/{id}/test' }),
    source: alertSource,
    symbol: z.string(),
    condition: alertConditionOut,
    observed: alertObservation,
    channels: z.array(alertChannel),
  })
  .meta({ id: 'AlertTriggeredEvent' });

export type AlertTriggeredEvent = z.infer<typeof alertTriggeredEvent>;
export type AlertObservation = z.infer<typeof alertObservation>;
