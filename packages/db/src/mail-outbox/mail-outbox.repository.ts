// mail_outbox: mail to send, written in the transaction that causes it and sent by a worker with
// retries. A row names what to send (its kind) and to whom; the link it carries is issued when it
// is sent (link-tokens.repository.ts), so no raw token is ever stored.
import { sql } from 'kysely';

import type { Database } from '../pool.ts';
import type { LinkPurpose } from '../schema.ts';
import type { UserRow } from '../users/users.repository.ts';
import { USER_COLUMNS_SQL } from '../users/users.repository.ts';

export type MailKind = LinkPurpose;

/** Queues one mail of `kind` to the account's address. */
export async function enqueueMail(db: Database, mail: { kind: MailKind; userId: string; to: string }): Promise<void> {
  await db.insertInto('mail_outbox').values({ kind: mail.kind, user_id: mail.userId, to_address: mail.to }).execute();
}

/**
 * Inserts a user and queues its confirmation mail in one statement; undefined when the email is
 * taken (and nothing is queued).
 */
export async function insertUserWithConfirmation(
  db: Database,
  user: { email: string; name: string | null; passwordHash: string },
): Promise<UserRow | undefined> {
  const result = await sql<UserRow>`
    with u as (
      insert into users (email, name, password_hash, role)
      values (${user.email.toLowerCase()}, ${user.name}, ${user.passwordHash}, 'user')
      on conflict ((lower(email))) do nothing
      returning *
    ), queued as (
      insert into mail_outbox (kind, user_id, to_address)
      select 'confirm_email', u.id, u.email from u
    )
    select ${USER_COLUMNS_SQL} from u`.execute(db);
  return result.rows[0];
}

/**
 * Queues a password-reset mail to the account with this address, if there is one: the same single
 * statement runs for a known and an unknown address, so both cost the same.
 */
export async function enqueuePasswordReset(db: Database, email: string): Promise<void> {
  await sql`
    insert into mail_outbox (kind, user_id, to_address)
    select 'password_reset', id, email from users where lower(email) = ${email.toLowerCase()}`.execute(db);
}
