import { sql, type Kysely } from 'kysely';

// CBR history per effective date, the editable `currencies` (the Currency-API service’s rows), Binance latest + history,
// per-feed status, and admin tasks (rates refresh).
export async function up(db: Kysely<any>): Promise<void> {
  // Rates in force from `date` (ValCurs@Date): rubles for `nominal` units, and per one unit.
  await db.schema
    .createTable('cbr_rates')
    .addColumn('date', 'date', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('num_code', 'text')
    .addColumn('cbr_id', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('nominal', 'integer', (c) => c.notNull().check(sql`nominal > 0`))
    .addColumn('value', 'numeric', (c) => c.notNull().check(sql`value > 0`))
    .addColumn('unit_rate', 'numeric', (c) => c.notNull().check(sql`unit_rate > 0`))
    .addColumn('fetched_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('cbr_rates_pkey', ['date', 'code'])
    .execute();
  await db.schema.createIndex('cbr_rates_code_date_idx').on('cbr_rates').columns(['code', 'date desc']).execute();

  // Which published date answers a requested calendar day (weekends and holidays resolve back).
  await db.schema
    .createTable('cbr_days')
    .addColumn('requested', 'date', (c) => c.primaryKey())
    .addColumn('effective', 'date', (c) => c.notNull())
    .addColumn('fetched_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // The Currency-API service’s rows: latest rate per currency, editable over REST.
  // `rate` is rubles for `nominal` units, as CBR publishes it.
  await db.schema
    .createTable('currencies')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text')
    .addColumn('nominal', 'integer', (c) =>
      c
        .notNull()
        .defaultTo(1)
        .check(sql`nominal > 0`),
    )
    .addColumn('rate', 'numeric', (c) => c.notNull().check(sql`rate > 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('binance_symbols')
    .addColumn('symbol', 'text', (c) => c.primaryKey())
    .addColumn('base_asset', 'text', (c) => c.notNull())
    .addColumn('quote_asset', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  // Latest price per symbol; history holds changes only and is trimmed by retention,
  // which deletes from the history table alone so the latest table is never locked.
  await db.schema
    .createTable('binance_prices')
    .addColumn('symbol', 'text', (c) => c.primaryKey())
    .addColumn('price', 'numeric', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('binance_price_history')
    .addColumn('id', 'bigint', (c) => c.generatedAlwaysAsIdentity().primaryKey())
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('price', 'numeric', (c) => c.notNull())
    .addColumn('observed_at', 'timestamptz', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('binance_price_history_symbol_time_idx')
    .on('binance_price_history')
    .columns(['symbol', 'observed_at desc'])
    .execute();
  await db.schema
    .createIndex('binance_price_history_time_idx')
    .on('binance_price_history')
    .column('observed_at')
    .execute();

  await db.schema
    .createTable('feed_status')
    .addColumn('source', 'text', (c) => c.primaryKey().check(sql`source in ('cbr', 'binance')`))
    .addColumn('interval_ms', 'integer', (c) => c.notNull())
    .addColumn('last_success_at', 'timestamptz')
    .addColumn('last_attempt_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('last_error_at', 'timestamptz')
    .addColumn('consecutive_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('paused_until', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('tasks')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('queued')
        .check(sql`status in ('queued', 'running', 'done', 'failed')`),
    )
    .addColumn('detail', 'text')
    .addColumn('requested_by', 'uuid', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .execute();
  // at most one unfinished task per kind: a second request joins the running one
  await db.schema
    .createIndex('tasks_one_active_per_kind')
    .on('tasks')
    .column('kind')
    .unique()
    .where(sql.ref('status'), 'in', sql`('queued', 'running')`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'tasks',
    'feed_status',
    'binance_price_history',
    'binance_prices',
    'binance_symbols',
    'currencies',
    'cbr_days',
    'cbr_rates',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
