// pnpm db:migrate [latest|up|down|reset]: runs the migrations against DATABASE_DIRECT_URL, or
// DATABASE_URL when it is unset (default: the local Postgres of `npm start`), creating the database
// first when missing. Migrations want a session of their own (DDL, the migrator's lock), not a
// transaction-mode pooler, hence the direct URL when there is one.
import { LOCAL_URLS, commonSettingsSchema } from '@ratewire/contracts';
import { createLogger, loadSettings } from '@ratewire/runtime';

import { createDb, createPool } from '../pool.ts';
import { assertMigrated, createMigrator, ensureDatabase } from '../migrate.ts';

const settings = loadSettings('migrate', commonSettingsSchema);
const log = createLogger('migrate', settings.LOG_LEVEL);
const command = process.argv[2] ?? 'latest';

const url = settings.DATABASE_DIRECT_URL ?? settings.DATABASE_URL ?? LOCAL_URLS.DATABASE_URL;
await ensureDatabase(url);
const pool = createPool(url, { max: 1, applicationName: 'ratewire-migrate' });
const db = createDb(pool);
const migrator = createMigrator(db);
try {
  if (command === 'latest') assertMigrated(await migrator.migrateToLatest());
  else if (command === 'up') assertMigrated(await migrator.migrateUp());
  else if (command === 'down') assertMigrated(await migrator.migrateDown());
  else if (command === 'reset') {
    const { NO_MIGRATIONS } = await import('kysely/migration');
    assertMigrated(await migrator.migrateTo(NO_MIGRATIONS));
  } else throw new Error(`unknown command "${command}" (latest|up|down|reset)`);
  const all = await migrator.getMigrations();
  log.info({ applied: all.filter((m) => m.executedAt).length, total: all.length }, `migrate ${command}: done`);
} catch (err) {
  log.error({ err }, 'migration failed');
  process.exitCode = 1;
} finally {
  await db.destroy();
}
