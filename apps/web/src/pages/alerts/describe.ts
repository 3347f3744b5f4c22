// Words for an alert's parts — its condition, source, frequency, channels — shared by the Alerts
// page and the firing notices. Part of the first load (the notices use it): it imports no schemas.
// Levels and thresholds stay the exact strings the API sends, only grouped for reading.
import { groupDigits } from '../../core/format.ts';

/** An alert condition as the API answers it (level types carry `level`; pct_change its window). */
export type ConditionOut =
  | { type: 'above' | 'below' | 'crosses_above' | 'crosses_below'; level: string }
  | { type: 'pct_change'; window: '1h' | '24h'; threshold_pct: string; direction: 'up' | 'down' | 'both' };

export const CONDITION_WORDS = {
  above: 'above',
  below: 'below',
  crosses_above: 'crosses above',
  crosses_below: 'crosses below',
  pct_change: 'changes by',
} as const;

const DIRECTION_WORDS = { up: 'up', down: 'down', both: 'up or down' } as const;

/** `above 55,800`, `crosses below 90.5`, `changes by ≥ 5% up or down in 1h`. */
export function describeCondition(c: ConditionOut): string {
  if (c.type === 'pct_change') {
    return `changes by ≥ ${groupDigits(c.threshold_pct)}% ${DIRECTION_WORDS[c.direction]} in ${c.window}`;
  }
  return `${CONDITION_WORDS[c.type]} ${groupDigits(c.level)}`;
}

export const SOURCE_WORDS = { binance: 'Binance', cbr: 'CBR' } as const;

export const FREQUENCY_WORDS = { once: 'Once', every_time: 'Every time', once_per_day: 'Once a day' } as const;

export const CHANNEL_WORDS = { ws: 'This console', callback: 'Callback', email: 'Email' } as const;
