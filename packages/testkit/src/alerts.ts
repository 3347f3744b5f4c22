// Alerts for tests: a whole definition with plain defaults (a once `crosses_above 100` on a symbol
// of its own, by ws), so a case states only what it is about; inserted as the api inserts them.
import { randomUUID } from 'node:crypto';

import { insertAlertWithinLimit, type AlertRow, type Database, type NewAlert } from '@ratewire/db';

/** A Binance-shaped symbol no other case uses: its observations are the case's own. */
export const uniqueSymbol = () => `T${randomUUID().replaceAll('-', '').slice(0, 10).toUpperCase()}USDT`;

export function alertDefinition(userId: string, over: Partial<NewAlert> = {}): NewAlert {
  const pct = over.condition_type === 'pct_change';
  return {
    user_id: userId,
    source: 'binance',
    symbol: uniqueSymbol(),
    condition_type: 'crosses_above',
    level: pct ? null : '100',
    window_seconds: null,
    threshold_pct: null,
    direction: null,
    frequency: 'once',
    cooldown_seconds: 0,
    rearm_pct: '0',
    expires_at: null,
    channels: ['ws'],
    callback_url: null,
    ...over,
  };
}

/** Inserts one (within a generous active limit) and answers the stored row. */
export async function insertAlert(db: Database, userId: string, over: Partial<NewAlert> = {}): Promise<AlertRow> {
  const row = await insertAlertWithinLimit(db, alertDefinition(userId, over), 1_000_000);
  if (!row) throw new Error('the alert was not inserted');
  return row;
}
