import { sql, type Kysely } from 'kysely';

// Rate alerts and their firings. A firing (alert_events) is unique on (alert, observation) and is
// written in the statement that advances its alert's state; its callback and its mail are queued in
// that same statement, in the tables that already carry job callbacks and account mail.
//
// `changed_at` moves (by trigger) whenever what an evaluator indexes changes — the definition or the
// status (but a firing's active → triggered) — and not when only the evaluation state (armed,
// waiting, last firing) does: the workers' in-memory indexes read the alerts changed since they last
// looked, by that column.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('alerts')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('binance', 'cbr')`))
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('condition_type', 'text', (c) =>
      c.notNull().check(sql`condition_type in ('above', 'below', 'crosses_above', 'crosses_below', 'pct_change')`),
    )
    .addColumn('level', 'numeric', (c) => c.check(sql`level > 0`))
    .addColumn('window_seconds', 'integer')
    .addColumn('threshold_pct', 'numeric', (c) => c.check(sql`threshold_pct > 0`))
    .addColumn('direction', 'text', (c) => c.check(sql`direction in ('up', 'down', 'both')`))
    .addColumn('frequency', 'text', (c) =>
      c
        .notNull()
        .defaultTo('once')
        .check(sql`frequency in ('once', 'every_time', 'once_per_day')`),
    )
    .addColumn('cooldown_seconds', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`cooldown_seconds >= 0`),
    )
    .addColumn('rearm_pct', 'numeric', (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`rearm_pct >= 0`),
    )
    .addColumn('expires_at', 'timestamptz')
    .addColumn('channels', sql`text[]`, (c) => c.notNull())
    .addColumn('callback_url', 'text')
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('active')
        .check(sql`status in ('active', 'triggered', 'paused', 'expired')`),
    )
    // every_time: false from a firing until the rate is back beyond the level by rearm_pct
    .addColumn('armed', 'boolean', (c) => c.notNull().defaultTo(true))
    // a level condition that holds but may not fire yet (cooldown, or already fired this UTC day)
    .addColumn('waiting', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('last_fired_at', 'timestamptz')
    .addColumn('fired_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('changed_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .addCheckConstraint(
      'alerts_condition_fields',
      sql`case when condition_type = 'pct_change'
            then level is null and window_seconds in (3600, 86400) and threshold_pct is not null and direction is not null
            else level is not null and window_seconds is null and threshold_pct is null and direction is null end`,
    )
    .execute();
  // an update that only moves the evaluation state (an every_time firing, a re-arm) stays on its page
  // and adds no index entries (HOT): room on each page, and no index on the columns it changes
  await sql`alter table alerts set (fillfactor = 80)`.execute(db);
  await sql`create index alerts_user_created_idx on alerts (user_id, created_at desc, id)`.execute(db);
  await sql`create index alerts_changed_idx on alerts (changed_at)`.execute(db);
  await sql`create index alerts_waiting_idx on alerts (source, symbol) where waiting`.execute(db);
  await sql`create index alerts_expiring_idx on alerts (expires_at) where expires_at is not null`.execute(db);
  await sql`
    create function alerts_touch_changed() returns trigger language plpgsql as $$
    begin
      -- a firing that ends a once alert (active → triggered) does not move it: the evaluator that
      -- committed it drops the alert from its index, and another evaluator drops it when it next
      -- finds it a candidate and the tick's statement does not (so ticks re-read no firings)
      if tg_op = 'INSERT' or (new.condition_type, new.level, new.window_seconds, new.threshold_pct, new.direction,
          new.frequency, new.rearm_pct, new.symbol, new.source)
        is distinct from (old.condition_type, old.level, old.window_seconds, old.threshold_pct, old.direction,
          old.frequency, old.rearm_pct, old.symbol, old.source)
        or (new.status is distinct from old.status and not (old.status = 'active' and new.status = 'triggered')) then
        new.changed_at := clock_timestamp();
      end if;
      return new;
    end $$`.execute(db);
  await sql`
    create trigger alerts_touch_changed before insert or update on alerts
    for each row execute function alerts_touch_changed()`.execute(db);

  await db.schema
    .createTable('alert_events')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    // no foreign key (its check would cost every firing a lookup of the alert it already holds locked):
    // an alert's deletion deletes its firings by trigger
    .addColumn('alert_id', 'uuid', (c) => c.notNull())
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('symbol', 'text', (c) => c.notNull())
    // `<source>:<symbol>@<observed time>` (a CBR rate: its effective date); `test:<uuid>` for a test
    .addColumn('observation', 'text', (c) => c.notNull())
    .addColumn('test', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('observed_value', 'numeric', (c) => c.notNull())
    .addColumn('previous_value', 'numeric')
    .addColumn('change_pct', 'numeric')
    .addColumn('observed_at', 'timestamptz', (c) => c.notNull())
    // the condition and channels as they were when it fired (the alert may change or go)
    .addColumn('condition', 'jsonb', (c) => c.notNull())
    .addColumn('channels', sql`text[]`, (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // alerts.triggered published (NATS, and so the WS channel): null until then
    .addColumn('published_at', 'timestamptz')
    // also an alert's firings, newest first (a few per alert: sorted as read)
    .addUniqueConstraint('alert_events_alert_observation_key', ['alert_id', 'observation'])
    .execute();
  await sql`create index alert_events_unpublished_idx on alert_events (created_at) where published_at is null`.execute(
    db,
  );
  await sql`
    create function alerts_delete_events() returns trigger language plpgsql as $$
    begin
      delete from alert_events e using old_rows o where e.alert_id = o.id;
      return null;
    end $$`.execute(db);
  await sql`
    create trigger alerts_delete_events after delete on alerts
    referencing old table as old_rows for each statement execute function alerts_delete_events()`.execute(db);

  // callbacks: a delivery is a job's result or an alert's firing, each at most once
  await sql`alter table callback_deliveries add column id bigint generated always as identity`.execute(db);
  await sql`alter table callback_deliveries drop constraint callback_deliveries_pkey`.execute(db);
  await sql`alter table callback_deliveries add primary key (id)`.execute(db);
  await sql`alter table callback_deliveries alter column job_id drop not null`.execute(db);
  await sql`alter table callback_deliveries add constraint callback_deliveries_job_id_key unique (job_id)`.execute(db);
  await sql`
    alter table callback_deliveries
      add column alert_event_id uuid references alert_events (id) on delete cascade,
      add constraint callback_deliveries_alert_event_id_key unique (alert_event_id),
      add constraint callback_deliveries_one_subject check (num_nonnulls(job_id, alert_event_id) = 1)`.execute(db);

  // mail: an alert's firing is one more kind of mail
  await sql`alter table mail_outbox drop constraint mail_outbox_kind_check`.execute(db);
  await sql`
    alter table mail_outbox
      add constraint mail_outbox_kind_check check (kind in ('confirm_email', 'password_reset', 'alert_triggered')),
      add column alert_event_id uuid references alert_events (id) on delete cascade,
      add constraint mail_outbox_alert_event_check check ((kind = 'alert_triggered') = (alert_event_id is not null))`.execute(
    db,
  );
  await sql`create unique index mail_outbox_alert_event_idx on mail_outbox (alert_event_id) where alert_event_id is not null`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`delete from mail_outbox where kind = 'alert_triggered'`.execute(db);
  await sql`drop index mail_outbox_alert_event_idx`.execute(db);
  await sql`
    alter table mail_outbox
      drop constraint mail_outbox_alert_event_check,
      drop column alert_event_id,
      drop constraint mail_outbox_kind_check,
      add constraint mail_outbox_kind_check check (kind in ('confirm_email', 'password_reset'))`.execute(db);
  await sql`delete from callback_deliveries where alert_event_id is not null`.execute(db);
  await sql`
    alter table callback_deliveries
      drop constraint callback_deliveries_one_subject,
      drop column alert_event_id,
      drop constraint callback_deliveries_job_id_key,
      drop constraint callback_deliveries_pkey,
      alter column job_id set not null`.execute(db);
  await sql`alter table callback_deliveries drop column id`.execute(db);
  await sql`alter table callback_deliveries add primary key (job_id)`.execute(db);
  await db.schema.dropTable('alert_events').execute();
  await db.schema.dropTable('alerts').execute();
  await sql`drop function alerts_delete_events()`.execute(db);
  await sql`drop function alerts_touch_changed()`.execute(db);
}
