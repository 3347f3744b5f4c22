import { sql, type Kysely } from 'kysely';

// What each CBR effective date holds, kept by triggers: how many rates are stored for it and when
// they were last written. A past range's ETag is made from this (a few thousand rows for thirty
// years) instead of a scan of every rate in the range; any insert, rewrite or delete of a rate —
// by the poller, a fetched day, a backfill or by hand — moves it.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('cbr_rate_days')
    .addColumn('date', 'date', (c) => c.primaryKey())
    .addColumn('rows', 'integer', (c) => c.notNull())
    .addColumn('written_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await sql`
    insert into cbr_rate_days (date, rows, written_at)
    select date, count(*), max(fetched_at) from cbr_rates group by date
  `.execute(db);
  await sql`
    create function cbr_rate_days_track() returns trigger language plpgsql as $$
    begin
      -- each branch names only the transition tables its event has
      if tg_op = 'TRUNCATE' then
        delete from cbr_rate_days;
      elsif tg_op = 'INSERT' then
        insert into cbr_rate_days as d (date, rows, written_at)
        select date, count(*), clock_timestamp() from new_rows group by date
        on conflict (date) do update set rows = d.rows + excluded.rows, written_at = excluded.written_at;
      elsif tg_op = 'DELETE' then
        insert into cbr_rate_days as d (date, rows, written_at)
        select date, -count(*), clock_timestamp() from old_rows group by date
        on conflict (date) do update set rows = d.rows + excluded.rows, written_at = excluded.written_at;
      else
        insert into cbr_rate_days as d (date, rows, written_at)
        select date, sum(n), clock_timestamp() from (
          select date, 1 as n from new_rows union all select date, -1 as n from old_rows
        ) changes group by date
        on conflict (date) do update set rows = d.rows + excluded.rows, written_at = excluded.written_at;
      end if;
      return null;
    end $$
  `.execute(db);
  // one statement-level trigger per event, each with the transition tables its event has
  const events = [
    ['insert', 'referencing new table as new_rows'],
    ['update', 'referencing old table as old_rows new table as new_rows'],
    ['delete', 'referencing old table as old_rows'],
  ] as const;
  for (const [event, referencing] of events) {
    await sql`
      create trigger ${sql.raw(`cbr_rate_days_${event}`)} after ${sql.raw(event)} on cbr_rates
        ${sql.raw(referencing)} for each statement execute function cbr_rate_days_track()
    `.execute(db);
  }
  await sql`
    create trigger cbr_rate_days_truncate after truncate on cbr_rates
      for each statement execute function cbr_rate_days_track()
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['insert', 'update', 'delete', 'truncate']) {
    await sql`drop trigger ${sql.raw(`cbr_rate_days_${t}`)} on cbr_rates`.execute(db);
  }
  await sql`drop function cbr_rate_days_track()`.execute(db);
  await db.schema.dropTable('cbr_rate_days').execute();
}
