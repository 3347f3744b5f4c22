// Rate alerts: the body that creates one, the changes PATCH accepts, an alert and its firings as the
// owner sees them, and the firing as it is announced (NATS `alerts.triggered`, WS `alerts:<user_id>`,
// the signed callback; defined in alert-events.schemas and re-exported here). Levels and thresholds
// are exact decimals, strings in every answer.
import { z } from 'zod';

import {
  ALERT_CHANNELS,
  ALERT_DIRECTIONS,
  ALERT_LEVEL_TYPES,
  alertChannel,
  alertConditionOut,
  alertObservation,
  alertSource,
} from './alert-events.schemas.ts';
import { binanceSymbol, currencyCode, decimalString } from './common.schemas.ts';
import { decimalInput, positiveDecimalInput } from './decimal.schemas.ts';
import { callbackUrl } from './jobs.schemas.ts';
import { text } from './text.schemas.ts';

export {
  ALERT_CHANNELS,
  ALERT_DIRECTIONS,
  ALERT_LEVEL_TYPES,
  ALERT_SOURCES,
  alertChannel,
  alertConditionOut,
  alertObservation,
  alertSource,
  alertTriggeredEvent,
  type AlertObservation,
  type AlertTriggeredEvent,
} from './alert-events.schemas.ts';

export const ALERT_CONDITION_TYPES = [...ALERT_LEVEL_TYPES, 'pct_change'] as const;
export const ALERT_FREQUENCIES = ['once', 'every_time', 'once_per_day'] as const;
export const ALERT_STATUSES = ['active', 'triggered', 'paused', 'expired'] as const;
/** pct_change windows, in seconds. */
export const ALERT_WINDOWS = { '1h': 3600, '24h': 86_400 } as const;
/** The longest cooldown: 30 days. */
export const MAX_ALERT_COOLDOWN_SECONDS = 30 * 86_400;

export const alertStatus = z.enum(ALERT_STATUSES).meta({
  id: 'AlertStatus',
  description:
    '`active`: evaluated on every rate change; `triggered`: a `once` alert that fired; `paused`: kept, not ' +
    'evaluated; `expired`: its `expires_at` passed',
});
export const alertFrequency = z.enum(ALERT_FREQUENCIES).meta({
  id: 'AlertFrequency',
  description:
    '`once` (default): the first firing makes the alert `triggered`; `every_time`: fires again after the rate ' +
    'moved `rearm_pct` back and `cooldown_seconds` passed; `once_per_day`: at most one firing per UTC day',
});

const pct = (what: string) =>
  decimalInput.refine((v) => /^\d{1,4}(\.\d{1,4})?$/.test(v) && Number(v.split('.')[0]) <= 1000, {
    message: `${what}: a percentage from 0 to 1000 with at most 4 decimal places`,
  });

const levelCondition = z
  .object({
    type: z.enum(ALERT_LEVEL_TYPES),
    level: positiveDecimalInput.meta({
      description: 'The level, an exact decimal (a string, or a JSON number read exactly)',
    }),
  })
  .strict()
  .meta({
    id: 'AlertLevelCondition',
    description:
      '`above`: fires while the rate is > level (also at creation); `below`: while < level; ' +
      '`crosses_above`: when previous < level ≤ current; `crosses_below`: when previous > level ≥ current. ' +
      'A crossing needs a previous observation: the first one a symbol has never crosses.',
  });

const pctCondition = z
  .object({
    type: z.literal('pct_change'),
    window: z.enum(Object.keys(ALERT_WINDOWS) as ['1h', '24h']),
    threshold_pct: pct('threshold_pct').refine((v) => /[1-9]/.test(v), { message: 'must be greater than 0' }),
    direction: z.enum(ALERT_DIRECTIONS).default('both'),
  })
  .strict()
  .meta({
    id: 'AlertPctCondition',
    description:
      'Fires while the rate moved at least threshold_pct against its value `window` before the observation ' +
      '(the last stored observation at or before that moment; none stored → no firing). CBR alerts take 24h.',
  });

export const alertCondition = z
  .discriminatedUnion('type', [levelCondition, pctCondition])
  .meta({ id: 'AlertCondition' });

const channels = z
  .array(alertChannel)
  .min(1, { message: 'at least one channel' })
  .max(ALERT_CHANNELS.length)
  .refine((c) => new Set(c).size === c.length, { message: 'each channel once' });

const expiresAt = text()
  .pipe(z.iso.datetime({ offset: true, message: 'expected an ISO 8601 date-time with a zone (…Z or +hh:mm)' }))
  .refine((v) => Date.parse(v) > Date.now(), { message: 'must be in the future' })
  .refine((v) => Date.parse(v) < Date.UTC(10_000, 0, 1), { message: 'must be before the year 10000' });

const cooldown = z.number().int().min(0).max(MAX_ALERT_COOLDOWN_SECONDS);

