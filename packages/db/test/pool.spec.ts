// A pooled connection Postgres ends (a restart, an operator's pg_terminate_backend) while the
// process holds it between two queries must fail those queries, never crash the process.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { commonSettingsSchema } from '@ratewire/contracts';
import { parseSettings } from '@ratewire/runtime';

import { createDb, createPool, preparedAs, type Database } from '../src/index.ts';

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

describe('preparedAs', () => {
  it('sends a marked statement as a named one, prepared once per connection, with the same answers', async () => {
    const one = createDb(createPool(url, { max: 1 }));
    try {
      const run = (n: number) =>
        sql<{ n: number }>`${preparedAs('pool_test_double')} select ${n}::int * 2 as n`.execute(one);
      expect((await run(2)).rows).toEqual([{ n: 4 }]);
      expect((await run(21)).rows).toEqual([{ n: 42 }]);
      const { rows } = await sql<{ name: string; calls: string }>`
        select name, generic_plans + custom_plans as calls from pg_prepared_statements`.execute(one);
      expect(rows).toEqual([{ name: 'pool_test_double', calls: '2' }]);
    } finally {
      await one.destroy();
    }
  });

  it('refuses a name that is not a plain word', () => {
    expect(() => preparedAs('x */ drop table users; /*')).toThrow(TypeError);
  });
});
