import { sql } from 'kysely';
import { NO_MIGRATIONS } from 'kysely/migration';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { assertMigrated, createMigrator, type Database } from '../src/index.ts';
import { scratchDatabase, type ScratchDatabase } from './scratch-database.ts';

let scratch: ScratchDatabase;
let db: Database;

async function tables(): Promise<string[]> {
  const { rows } = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = 'public' and table_name not like 'kysely_%' order by table_name`.execute(db);
  return rows.map((r) => r.table_name);
}

beforeAll(async () => {
  scratch = await scratchDatabase('migrate', { max: 2, migrated: false });
  db = scratch.db;
});

afterAll(() => scratch?.drop());

describe('migrations', () => {
  it('migrate a fresh database all the way up, all the way down, and up again', async () => {
    const migrator = createMigrator(db);
    const all = await migrator.getMigrations();
    expect(all.length).toBeGreaterThan(0);
    expect(all.every((m) => /^\d{14}_[a-z0-9_]+$/.test(m.name))).toBe(true);

    assertMigrated(await migrator.migrateToLatest());
    const up = await tables();
    expect(up).toContain('users');
    expect((await migrator.getMigrations()).every((m) => m.executedAt)).toBe(true);

    assertMigrated(await migrator.migrateTo(NO_MIGRATIONS));
    expect(await tables()).toEqual([]);

    assertMigrated(await migrator.migrateToLatest());
    expect(await tables()).toEqual(up);
  });

  it('keeps numeric exact and calendar dates as strings, timestamps as UTC instants', async () => {
    const { rows } = await sql<{ n: string; d: string; t: Date; big: string }>`
      select 12345678901234567890.123456789::numeric as n, '2024-03-28'::date as d,
             '2024-03-28T12:00:00+03:00'::timestamptz as t, 9007199254740993::int8 as big`.execute(db);
    expect(rows[0]).toEqual({
      n: '12345678901234567890.123456789',
      d: '2024-03-28',
      t: new Date('2024-03-28T09:00:00Z'),
      big: '9007199254740993',
    });
  });
});
