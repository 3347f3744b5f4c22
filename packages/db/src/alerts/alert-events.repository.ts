// alert_events: the firings. One statement decides a tick: it locks the candidate alerts, checks
// each condition exactly against the observation (numeric, in Postgres), writes the firings, moves
// every candidate's state (triggered, armed, waiting, last firing) and queues the firings' callbacks
// and mail. Why a firing happens exactly once, however many evaluators run and whenever one dies:
// - the firing row and the state it advances commit together or not at all;
// - the candidates are locked, so a second evaluator of the same tick waits, then decides on the
//   advanced state (a `once` alert is no longer active, an `every_time` one is disarmed, a
//   `once_per_day` one fired today), and an observation no newer than the last firing never fires;
// - and the row is unique on (alert, observation): whatever got past the rest stops there.
// Announcing a firing (NATS alerts.triggered, and so the WS channel) follows the commit; the rows
// not yet marked published are announced again by a sweep, so a crash in between loses none.
import { sql, type RawBuilder } from 'kysely';

import { preparedAs, type Database } from '../pool.ts';
import { firingColumns } from './alert-firing-columns.ts';
import { CONDITION_JSON } from './alerts.repository.ts';

/**
 * One symbol's observation in a tick: which stored observation to judge (the statement reads its
 * value and the one before it from the stored rates), and the pct_change references.
 */
export interface AlertObservationInput {
  symbol: string;
  /** pct_change: the value 1 h and 24 h before `at` (null: history does not reach back that far). */
  reference1h: string | null;
  reference24h: string | null;
  at: Date;
}

export interface AlertTick {
  source: 'binance' | 'cbr';
  observations: AlertObservationInput[];
  /** Alerts whose state this tick may change; the waiting alerts of the tick's symbols are added. */
  candidates: string[];
}

/** A firing as it is announced and delivered. */
export interface AlertFiringRow {
  event_id: string;
  alert_id: string;
  user_id: string;
  test: boolean;
  source: 'binance' | 'cbr';
  symbol: string;
  observation: string;
  observed_value: string;
  previous_value: string | null;
  change_pct: string | null;
  observed_at: Date;
  condition: unknown;
  channels: string[];
}

export interface AlertTickResult {
  fired: AlertFiringRow[];
  /**
   * Candidates that are not (or no longer) active — a `once` alert this tick triggered, or one
   * paused, expired, triggered on another evaluator or deleted since it was indexed: out of the index.
   */
  ended: string[];
  /** Candidate rows that were locked and judged. */
  judged: number;
}

/**
 * The stored observation a tick names, and the one before it: an alert is judged on the rates as
 * stored, whatever a change message says, so a message no feed wrote (or a stale one) fires nothing
 * the stored history does not call for. (Binance: the price recorded at that instant; CBR: the unit
 * rate of that effective date, against the date before.) SQL over alias g.
 */
const STORED: Record<AlertTick['source'], RawBuilder<unknown>> = {
  binance: sql`
    select h.price as value,
           (select p.price from binance_price_history p
            where p.symbol = g.symbol and p.observed_at < g.at order by p.observed_at desc limit 1) as previous
    from binance_price_history h where h.symbol = g.symbol and h.observed_at = g.at limit 1`,
  cbr: sql`
    select r.unit_rate as value,
           (select p.unit_rate from cbr_rates p
            where p.code = g.symbol and p.date < r.date order by p.date desc limit 1) as previous
    from cbr_rates r where r.code = g.symbol and r.date = (g.at at time zone 'UTC')::date`,
};

/** The move of pct_change, by direction, against the reference `r` (SQL over alias j). */
const MOVE = sql`(case j.direction when 'up' then j.value - j.reference when 'down' then j.reference - j.value
                   else abs(j.value - j.reference) end)`;

/** Queues the callback and the mail of the firings in CTE `ins` (one callback, one mail each at most). */
const QUEUE_DELIVERIES: RawBuilder<unknown> = sql`
  cb as (
    insert into callback_deliveries (alert_event_id, url, webhook_id, next_attempt_at)
    select ins.id, a.callback_url, 'msg_' || ins.id, now()
    from ins join alerts a on a.id = ins.alert_id
    where 'callback' = any(ins.channels) and a.callback_url is not null
    on conflict do nothing
  ),
  mail as (
    insert into mail_outbox (kind, user_id, to_address, alert_event_id)
    select 'alert_triggered', u.id, u.email, ins.id
    from ins join users u on u.id = ins.user_id
    where 'email' = any(ins.channels) and u.email_confirmed_at is not null
    on conflict do nothing
  )`;

