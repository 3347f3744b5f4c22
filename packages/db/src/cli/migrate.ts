// pnpm db:migrate [latest|up|down|reset]: runs the migrations against DATABASE_URL
// (default: the local Postgres of `npm start`), creating the database first when missing.
import { LOCAL_URLS, commonSettingsSchema } from '@ratewire/contracts';
import { createLogger, loadSettings } from '@ratewire/runtime';

import { createDb, createPool } from '../pool.ts';
import { assertMigrated, createMigrator, ensureDatabase } from '../migrate.ts';

const settings = loadSettings('migrate', commonSettingsSchema);
const log = createLogger('migrate', settings.LOG_LEVEL);
const command = process.argv[2] ?? 'latest';

await ensureDatabase(settings.DATABASE_URL ?? LOCAL_URLS.DATABASE_URL);
const pool = createPool(settings.DATABASE_URL, { max: 1, applicationName: 'ratewire-migrate' });
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
