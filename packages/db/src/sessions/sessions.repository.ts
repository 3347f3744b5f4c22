// sessions: one row per login. An access token names its session (`sid`); a session is valid while
// it is not revoked, not expired, and not older than its account's `sessions_valid_after`. Changes
// are announced on `ratewire_sessions` when they commit (migration 20261202100000).
import { sql } from 'kysely';

import type { DedicatedClient } from '../dedicated.ts';
import type { Database } from '../pool.ts';

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export const SESSIONS_CHANGED_CHANNEL = 'ratewire_sessions';

export async function createSession(db: Database, userId: string, ttlSeconds: number): Promise<SessionRow> {
  return db
    .insertInto('sessions')
    .values({ user_id: userId, expires_at: sql<Date>`now() + make_interval(secs => ${ttlSeconds})` })
    .returning(['id', 'user_id', 'created_at', 'expires_at', 'revoked_at'])
    .$castTo<SessionRow>()
    .executeTakeFirstOrThrow();
}

export async function findSession(db: Database, id: string): Promise<SessionRow | undefined> {
  return db
    .selectFrom('sessions')
    .select(['id', 'user_id', 'created_at', 'expires_at', 'revoked_at'])
    .where('id', '=', id)
    .$castTo<SessionRow>()
    .executeTakeFirst();
}

/** Revokes one session of `userId` (logout); false when there was no such live session. */
export async function revokeSession(db: Database, id: string, userId: string): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: sql`now()` })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Deletes sessions expired for more than `graceSeconds` (retention); returns how many. */
export async function pruneSessions(db: Database, graceSeconds: number): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where('expires_at', '<', sql<Date>`now() - make_interval(secs => ${graceSeconds})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Starts receiving SESSIONS_CHANGED_CHANNEL on this session. */
export async function listenSessionChanges(client: DedicatedClient): Promise<void> {
  await client.query(`listen ${SESSIONS_CHANGED_CHANNEL}`);
}
