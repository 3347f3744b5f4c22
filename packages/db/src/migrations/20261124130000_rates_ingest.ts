import { sql, type Kysely } from 'kysely';

// Cheaper snapshot writes. binance_prices is rewritten every few seconds: free space on each
// page lets an updated row stay on its page without a new index entry (HOT update).
// binance_price_history is append-only in time order: a BRIN index serves retention's
// "older than" scans at a fraction of a btree's cost per inserted row, and its id sequence hands
// out values from a per-session cache instead of touching the sequence for every row.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table binance_prices set (fillfactor = 50)`.execute(db);
  await db.schema.dropIndex('binance_price_history_time_idx').execute();
  await sql`create index binance_price_history_time_brin on binance_price_history using brin (observed_at)`.execute(db);
  await sql`alter table binance_price_history alter column id set cache 1000`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`alter table binance_price_history alter column id set cache 1`.execute(db);
  await db.schema.dropIndex('binance_price_history_time_brin').execute();
  await db.schema
    .createIndex('binance_price_history_time_idx')
    .on('binance_price_history')
    .column('observed_at')
    .execute();
  await sql`alter table binance_prices reset (fillfactor)`.execute(db);
}
