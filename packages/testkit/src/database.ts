import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import pg from 'pg';

import {
  MIGRATIONS_DIR,
  assertMigrated,
  createDb,
  createMigrator,
  createPool,
  ensureDatabase,
  type Database,
} from '@ratewire/db';

import { serviceUrls } from './services.ts';

/** Name of a template database holding the current migrations: changes when any migration file does. */
function templateName(): string {
  const hash = createHash('sha256');
  for (const file of readdirSync(MIGRATIONS_DIR).sort()) {
    hash.update(file).update(readFileSync(join(MIGRATIONS_DIR, file)));
  }
  return `rw_tpl_${hash.digest('hex').slice(0, 12)}`;
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function adminClient(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: withDatabase(serviceUrls().DATABASE_URL, 'postgres') });
  await client.connect();
  return client;
}

async function ensureTemplate(client: pg.Client, template: string): Promise<void> {
  const exists = await client.query('select 1 from pg_database where datname = $1', [template]);
  if (exists.rowCount) return;
  const url = withDatabase(serviceUrls().DATABASE_URL, template);
  await ensureDatabase(url);
  const pool = createPool(url, { max: 1 });
  const db = createDb(pool);
  try {
    assertMigrated(await createMigrator(db).migrateToLatest());
  } finally {
    await db.destroy();
  }
}

export interface TestDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  db: Database;
  /** Closes the pool and drops the database. */
  drop(): Promise<void>;
}

/**
 * A fresh, fully migrated database of its own for one test file: copied from a template that is
 * migrated once per set of migration files. `migrated: false` gives an empty database instead.
 */
/** `poolMax`: connections of its pool (5 by default, so parallel suites stay within Postgres's limit). */
export async function createTestDatabase(
  options: { migrated?: boolean; poolMax?: number } = {},
): Promise<TestDatabase> {
  const name = `rw_t_${randomBytes(6).toString('hex')}`;
  const client = await adminClient();
  try {
    // one creator at a time: CREATE DATABASE ... TEMPLATE needs the template to be idle
    await client.query('select pg_advisory_lock(727001)');
    if (options.migrated === false) {
      await client.query(`create database "${name}"`);
    } else {
      const template = templateName();
      await ensureTemplate(client, template);
      await client.query(`create database "${name}" template "${template}"`);
    }
  } finally {
    await client.query('select pg_advisory_unlock(727001)').catch(() => {});
    await client.end();
  }
  const url = withDatabase(serviceUrls().DATABASE_URL, name);
  const pool = createPool(url, { max: options.poolMax ?? 5, applicationName: 'ratewire-test' });
  const db = createDb(pool);
  return {
    url,
    name,
    pool,
    db,
    async drop() {
      await db.destroy();
      const admin = await adminClient();
      try {
        await admin.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}
