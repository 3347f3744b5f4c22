// A pooled connection Postgres ends (a restart, an operator's pg_terminate_backend) while the
// process holds it between two queries must fail those queries, never crash the process.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { commonSettingsSchema } from '@ratewire/contracts';
import { parseSettings } from '@ratewire/runtime';

import { createDb, createPool, type Database } from '../src/index.ts';

const url = parseSettings(commonSettingsSchema, process.env).DATABASE_URL;
let db: Database;
let admin: Database;

beforeAll(() => {
  db = createDb(createPool(url, { max: 2, applicationName: 'ratewire-pool-test' }));
  admin = createDb(createPool(url, { max: 1 }));
});

afterAll(async () => {
  await db?.destroy();
  await admin?.destroy();
});

const terminate = (pid: number) => sql`select pg_terminate_backend(${pid})`.execute(admin);

describe('createPool', () => {
  it('survives Postgres ending a connection that is checked out between queries', async () => {
    const uncaught: unknown[] = [];
    const record = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', record);
    try {
      const failed = await db
        .transaction()
        .execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          await terminate(rows[0]!.pid);
          // the termination notice arrives while this connection runs no query
          await new Promise((r) => setTimeout(r, 300));
          await sql`select 1`.execute(trx);
          return false;
        })
        .then(
          () => false,
          () => true,
        );
      expect(failed).toBe(true);
      expect(uncaught).toEqual([]);
      // the pool replaces the connection it lost
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', record);
    }
  });
});
