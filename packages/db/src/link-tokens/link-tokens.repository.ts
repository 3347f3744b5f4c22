// link_tokens: the single-use tokens mailed in links (confirm an address, reset a password). A token
// is 32 random bytes, base64url, never starting with '-' (a command line would read it as an
// option: `ratewire confirm -x…`); only its SHA-256 is stored, with its purpose, the address it was
// sent to, an expiry and a used or voided mark. Issuing one voids the earlier unused ones of that
// purpose; consuming one is a single conditional UPDATE, so two clicks cannot both succeed.
import { createHash, randomBytes } from 'node:crypto';

import { sql } from 'kysely';

import type { Database } from '../pool.ts';
import type { LinkPurpose } from '../schema.ts';
import type { UserRow } from '../users/users.repository.ts';
import { USER_COLUMNS_SQL } from '../users/users.repository.ts';

/** How long a mailed link works. */
export const LINK_TOKEN_TTL_SECONDS: Record<LinkPurpose, number> = {
  confirm_email: 24 * 3600,
  password_reset: 30 * 60,
};

const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

/** The stored form of a token: its SHA-256, or null when the text cannot be one of ours. */
export function linkTokenHash(token: string): Buffer | null {
  if (!TOKEN_RE.test(token)) return null;
  return createHash('sha256').update(token).digest();
}

/** 32 random bytes, base64url; drawn again when the first character is '-' (1 in 64). */
export function newLinkToken(): string {
  for (;;) {
    const token = randomBytes(32).toString('base64url');
    if (!token.startsWith('-')) return token;
  }
}

/**
 * A new token for `userId` (mailed to `email`), valid for its purpose's TTL; every earlier unused
 * token of that purpose is voided in the same transaction. Returns the token: it exists only in
 * the mail from here on.
 */
export async function issueLinkToken(
  db: Database,
  link: { userId: string; purpose: LinkPurpose; email: string },
): Promise<{ token: string; expiresAt: Date }> {
  const token = newLinkToken();
  const hash = linkTokenHash(token)!;
  const ttl = LINK_TOKEN_TTL_SECONDS[link.purpose];
  const row = await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('link_tokens')
      .set({ voided_at: sql`now()` })
      .where('user_id', '=', link.userId)
      .where('purpose', '=', link.purpose)
      .where('used_at', 'is', null)
      .where('voided_at', 'is', null)
      .execute();
    return trx
      .insertInto('link_tokens')
      .values({
        token_hash: hash,
        user_id: link.userId,
        purpose: link.purpose,
        email: link.email.toLowerCase(),
        expires_at: sql<Date>`now() + make_interval(secs => ${ttl})`,
      })
      .returning('expires_at')
      .executeTakeFirstOrThrow();
  });
  return { token, expiresAt: row.expires_at };
}

/** Why a token was not accepted. */
export type LinkTokenRefusal = 'invalid' | 'used' | 'expired' | 'voided';

async function refusalOf(db: Database, hash: Buffer | null, purpose: LinkPurpose): Promise<LinkTokenRefusal> {
  if (!hash) return 'invalid';
  const row = await db
    .selectFrom('link_tokens')
    .select(['purpose', 'used_at', 'voided_at', sql<boolean>`expires_at <= now()`.as('expired')])
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  // a token of another purpose is no token for this one
  if (!row || row.purpose !== purpose) return 'invalid';
  if (row.used_at) return 'used';
  if (row.voided_at) return 'voided';
  return row.expired ? 'expired' : 'invalid';
}

/** The CTE that consumes a token of `purpose`: one conditional UPDATE (unused, not voided, not expired). */
const consume = (hash: Buffer, purpose: LinkPurpose) => sql`
  update link_tokens set used_at = now()
  where token_hash = ${hash} and purpose = ${purpose}
    and used_at is null and voided_at is null and expires_at > now()
  returning user_id, email`;

/**
 * Consumes a confirmation token and marks the address it was sent to as confirmed (when it is
 * still the account's address), in one statement. The account, or why the token was refused.
 */
export async function confirmEmailWithToken(
  db: Database,
  token: string,
): Promise<{ user: UserRow } | { refused: LinkTokenRefusal }> {
  const hash = linkTokenHash(token);
  if (hash) {
    const result = await sql<UserRow>`
      with t as (${consume(hash, 'confirm_email')})
      update users u set email_confirmed_at = coalesce(u.email_confirmed_at, now()), updated_at = now()
      from t where u.id = t.user_id and lower(u.email) = t.email
      returning ${USER_COLUMNS_SQL}`.execute(db);
    const user = result.rows[0];
    if (user) return { user };
  }
  return { refused: await refusalOf(db, hash, 'confirm_email') };
}

/**
 * Consumes a reset token and sets the new password, in one statement: `password_changed_at` and
 * `sessions_valid_after` move to now, so every session (token) issued before is refused.
 */
export async function resetPasswordWithToken(
  db: Database,
  token: string,
  passwordHash: string,
): Promise<{ userId: string } | { refused: LinkTokenRefusal }> {
  const hash = linkTokenHash(token);
  if (hash) {
    const result = await sql<{ id: string }>`
      with t as (${consume(hash, 'password_reset')})
      update users u set password_hash = ${passwordHash}, password_changed_at = now(),
        sessions_valid_after = now(), updated_at = now(),
        -- the reset mail reached this address: it is confirmed as well
        email_confirmed_at = coalesce(u.email_confirmed_at, now())
      from t where u.id = t.user_id and lower(u.email) = t.email
      returning u.id`.execute(db);
    const row = result.rows[0];
    if (row) return { userId: row.id };
  }
  return { refused: await refusalOf(db, hash, 'password_reset') };
}

/** Deletes tokens expired for more than `graceSeconds` (retention); returns how many. */
export async function pruneLinkTokens(db: Database, graceSeconds: number): Promise<number> {
  const result = await db
    .deleteFrom('link_tokens')
    .where('expires_at', '<', sql<Date>`now() - make_interval(secs => ${graceSeconds})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
