// alerts: what a user asked to be told of, and its evaluation state. The api writes definitions
// (create, change, delete) and reads them; evaluators read the definitions changed since they last
// looked (changed_at, kept by trigger) and the expiry sweep ends the alerts whose time passed.
import { sql, type RawBuilder } from 'kysely';

import { binancePricesBefore } from '../binance-prices/binance-history.ts';
import { cbrUnitRatesBefore } from '../cbr-rates/cbr-history.ts';
import type { Database } from '../pool.ts';
import type { AlertsTable } from '../schema.ts';

export type AlertConditionType = AlertsTable['condition_type'];
export type AlertStatusValue = 'active' | 'triggered' | 'paused' | 'expired';

export interface AlertRow {
  id: string;
  user_id: string;
  source: 'binance' | 'cbr';
  symbol: string;
  condition_type: AlertConditionType;
  level: string | null;
  window_seconds: number | null;
  threshold_pct: string | null;
  direction: 'up' | 'down' | 'both' | null;
  frequency: 'once' | 'every_time' | 'once_per_day';
  cooldown_seconds: number;
  rearm_pct: string;
  expires_at: Date | null;
  channels: string[];
  callback_url: string | null;
  status: AlertStatusValue;
  armed: boolean;
  waiting: boolean;
  last_fired_at: Date | null;
  fired_count: number;
  created_at: Date;
  updated_at: Date;
}

const ALERT_COLUMNS = [
  'id',
  'user_id',
  'source',
  'symbol',
  'condition_type',
  'level',
  'window_seconds',
  'threshold_pct',
  'direction',
  'frequency',
  'cooldown_seconds',
  'rearm_pct',
  'expires_at',
  'channels',
  'callback_url',
  'status',
  'armed',
  'waiting',
  'last_fired_at',
  'fired_count',
  'created_at',
  'updated_at',
] as const;

/** The definition fields a create or a change writes. */
export interface AlertDefinition {
  condition_type: AlertConditionType;
  level: string | null;
  window_seconds: number | null;
  threshold_pct: string | null;
  direction: 'up' | 'down' | 'both' | null;
  frequency: 'once' | 'every_time' | 'once_per_day';
  cooldown_seconds: number;
  rearm_pct: string;
  expires_at: string | null;
  channels: string[];
  callback_url: string | null;
}

export type NewAlert = AlertDefinition & { user_id: string; source: 'binance' | 'cbr'; symbol: string };

/**
 * Inserts an alert unless its owner already holds `maxActive` active ones (undefined then). The
 * owner's row is locked for the count, so two creates at once cannot both pass the limit.
 */
export async function insertAlertWithinLimit(
  db: Database,
  alert: NewAlert,
  maxActive: number,
): Promise<AlertRow | undefined> {
  return db.transaction().execute(async (trx) => {
    if ((await activeCountLocked(trx, alert.user_id)) >= maxActive) return undefined;
    return trx
      .insertInto('alerts')
      .values({ ...alert, waiting: lasting(alert.condition_type) })
      .returning(ALERT_COLUMNS)
      .executeTakeFirstOrThrow();
  });
}

/**
 * A condition that is a state (above, below, pct_change) rather than an event (a crossing): a new or
 * resumed one starts `waiting`, so the next observation of its symbol judges it whether or not the
 * rate moved past its level then — it fires if the condition already holds.
 */
const lasting = (type: AlertConditionType) => type === 'above' || type === 'below' || type === 'pct_change';

