// A firing as it is announced (NATS alerts.triggered → WS alerts:<user_id>) and as its callback is
// sent: one mapping from the stored row, and the one way to announce committed firings (publish,
// then mark them published; the rows a crash left unmarked are announced by the worker's sweep).
import { SUBJECTS, alertTriggeredEvent, type AlertTriggeredEvent } from '@ratewire/contracts';
import { normalize } from '@ratewire/money';
import { errorMessage, type Logger } from '@ratewire/runtime';

import type { Database } from '../pool.ts';
import type { AlertFiringRow } from './alert-events.repository.ts';
import { markAlertEventsPublished } from './alert-events.repository.ts';

export function alertFiringEvent(row: AlertFiringRow): AlertTriggeredEvent {
  return alertTriggeredEvent.parse({
    type: 'alert.triggered',
    alert_id: row.alert_id,
    event_id: row.event_id,
    user_id: row.user_id,
    test: row.test,
    source: row.source,
    symbol: row.symbol,
    condition: conditionOut(row.condition),
    observed: {
      value: normalize(row.observed_value),
      previous: row.previous_value === null ? null : normalize(row.previous_value),
      at: row.observed_at.toISOString(),
      ...(row.change_pct !== null ? { change_pct: row.change_pct } : {}),
    },
    channels: row.channels,
  });
}

/** The stored condition with its decimals written as the rest of the answers write them. */
function conditionOut(condition: unknown): unknown {
  const c = condition as Record<string, unknown>;
  if (typeof c.level === 'string') return { ...c, level: normalize(c.level) };
  if (typeof c.threshold_pct === 'string') return { ...c, threshold_pct: normalize(c.threshold_pct) };
  return c;
}

/** The callback body of a firing: the event without its routing fields (who, which channels). */
export function alertCallbackPayload(event: AlertTriggeredEvent): Record<string, unknown> {
  const { user_id: _user, channels: _channels, ...body } = event;
  return body;
}

/**
 * Announces committed firings on NATS and marks them published. A publish that fails leaves its
 * row unmarked, for the sweep; this never throws.
 */
export async function announceAlertFirings(
  deps: { db: Database; publish: (subject: string, data: string) => void; log: Logger },
  rows: readonly AlertFiringRow[],
): Promise<void> {
  const published: string[] = [];
  for (const row of rows) {
    try {
      deps.publish(SUBJECTS.alertsTriggered, JSON.stringify(alertFiringEvent(row)));
      published.push(row.event_id);
    } catch (err) {
      deps.log.warn({ err: errorMessage(err), event_id: row.event_id }, 'alert firing not announced; the sweep will');
    }
  }
  try {
    await markAlertEventsPublished(deps.db, published);
  } catch (err) {
    // announced but not marked: the sweep announces them again (consumers dedupe on event_id)
    deps.log.warn({ err: errorMessage(err), events: published.length }, 'alert firings not marked published');
  }
}