/** Decides one tick and commits its firings (see the top of this file). */
export async function commitAlertTick(db: Database, tick: AlertTick): Promise<AlertTickResult> {
  if (!tick.observations.length) return { fired: [], ended: [], judged: 0 };
  const o = tick.observations;
  const at = o[0]!.at;
  if (o.some((x) => x.at.getTime() !== at.getTime())) throw new TypeError('one tick, one observation time');
  const symbols = o.map((x) => x.symbol);
  // pct_change references by symbol, {"<symbol>": {"h": <1 h before>, "d": <24 h before>}}: looked up per row
  const references: Record<string, { h?: string; d?: string }> = {};
  for (const x of o) {
    if (x.reference1h === null && x.reference24h === null) continue;
    references[x.symbol] = {
      ...(x.reference1h !== null ? { h: x.reference1h } : {}),
      ...(x.reference24h !== null ? { d: x.reference24h } : {}),
    };
  }
  const refs = sql`${JSON.stringify(references)}::jsonb`;
  const result = await sql<AlertFiringRow & { kind: 'fired' | 'ended' | 'stale' | 'judged'; n: number }>`
    ${preparedAs(`alert_tick_${tick.source}`)}with locked as (
      -- the candidates and the alerts waiting on the tick's symbols, by index (the id list, the
      -- waiting index); no join, so the plan holds whatever the lists' lengths (it is prepared)
      select a.id, a.user_id, a.source, a.symbol, a.condition_type, a.level, a.threshold_pct, a.direction,
             a.frequency, a.cooldown_seconds, a.rearm_pct, a.expires_at, a.channels, a.armed, a.last_fired_at,
             a.window_seconds, a.waiting as was_waiting, ${CONDITION_JSON} as condition,
             ${at.toISOString()}::timestamptz as at,
             (case a.window_seconds when 3600 then ${refs} -> a.symbol ->> 'h'
                                    when 86400 then ${refs} -> a.symbol ->> 'd' end)::numeric as reference
      from alerts a
      where (a.id = any(${tick.candidates}::uuid[]) or (a.waiting and a.symbol = any(${symbols}::text[])))
        and a.source = ${tick.source} and a.status = 'active'
      for update of a
    ), observed as (
      -- each candidate with the stored observation of its symbol (a lateral per row: no join
      -- between the statement's own parts, whose sizes the planner cannot know)
      select g.*, s.value, s.previous from locked g cross join lateral (${STORED[tick.source]}) s
    ), judged as (
      select j.*,
        coalesce(case j.condition_type
          when 'above' then j.value > j.level
          when 'below' then j.value < j.level
          when 'crosses_above' then j.previous < j.level and j.level <= j.value
          when 'crosses_below' then j.previous > j.level and j.level >= j.value
          else ${MOVE} * 100 >= j.threshold_pct * j.reference end, false) as holds,
        coalesce(case
          when j.condition_type in ('above', 'crosses_above') then j.value * 100 <= j.level * (100 - j.rearm_pct)
          when j.condition_type in ('below', 'crosses_below') then j.value * 100 >= j.level * (100 + j.rearm_pct)
          else ${MOVE} * 100 < (j.threshold_pct - j.rearm_pct) * j.reference end, false) as rearms,
        (j.expires_at is null or j.expires_at > j.at) and j.at > coalesce(j.last_fired_at, '-infinity') as current,
        case j.frequency
          when 'every_time' then j.last_fired_at is null
                                 or j.at >= j.last_fired_at + make_interval(secs => j.cooldown_seconds)
          when 'once_per_day' then j.last_fired_at is null
                                 or (j.last_fired_at at time zone 'UTC')::date < (j.at at time zone 'UTC')::date
          else true end as timely,
        j.condition_type in ('above', 'below', 'pct_change') as lasting
      from observed j
    ), ins as (
      insert into alert_events (alert_id, user_id, source, symbol, observation, observed_value, previous_value,
                                change_pct, observed_at, condition, channels)
      select j.id, j.user_id, j.source, j.symbol, j.source || ':' || j.symbol || '@' ||
               case j.source when 'cbr' then to_char(j.at at time zone 'UTC', 'YYYY-MM-DD')
               else to_char(j.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') end,
             j.value, case when j.condition_type = 'pct_change' then j.reference else j.previous end,
             case when j.condition_type = 'pct_change' then round((j.value - j.reference) * 100 / j.reference, 4) end,
             j.at, j.condition, j.channels
      from judged j
      where j.holds and j.armed and j.current and j.timely
      on conflict (alert_id, observation) do nothing
      returning *
    ), upd as (
      update alerts a set
        status = case when j.fired and j.frequency = 'once' then 'triggered' else a.status end,
        armed = case
          when j.fired then j.frequency <> 'every_time'
          when not j.armed and j.frequency = 'every_time' and j.rearms then true
          else a.armed end,
        waiting = j.lasting and j.holds and case
          when j.fired then j.frequency = 'once_per_day'
          else j.armed and not j.timely end,
        last_fired_at = case when j.fired then j.at else a.last_fired_at end,
        fired_count = a.fired_count + case when j.fired then 1 else 0 end,
        updated_at = case when j.fired then now() else a.updated_at end
      -- fired: its firing was written now (a hashed look-up, not a join)
      from (select j.*, j.id in (select alert_id from ins) as fired from judged j) j
      where a.id = j.id and j.current
        and (j.fired or (not j.armed and j.frequency = 'every_time' and j.rearms)
             or j.was_waiting <> (j.lasting and j.holds and j.armed and not j.timely))
      returning a.id, a.status
    ), ${QUEUE_DELIVERIES}
    select 'fired' as kind, 0 as n, ${firingColumns('ins')}
    from ins
    union all
    select 'ended', 0, null, upd.id, null, null, null, null, null, null, null, null, null, null, null
    from upd where upd.status <> 'active'
    union all
    select 'stale', 0, null, c.id, null, null, null, null, null, null, null, null, null, null, null
    from unnest(${tick.candidates}::uuid[]) as c(id) where c.id not in (select id from locked)
    union all
    select 'judged', (select count(*) from judged)::int, null, null, null, null, null, null, null, null, null, null,
           null, null, null`.execute(db);
  const fired: AlertFiringRow[] = [];
  const ended: string[] = [];
  let judged = 0;
  for (const { kind, n, ...row } of result.rows) {
    if (kind === 'fired') fired.push(row);
    else if (kind === 'ended' || kind === 'stale') ended.push(row.alert_id);
    else judged = n;
  }
  return { fired, ended, judged };
}

