import { sql, type Kysely } from 'kysely';

// A job row is updated once after its insert (queued → done with the result): free space on each
// page lets that update stay on the page without new entries in the job indexes (HOT update).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table exchange_jobs set (fillfactor = 50)`.execute(db);
  await sql`alter table callback_deliveries set (fillfactor = 70)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table callback_deliveries reset (fillfactor)`.execute(db);
  await sql`alter table exchange_jobs reset (fillfactor)`.execute(db);
}