async function activeCountLocked(trx: Database, userId: string): Promise<number> {
  await sql`select 1 from users where id = ${userId} for update`.execute(trx);
  const row = await trx
    .selectFrom('alerts')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('user_id', '=', userId)
    .where('status', '=', 'active')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findAlert(db: Database, id: string): Promise<AlertRow | undefined> {
  return db.selectFrom('alerts').select(ALERT_COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** One page of alerts, newest first: the owner's, or everyone's (userId null, for an admin). */
export async function listAlerts(
  db: Database,
  q: { userId: string | null; status?: AlertStatusValue | undefined; limit: number; offset: number },
): Promise<{ items: AlertRow[]; total: number }> {
  let base = db.selectFrom('alerts');
  if (q.userId !== null) base = base.where('user_id', '=', q.userId);
  if (q.status) base = base.where('status', '=', q.status);
  const [items, count] = await Promise.all([
    base
      .select(ALERT_COLUMNS)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit)
      .offset(q.offset)
      .execute(),
    base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items, total: Number(count.n) };
}

export type AlertChange = Partial<AlertDefinition> & { status?: 'active' | 'paused' };

/**
 * Applies a change. A new condition, frequency or rearm_pct, or a resume, starts the evaluation
 * state afresh (armed, not waiting). Resuming counts against the active limit: 'limit' when it is
 * reached. Undefined when the alert is gone.
 */
export async function updateAlert(
  db: Database,
  id: string,
  change: AlertChange,
  maxActive: number,
): Promise<AlertRow | 'limit' | undefined> {
  return db.transaction().execute(async (trx) => {
    const current = await trx
      .selectFrom('alerts')
      .select(['user_id', 'status', 'condition_type'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!current) return undefined;
    const resumes = change.status === 'active' && current.status !== 'active';
    if (resumes && (await activeCountLocked(trx, current.user_id)) >= maxActive) return 'limit';
    const fresh =
      resumes ||
      change.condition_type !== undefined ||
      change.frequency !== undefined ||
      change.rearm_pct !== undefined;
    return trx
      .updateTable('alerts')
      .set({
        ...change,
        ...(fresh ? { armed: true, waiting: lasting(change.condition_type ?? current.condition_type) } : {}),
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', id)
      .returning(ALERT_COLUMNS)
      .executeTakeFirst();
  });
}

export async function deleteAlert(db: Database, id: string): Promise<boolean> {
  const result = await db.deleteFrom('alerts').where('id', '=', id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Ends the alerts whose expires_at has passed; returns their ids. */
export async function expireAlerts(db: Database): Promise<string[]> {
  const rows = await db
    .updateTable('alerts')
    .set({ status: 'expired', waiting: false, updated_at: sql<Date>`now()` })
    .where('status', 'in', ['active', 'paused'])
    .where('expires_at', '<=', sql<Date>`now()`)
    .returning('id')
    .execute();
  return rows.map((r) => r.id);
}

/** What an evaluator indexes of an alert. */
export interface AlertIndexRow {
  id: string;
  source: 'binance' | 'cbr';
  symbol: string;
  condition_type: AlertConditionType;
  level: string | null;
  window_seconds: number | null;
  threshold_pct: string | null;
  direction: 'up' | 'down' | 'both' | null;
  frequency: 'once' | 'every_time' | 'once_per_day';
  rearm_pct: string;
  /** Only 'active' alerts are evaluated; any other status takes the alert out of an index. */
  status: AlertStatusValue;
  changed_at: Date;
}

const INDEX_COLUMNS = [
  'id',
  'source',
  'symbol',
  'condition_type',
  'level',
  'window_seconds',
  'threshold_pct',
  'direction',
  'frequency',
  'rearm_pct',
  'status',
  'changed_at',
] as const;

/** Active alerts in id order after `afterId` (null: from the first), a page at a time: an index built from nothing. */
export async function activeAlertsPage(db: Database, afterId: string | null, limit: number): Promise<AlertIndexRow[]> {
  let q = db.selectFrom('alerts').select(INDEX_COLUMNS).where('status', '=', 'active');
  if (afterId !== null) q = q.where('id', '>', afterId);
  return q.orderBy('id').limit(limit).execute();
}

/**
 * The alerts whose definition or status changed at or after `since` (any status), and the
 * database's clock when they were read (from then on the caller's picture is complete): one round trip.
 */
export async function alertsChangedSince(db: Database, since: Date): Promise<{ now: Date; rows: AlertIndexRow[] }> {
  const result = await sql<AlertIndexRow & { now: Date; id: string | null }>`
    select n.now, ${sql.join(INDEX_COLUMNS.map((c) => sql.ref(`a.${c}`)))}
    from (select clock_timestamp() as now) n
    left join alerts a on a.changed_at >= ${since}
    order by a.changed_at`.execute(db);
  const now = result.rows[0]!.now;
  const rows = result.rows.filter((r) => r.id !== null).map(({ now: _now, ...row }) => row);
  return { now, rows };
}

/** The database's clock, for an index to know from when it is complete. */
export async function databaseNow(db: Database): Promise<Date> {
  const row = await sql<{ now: Date }>`select clock_timestamp() as now`.execute(db);
  return row.rows[0]!.now;
}

/** The condition as the contract shows it, built in SQL (for a firing's copy of it). */
export const CONDITION_JSON: RawBuilder<unknown> = sql`
  case when a.condition_type = 'pct_change'
    then jsonb_build_object('type', 'pct_change', 'window', case a.window_seconds when 3600 then '1h' else '24h' end,
                            'threshold_pct', a.threshold_pct::text, 'direction', a.direction)
    else jsonb_build_object('type', a.condition_type, 'level', a.level::text) end`;

/** What an alert on a symbol is judged against: whether it may be followed, and its latest stored observation. */
export interface AlertSubject {
  /** A Binance symbol's status in the symbol list (null: not listed); 'PUBLISHED' for a CBR code with a stored rate, else null. */
  status: string | null;
  /**
   * The latest stored value (a Binance price; a CBR unit rate in rubles), when it was observed, and
   * the last stored values at or before 1 h and 24 h earlier (pct_change's references; null when
   * history does not reach back that far).
   */
  latest: { value: string; at: Date; reference1h: string | null; reference24h: string | null } | null;
}

/**
 * A Binance symbol's status and its latest price (binance_prices.updated_at is when it was observed);
 * a CBR code's newest unit rate, observed at its effective date 00:00 UTC. The references are read as
 * the evaluators read them (binancePricesBefore, cbrUnitRatesBefore).
 */
export async function alertSubject(db: Database, source: 'binance' | 'cbr', symbol: string): Promise<AlertSubject> {
  if (source === 'binance') {
    const row = await db
      .selectFrom('binance_symbols as s')
      .leftJoin('binance_prices as p', 'p.symbol', 's.symbol')
      .select(['s.status', sql<string | null>`p.price::text`.as('value'), 'p.updated_at as at'])
      .where('s.symbol', '=', symbol)
      .executeTakeFirst();
    if (!row) return { status: null, latest: null };
    if (row.value === null || row.at === null) return { status: row.status, latest: null };
    const at = row.at;
    const [hour, day] = await Promise.all([
      binancePricesBefore(db, [symbol], at, 3600),
      binancePricesBefore(db, [symbol], at, 86_400),
    ]);
    return {
      status: row.status,
      latest: { value: row.value, at, reference1h: hour.get(symbol) ?? null, reference24h: day.get(symbol) ?? null },
    };
  }
  const row = await db
    .selectFrom('cbr_rates')
    .select([sql<string>`unit_rate::text`.as('value'), sql<string>`date::text`.as('date')])
    .where('code', '=', symbol)
    .orderBy('date', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return { status: null, latest: null };
  const before = (await cbrUnitRatesBefore(db, [symbol], row.date)).get(symbol) ?? null;
  return {
    status: 'PUBLISHED',
    latest: { value: row.value, at: new Date(`${row.date}T00:00:00Z`), reference1h: before, reference24h: before },
  };
}
