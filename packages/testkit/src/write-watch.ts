// Records every row written to a test database (insert, update, delete, by table), so that a test
// can assert that a refused request or a dropped message wrote nothing. Row-level triggers append
// to a log in a schema of its own; a write rolled back leaves no entry.
// Import as `@ratewire/testkit/write-watch`.
import { sql } from 'kysely';

import type { Database } from '@ratewire/db';

export interface RowWrite {
  id: number;
  table: string;
  op: 'INSERT' | 'UPDATE' | 'DELETE';
}

export interface WriteWatch {
  /** The newest entry now: pass it to `since` later. */
  mark(): Promise<number>;
  /** Writes logged after `mark`. */
  since(mark: number): Promise<RowWrite[]>;
  /** Drops the triggers and the log. */
  remove(): Promise<void>;
}

const SCHEMA = 'rw_write_watch';

/** Installs the triggers on every table of the public schema (migration bookkeeping excepted). */
export async function watchWrites(db: Database): Promise<WriteWatch> {
  await sql`create schema if not exists ${sql.id(SCHEMA)}`.execute(db);
  await sql`
    create table if not exists ${sql.id(SCHEMA)}.log (
      id bigint generated always as identity primary key,
      tbl text not null,
      op text not null
    )`.execute(db);
  await sql`
    create or replace function ${sql.id(SCHEMA)}.record() returns trigger language plpgsql as $$
    begin
      insert into ${sql.raw(SCHEMA)}.log (tbl, op) values (tg_table_name, tg_op);
      return null;
    end $$`.execute(db);
  const tables = await sql<{ tablename: string }>`
    select tablename from pg_tables where schemaname = 'public' and tablename not like 'kysely_%'`.execute(db);
  for (const { tablename } of tables.rows) {
    await sql`
      create or replace trigger rw_write_watch after insert or update or delete on ${sql.id('public', tablename)}
      for each row execute function ${sql.id(SCHEMA)}.record()`.execute(db);
  }
  return {
    async mark() {
      const r = await sql<{ id: string | null }>`select max(id) as id from ${sql.id(SCHEMA)}.log`.execute(db);
      return Number(r.rows[0]?.id ?? 0);
    },
    async since(mark) {
      const r = await sql<{ id: string; tbl: string; op: RowWrite['op'] }>`
        select id, tbl, op from ${sql.id(SCHEMA)}.log where id > ${mark} order by id`.execute(db);
      return r.rows.map((row) => ({ id: Number(row.id), table: row.tbl, op: row.op }));
    },
    async remove() {
      for (const { tablename } of tables.rows) {
        await sql`drop trigger if exists rw_write_watch on ${sql.id('public', tablename)}`.execute(db);
      }
      await sql`drop schema if exists ${sql.id(SCHEMA)} cascade`.execute(db);
    },
  };
}
