// A dedicated Postgres connection (never from the pool) for session-level advisory locks:
// a lock lives exactly as long as this connection, so a killed leader frees it at once.
import pg from 'pg';

export type DedicatedClient = pg.Client;

export async function connectDedicated(url: string, applicationName: string): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    application_name: applicationName,
    options: '-c timezone=UTC',
    keepAlive: true,
    keepAliveInitialDelayMillis: 5000,
    connectionTimeoutMillis: 5000,
    // a lock query stuck on a dead network must not hang the leader loop
    query_timeout: 5000,
  });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw err;
  }
  return client;
}

/** pg_try_advisory_lock on the client's session: true when this session now holds it. */
export async function tryAdvisoryLock(client: pg.Client, key: number): Promise<boolean> {
  const res = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [key]);
  return res.rows[0]?.locked === true;
}

/** Proves the session is still alive (and so still holds its locks). */
export async function pingDedicated(client: pg.Client): Promise<void> {
  await client.query('select 1');
}
