// A stored firing's columns as AlertFiringRow names them: read from the firing itself (it carries
// its source and symbol), over an alert_events row under any alias, plainly or under an `e_` prefix
// for reading a firing beside another table's row (a callback to send, a mail to send).
import { sql, type RawBuilder } from 'kysely';

import type { AlertFiringRow } from './alert-events.repository.ts';

/** Each field and the column (decimals as their exact text) it is read from. */
const FIRING_FIELDS: readonly [keyof AlertFiringRow, string][] = [
  ['event_id', 'id'],
  ['alert_id', 'alert_id'],
  ['user_id', 'user_id'],
  ['test', 'test'],
  ['source', 'source'],
  ['symbol', 'symbol'],
  ['observation', 'observation'],
  ['observed_value', 'observed_value::text'],
  ['previous_value', 'previous_value::text'],
  ['change_pct', 'change_pct::text'],
  ['observed_at', 'observed_at'],
  ['condition', 'condition'],
  ['channels', 'channels'],
];

/** The select list over an alert_events row aliased `alias`, each field named as AlertFiringRow does (or `e_<field>`). */
export function firingColumns(alias: string, prefix: '' | 'e_' = ''): RawBuilder<unknown> {
  if (!/^[a-z_]+$/.test(alias)) throw new TypeError(`bad alias ${alias}`);
  return sql.raw(FIRING_FIELDS.map(([field, column]) => `${alias}.${column} as ${prefix}${field}`).join(', '));
}

/** The firing's columns, prefixed, each null where no firing was joined. */
export type PrefixedFiringColumns = { [K in keyof AlertFiringRow as `e_${K}`]: AlertFiringRow[K] | null };

/** The select list over `alert_events e`, prefixed `e_`. */
export const PREFIXED_FIRING_COLUMNS: RawBuilder<unknown> = firingColumns('e', 'e_');

/** The prefixed names, to carry them on through a RETURNING list under alias `r`. */
export const PREFIXED_FIRING_NAMES: RawBuilder<unknown> = sql.raw(
  FIRING_FIELDS.map(([field]) => `r.e_${field}`).join(', '),
);

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
