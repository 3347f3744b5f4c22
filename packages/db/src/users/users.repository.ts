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
}

export interface UserWithHash extends UserRow {
  password_hash: string;
}

const columns = ['id', 'email', 'name', 'role', 'created_at'] as const;

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

/** Inserts a user; undefined when the email is taken. */
export async function insertUser(
  db: Database,
  user: { email: string; name: string | null; passwordHash: string; role: 'user' | 'admin' },
): Promise<UserRow | undefined> {
  const result = await sql<UserRow>`
    insert into users (email, name, password_hash, role)
    values (${user.email.toLowerCase()}, ${user.name}, ${user.passwordHash}, ${user.role})
    on conflict ((lower(email))) do nothing
    returning id, email, name, role, created_at
  `.execute(db);
  return result.rows[0];
}

export async function updateUserCredentials(
  db: Database,
  id: string,
  update: { passwordHash: string; role: 'user' | 'admin' },
): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: update.passwordHash, role: update.role, updated_at: sql`now()` })
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