/**
 * A test firing of an alert (any status), observed at `value` now: delivered through every channel
 * the alert names, marked `test`, and leaving the alert's state as it was. Undefined when it is gone.
 */
export async function insertTestFiring(
  db: Database,
  alertId: string,
  observed: { value: string; previous: string | null },
): Promise<AlertFiringRow | undefined> {
  const result = await sql<AlertFiringRow>`
    with ins as (
      insert into alert_events (alert_id, user_id, source, symbol, observation, test, observed_value, previous_value,
                                observed_at, condition, channels)
      select a.id, a.user_id, a.source, a.symbol, 'test:' || gen_random_uuid(), true, ${observed.value}::numeric,
             ${observed.previous}::numeric, now(), ${CONDITION_JSON}, a.channels
      from alerts a where a.id = ${alertId}
      returning *
    ), ${QUEUE_DELIVERIES}
    select ${firingColumns('ins')} from ins`.execute(db);
  return result.rows[0];
}

/** Marks firings announced on NATS. */
export async function markAlertEventsPublished(db: Database, eventIds: readonly string[]): Promise<void> {
  if (!eventIds.length) return;
  await sql`update alert_events set published_at = now()
            where id = any(${eventIds}::uuid[]) and published_at is null`.execute(db);
}

/**
 * Claims firings committed at least `olderThanMs` ago and never announced (their evaluator died
 * between commit and publish): they are marked now, and the caller announces them.
 */
export async function claimUnpublishedAlertEvents(
  db: Database,
  olderThanMs: number,
  limit: number,
): Promise<AlertFiringRow[]> {
  const result = await sql<AlertFiringRow>`
    with due as (
      select id from alert_events
      where published_at is null and created_at <= now() - make_interval(secs => ${olderThanMs / 1000})
      order by created_at limit ${limit}
      for update skip locked
    ), marked as (
      update alert_events e set published_at = now() from due where e.id = due.id
      returning e.*
    )
    select ${firingColumns('m')} from marked m`.execute(db);
  return result.rows;
}

/** One channel's delivery state as stored (the contract's AlertDelivery is built from it). */
export interface StoredDelivery {
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  at: Date | null;
}

export interface AlertEventRow extends AlertFiringRow {
  created_at: Date;
  published_at: Date | null;
  callback: StoredDelivery | null;
  email: StoredDelivery | null;
}

/** An alert's firings, newest first, each with its callback's and its mail's state. */
export async function listAlertEvents(
  db: Database,
  q: { alertId: string; limit: number; offset: number },
): Promise<AlertEventRow[]> {
  const result = await sql<AlertEventRow>`
    select ${firingColumns('e')}, e.created_at, e.published_at,
           case when d.id is not null then jsonb_build_object('status', d.status, 'attempts', d.attempts,
             'last_status', d.last_status, 'last_error', d.last_error, 'at', d.delivered_at) end as callback,
           case when m.id is not null then jsonb_build_object('status', m.status, 'attempts', m.attempts,
             'last_status', null, 'last_error', m.last_error, 'at', m.sent_at) end as email
    from alert_events e
    left join callback_deliveries d on d.alert_event_id = e.id
    left join mail_outbox m on m.alert_event_id = e.id
    where e.alert_id = ${q.alertId}
    order by e.created_at desc, e.id desc
    limit ${q.limit} offset ${q.offset}`.execute(db);
  return result.rows.map((r) => ({
    ...r,
    callback: r.callback && { ...r.callback, at: r.callback.at && new Date(r.callback.at) },
    email: r.email && { ...r.email, at: r.email.at && new Date(r.email.at) },
  }));
}
