// users: accounts for the REST API (emails stored lower-cased; unique on lower(email)), and the
// channel their changes are announced on.
import { sql } from 'kysely';

import type { DedicatedClient } from '../dedicated.ts';
import type { Database } from '../pool.ts';

export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  role: 'user' | 'admin';
  created_at: Date;
  email_confirmed_at: Date | null;
  password_changed_at: Date | null;
  /** A session created before this is refused. */
  sessions_valid_after: Date | null;
}

export interface UserWithHash extends UserRow {
  password_hash: string;
}

const columns = [
  'id',
  'email',
  'name',
  'role',
  'created_at',
  'email_confirmed_at',
  'password_changed_at',
  'sessions_valid_after',
] as const;

/** The same columns, for raw statements (`returning ${USER_COLUMNS_SQL}`), qualified by `u.` where a statement joins. */
export const USER_COLUMNS_SQL = sql.raw(columns.map((c) => `u.${c}`).join(', '));

export async function findUserByEmail(db: Database, email: string): Promise<UserWithHash | undefined> {
  return db
    .selectFrom('users')
    .select([...columns, 'password_hash'])
    .where(sql<string>`lower(email)`, '=', email.toLowerCase())
    .$castTo<UserWithHash>()
    .executeTakeFirst();
}

export async function findUserById(db: Database, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').select(columns).where('id', '=', id).$castTo<UserRow>().executeTakeFirst();
}

/** Inserts a user; undefined when the email is taken. `emailConfirmed`: the address needs no mailed link (an operator chose it). */
export async function insertUser(
  db: Database,
  user: { email: string; name: string | null; passwordHash: string; role: 'user' | 'admin'; emailConfirmed?: boolean },
): Promise<UserRow | undefined> {
  const confirmedAt = user.emailConfirmed ? sql`now()` : sql`null`;
  const result = await sql<UserRow>`
    insert into users as u (email, name, password_hash, role, email_confirmed_at)
    values (${user.email.toLowerCase()}, ${user.name}, ${user.passwordHash}, ${user.role}, ${confirmedAt})
    on conflict ((lower(email))) do nothing
    returning ${USER_COLUMNS_SQL}
  `.execute(db);
  return result.rows[0];
}

/**
 * Sets an account's password and role as an operator decided (ADMIN_EMAIL/ADMIN_PASSWORD): the
 * address counts as confirmed, and the sessions opened with the old credentials end.
 */
export async function updateUserCredentials(
  db: Database,
  id: string,
  update: { passwordHash: string; role: 'user' | 'admin' },
): Promise<void> {
  await db
    .updateTable('users')
    .set({
      password_hash: update.passwordHash,
      role: update.role,
      email_confirmed_at: sql`coalesce(email_confirmed_at, now())`,
      password_changed_at: sql`now()`,
      sessions_valid_after: sql`now()`,
      updated_at: sql`now()`,
    })
    .where('id', '=', id)
    .execute();
}

/** The password hash of an account (to check a current password), or undefined when there is none. */
export async function passwordHashOf(db: Database, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('users').select('password_hash').where('id', '=', id).executeTakeFirst();
  return row?.password_hash;
}

/**
 * Sets a new password: `password_changed_at` moves to now and every session but `keepSessionId`
 * is revoked (the caller's own stays signed in), in one transaction.
 */
export async function changePassword(
  db: Database,
  id: string,
  change: { passwordHash: string; keepSessionId: string },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({ password_hash: change.passwordHash, password_changed_at: sql`now()`, updated_at: sql`now()` })
      .where('id', '=', id)
      .execute();
    await trx
      .updateTable('sessions')
      .set({ revoked_at: sql`now()` })
      .where('user_id', '=', id)
      .where('id', '<>', change.keepSessionId)
      .where('revoked_at', 'is', null)
      .execute();
  });
}

/** Every session of the account created up to now is refused from now on (logout-all). */
export async function endAllSessions(db: Database, id: string): Promise<void> {
  await db
    .updateTable('users')
    .set({ sessions_valid_after: sql`now()`, updated_at: sql`now()` })
    .where('id', '=', id)
    .execute();
}

/**
 * The NOTIFY channel of the `users` triggers (migration 20261201120000): a change that matters
 * (role or email changed, account deleted, table truncated) is announced when it commits, with the
 * account id as payload, or '*' for every account.
 */
export const USERS_CHANGED_CHANNEL = 'ratewire_users';

/** Starts receiving USERS_CHANGED_CHANNEL on this session (as `notification` events of the client). */
export async function listenUserChanges(client: DedicatedClient): Promise<void> {
  await client.query(`listen ${USERS_CHANGED_CHANNEL}`);
}