/** Checks that hold across fields of a whole alert (created, or after a PATCH). */
export function alertShapeIssues(alert: {
  source: string;
  symbol: string;
  condition: { type: string; window?: string };
  channels: readonly string[];
  callback_url?: string | null | undefined;
}): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  const symbol = alert.source === 'cbr' ? currencyCode : binanceSymbol;
  if (!symbol.safeParse(alert.symbol).success) {
    issues.push({
      path: ['symbol'],
      message:
        alert.source === 'cbr' ? 'expected a 3-letter currency code' : 'expected a Binance symbol such as BTCUSDT',
    });
  }
  if (alert.source === 'cbr' && alert.condition.type === 'pct_change' && alert.condition.window !== '24h') {
    issues.push({
      path: ['condition', 'window'],
      message: 'CBR publishes once a day: a CBR pct_change takes window 24h',
    });
  }
  const wantsCallback = alert.channels.includes('callback');
  if (wantsCallback && !alert.callback_url) {
    issues.push({ path: ['callback_url'], message: 'required with the callback channel' });
  }
  if (!wantsCallback && alert.callback_url) {
    issues.push({ path: ['channels'], message: 'callback_url is given: add the callback channel, or leave it out' });
  }
  return issues;
}

export const createAlertBody = z
  .object({
    source: alertSource,
    symbol: text().trim().toUpperCase().max(30),
    condition: alertCondition,
    frequency: alertFrequency.default('once'),
    cooldown_seconds: cooldown.default(0).meta({
      description: '`every_time`: no firing sooner than this after the previous one (a crossing inside it is skipped)',
    }),
    rearm_pct: pct('rearm_pct')
      .default('0')
      .meta({
        description:
          '`every_time`: re-armed only once the rate is back beyond the level by this percentage ' +
          '(above/crosses_above: ≤ level × (1 − rearm_pct/100)); for pct_change, once the move is under threshold − rearm_pct',
      }),
    expires_at: expiresAt.optional().meta({ description: 'When the alert becomes `expired` (ISO 8601)' }),
    channels,
    callback_url: callbackUrl.optional().meta({
      description: 'Where firings are POSTed, signed with your webhook secret; required with the callback channel',
    }),
  })
  .strict()
  .superRefine((body, ctx) => {
    for (const issue of alertShapeIssues(body)) ctx.addIssue({ code: 'custom', ...issue });
  })
  .meta({ id: 'CreateAlertRequest' });

export const updateAlertBody = z
  .object({
    condition: alertCondition.optional(),
    frequency: alertFrequency.optional(),
    cooldown_seconds: cooldown.optional(),
    rearm_pct: pct('rearm_pct').optional(),
    expires_at: expiresAt.nullable().optional().meta({ description: 'null: never expires' }),
    channels: channels.optional(),
    callback_url: callbackUrl.nullable().optional(),
    status: z.enum(['active', 'paused']).optional().meta({
      description: '`paused` stops evaluation; `active` resumes it (a triggered alert is armed again)',
    }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'nothing to change' })
  .meta({ id: 'UpdateAlertRequest' });

export const alertIdParams = z.object({ id: z.uuid({ message: 'expected an alert id (UUID)' }) });

export const alertListQuery = z.object({
  status: alertStatus.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export const alertSchema = z
  .object({
    id: z.uuid(),
    user_id: z.uuid(),
    source: alertSource,
    symbol: z.string(),
    condition: alertConditionOut,
    frequency: alertFrequency,
    cooldown_seconds: z.number().int(),
    rearm_pct: decimalString,
    expires_at: z.string().nullable(),
    channels: z.array(alertChannel),
    callback_url: z.string().nullable(),
    status: alertStatus,
    armed: z
      .boolean()
      .meta({ description: '`every_time`: false from a firing until the rate moved back by rearm_pct' }),
    last_fired_at: z.string().nullable(),
    fired_count: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Alert' });

export const alertList = z
  .object({ items: z.array(alertSchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int() })
  .meta({ id: 'AlertList' });

export const ALERT_DELIVERY_STATES = ['pending', 'sent', 'failed', 'skipped'] as const;
export const alertDelivery = z
  .object({
    status: z.enum(ALERT_DELIVERY_STATES),
    attempts: z.number().int().optional(),
    last_status: z.number().int().nullable().optional().meta({ description: 'callback: the last HTTP status' }),
    error: z.string().nullable().optional(),
    at: z.string().nullable().meta({ description: 'When it was sent' }),
  })
  .meta({ id: 'AlertDelivery' });

export const alertEventSchema = z
  .object({
    id: z.uuid(),
    alert_id: z.uuid(),
    test: z.boolean(),
    observation: z.string().meta({ description: 'What the firing is unique on: source, symbol and observation time' }),
    observed: alertObservation,
    created_at: z.string(),
    delivery: z
      .object({
        nats: alertDelivery,
        ws: alertDelivery.optional(),
        callback: alertDelivery.optional(),
        email: alertDelivery.optional(),
      })
      .meta({ description: 'Each channel the firing went to; `nats` (alerts.triggered) always' }),
  })
  .meta({ id: 'AlertEvent' });

export const alertEventList = z
  .object({ items: z.array(alertEventSchema), limit: z.number().int(), offset: z.number().int() })
  .meta({ id: 'AlertEventList' });

export const alertTestAccepted = z.object({ event_id: z.uuid(), alert_id: z.uuid() }).meta({ id: 'AlertTestAccepted' });

export type AlertSource = z.infer<typeof alertSource>;
export type AlertStatus = z.infer<typeof alertStatus>;
export type AlertFrequency = z.infer<typeof alertFrequency>;
export type AlertChannel = z.infer<typeof alertChannel>;
export type AlertCondition = z.output<typeof alertCondition>;
export type CreateAlertBody = z.output<typeof createAlertBody>;
export type UpdateAlertBody = z.output<typeof updateAlertBody>;
export type AlertDto = z.infer<typeof alertSchema>;
export type AlertEventDto = z.infer<typeof alertEventSchema>;
