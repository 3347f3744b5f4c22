// Reads too large to hold: a query's rows in batches from a server-side cursor (pg-cursor) on one
// pooled connection, so memory stays two batches whatever the result's size. The consumer pulls the
// next batch only when it is ready for it (an HTTP answer waits for its socket to drain), one batch
// being read ahead meanwhile; leaving the loop early (a client gone) closes the cursor and gives the
// connection back.
import type { CompiledQuery } from 'kysely';
import Cursor from 'pg-cursor';

import type { Pool } from './pool.ts';

/** Rows per round trip: large enough to amortise it, small enough to keep memory flat. */
export const CURSOR_BATCH_ROWS = 2000;

/**
 * The rows of `query` in batches of at most `batchRows`, each row an array of its columns in the
 * select's order (numeric and date columns as the pool's parsers give them: exact strings).
 */
export async function* streamRows<Row extends readonly unknown[] = unknown[]>(
  pool: Pool,
  query: Pick<CompiledQuery, 'sql' | 'parameters'>,
  batchRows = CURSOR_BATCH_ROWS,
): AsyncGenerator<Row[], void, undefined> {
  const client = await pool.connect();
  const cursor = client.query(new Cursor<Row>(query.sql, [...query.parameters], { rowMode: 'array' }));
  let failure: Error | undefined;
  // one batch ahead: Postgres produces the next rows while the consumer writes these (pg-cursor
  // sends a read only once the one before is answered, so one is as far ahead as it goes)
  let ahead: Promise<Row[]> | undefined = cursor.read(batchRows);
  try {
    while (ahead) {
      const rows: Row[] = await ahead;
      ahead = rows.length === batchRows ? cursor.read(batchRows) : undefined;
      if (rows.length) yield rows;
    }
  } catch (err) {
    failure = err as Error;
    throw err;
  } finally {
    // a read still in flight (the consumer left early) settles before the cursor closes
    if (ahead) await ahead.catch((err: Error) => (failure = err));
    // a broken connection is destroyed rather than returned to the pool
    if (!failure) await cursor.close().catch((err: Error) => (failure = err));
    client.release(failure);
  }
}
