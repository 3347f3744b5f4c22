import pg from 'pg';
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';

import type { BootedProcess } from '@ratewire/runtime';

import type { DB } from './schema.ts';

const { Pool, types } = pg;

// Exact values: numeric and int8 stay strings (pg's default, made explicit), timestamptz becomes a
// Date (an instant, UTC), and a calendar `date` stays the 'YYYY-MM-DD' string it is.
const TYPE_PARSERS: Record<number, (v: string) => unknown> = {
  [types.builtins.NUMERIC]: (v) => v,
  [types.builtins.INT8]: (v) => v,
  [types.builtins.DATE]: (v) => v,
};

export interface PoolOptions {
  max?: number;
  applicationName?: string;
}

export function createPool(connectionString: string, options: PoolOptions = {}): pg.Pool {
  const pool = new Pool({
    connectionString,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'ratewire',
    options: '-c timezone=UTC',
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        TYPE_PARSERS[oid] ?? (types.getTypeParser(oid, format) as unknown)) as typeof types.getTypeParser,
    },
  });
  // An idle client losing its connection (Postgres restart) must not crash the process.
  pool.on('error', () => {});
  // Nor one that is checked out (a transaction between two queries, a loop holding a connection):
  // pg-pool listens only while a client is idle, and a Client emitting 'error' with no listener
  // throws. Its next query fails instead, and the caller's error handling takes over.
  pool.on('connect', (client) => {
    client.on('error', () => {});
    preparing(client);
  });
  return pool;
}

const PREPARED = '/* prepared:';

/**
 * Marks a statement to be prepared once per connection under `name` (put it first in the SQL), so
 * that Postgres may plan it once and keep the plan, where an unnamed statement is planned on every
 * run — worth it for a large statement run often whose plan does not hang on its parameters (an
 * alert tick costs more to plan than to run). One name, one SQL text.
 */
export function preparedAs(name: string): RawBuilder<unknown> {
  if (!/^[a-z_]+$/.test(name)) throw new TypeError(`bad prepared statement name ${name}`);
  return sql.raw(`${PREPARED}${name} */ `);
}

/** Sends a statement that starts with preparedAs(name) as the named statement `name`. */
function preparing(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as { query: unknown }).query = (...args: unknown[]) => {
    const [text, values, ...rest] = args;
    const head = typeof text === 'string' ? text.trimStart() : '';
    if (head.startsWith(PREPARED) && Array.isArray(values)) {
      return query({ name: head.slice(PREPARED.length, head.indexOf(' */')), text, values }, ...rest);
    }
    return query(...args);
  };
}

/**
 * Proves Postgres answers: a pool through one of its connections, a dedicated client on its own
 * session (and so that the session's locks are still held).
 */
export async function ping(connection: pg.Pool | pg.Client): Promise<void> {
  await connection.query('select 1');
}

export type Database = Kysely<DB>;
export type Pool = pg.Pool;

export function createDb(pool: pg.Pool): Database {
  return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
}

/**
 * The pool of a booted process (on its DATABASE_URL) and the Kysely database over it; the pool is
 * closed in the 'postgres' phase, the last of the shutdown.
 */
export function connectPostgres(
  proc: BootedProcess<{ DATABASE_URL: string }>,
  options: PoolOptions,
): { pool: Pool; db: Database } {
  const pool = createPool(proc.settings.DATABASE_URL, options);
  const db = createDb(pool);
  proc.shutdown.add('postgres', 'pool', () => db.destroy());
  return { pool, db };
}
