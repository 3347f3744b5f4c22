// A stored firing read beside another table's row (a callback to send, a mail to send): its columns
// under an `e_` prefix, from `alert_events e` joined to `alerts a`, and the firing they make up.
import { sql, type RawBuilder } from 'kysely';

import type { AlertFiringRow } from './alert-events.repository.ts';

/** The firing's columns, prefixed, each null where no firing was joined. */
export type PrefixedFiringColumns = { [K in keyof AlertFiringRow as `e_${K}`]: AlertFiringRow[K] | null };

/** The select list (over aliases `e` = alert_events and `a` = alerts); decimals as their exact text. */
export const PREFIXED_FIRING_COLUMNS: RawBuilder<unknown> = sql`
  e.id as e_event_id, e.alert_id as e_alert_id, e.user_id as e_user_id, e.test as e_test,
  a.source as e_source, a.symbol as e_symbol, e.observation as e_observation,
  e.observed_value::text as e_observed_value, e.previous_value::text as e_previous_value,
  e.change_pct::text as e_change_pct, e.observed_at as e_observed_at, e.condition as e_condition,
  e.channels as e_channels`;

/** The names of those columns, to carry them on through a RETURNING list under alias `r`. */
export const PREFIXED_FIRING_NAMES: RawBuilder<unknown> = sql`
  r.e_event_id, r.e_alert_id, r.e_user_id, r.e_test, r.e_source, r.e_symbol, r.e_observation,
  r.e_observed_value, r.e_previous_value, r.e_change_pct, r.e_observed_at, r.e_condition, r.e_channels`;

/** The firing of a row that joined one (its `e_event_id` is set). */
export function firingFromColumns(r: PrefixedFiringColumns): AlertFiringRow {
  return {
    event_id: r.e_event_id!,
    alert_id: r.e_alert_id!,
    user_id: r.e_user_id!,
    test: r.e_test!,
    source: r.e_source!,
    symbol: r.e_symbol!,
    observation: r.e_observation!,
    observed_value: r.e_observed_value!,
    previous_value: r.e_previous_value,
    change_pct: r.e_change_pct,
    observed_at: r.e_observed_at!,
    condition: r.e_condition,
    channels: r.e_channels!,
  };
}
