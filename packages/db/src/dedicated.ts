// A dedicated Postgres connection (never from the pool) for what lives as long as one session: a
// session-level advisory lock, a LISTEN. It ends with its process, so a killed leader frees its lock
// at once.
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
