// The feed pollers' leader lock: a session-level advisory lock taken on a dedicated connection
// (dedicated.ts), so it is held exactly as long as that connection lives.
import type { DedicatedClient } from '../dedicated.ts';

/** pg_try_advisory_lock on the client's session: true when this session now holds it. */
export async function tryAdvisoryLock(client: DedicatedClient, key: number): Promise<boolean> {
  const res = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [key]);
  return res.rows[0]?.locked === true;
}
