// A database of its own for one test file, on the server of DATABASE_URL: `rw_t_<label>_<random>`,
// migrated unless asked not to be, and dropped (with its pool) by `drop()`.
import { randomBytes } from 'node:crypto';

import pg from 'pg';

import { commonSettingsSchema } from '@ratewire/contracts';
import { parseSettings } from '@ratewire/runtime';

import { assertMigrated, createDb, createMigrator, createPool, ensureDatabase, type Database } from '../src/index.ts';

export interface ScratchDatabase {
  db: Database;
  drop(): Promise<void>;
}

export async function scratchDatabase(
  label: string,
  options: { max: number; migrated?: boolean },
): Promise<ScratchDatabase> {
  const base = parseSettings(commonSettingsSchema, process.env).DATABASE_URL;
  const name = `rw_t_${label}_${randomBytes(4).toString('hex')}`;
  const url = Object.assign(new URL(base), { pathname: `/${name}` }).toString();
  await ensureDatabase(url);
  const db = createDb(createPool(url, { max: options.max }));
  if (options.migrated !== false) assertMigrated(await createMigrator(db).migrateToLatest());
  return {
    db,
    async drop() {
      await db.destroy();
      const admin = new pg.Client({
        connectionString: Object.assign(new URL(base), { pathname: '/postgres' }).toString(),
      });
      await admin.connect();
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}
