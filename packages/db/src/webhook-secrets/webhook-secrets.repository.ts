// Users' webhook secrets. The api reads them (creating one on first read) and rotates them; the
// worker reads them each time it signs a callback to an address a user supplied, so a rotation
// between two attempts is honoured. A replaced secret comes back as `previous_secret` only while it
// still verifies (`previous_expires_at` ahead of the database's clock), never after.
import { sql, type Kysely } from 'kysely';

import { generateWebhookSecret } from '@ratewire/webhooks';

import type { DB } from '../schema.ts';

/** How long a replaced secret keeps signing (and so verifying) after a rotation. */
export const PREVIOUS_WEBHOOK_SECRET_HOURS = 24;

export interface WebhookSecretRow {
  user_id: string;
  /** The current secret, `whsec_…`. */
  secret: string;
  /** When the current secret was issued. */
  created_at: Date;
  /** The secret a rotation replaced, while it still verifies; otherwise null. */
  previous_secret: string | null;
  previous_expires_at: Date | null;
}

const stillValid = sql<boolean>`previous_expires_at > now()`;
const columns = [
  'user_id',
  'secret',
  'created_at',
  sql<string | null>`case when ${stillValid} then previous_secret end`.as('previous_secret'),
  sql<Date | null>`case when ${stillValid} then previous_expires_at end`.as('previous_expires_at'),
] as const;

async function select(db: Kysely<DB>, userIds: readonly string[]): Promise<WebhookSecretRow[]> {
  return db
    .selectFrom('webhook_secrets')
    .select(columns)
    .where(sql<boolean>`user_id = any(${userIds}::uuid[])`)
    .$castTo<WebhookSecretRow>()
    .execute();
}

/**
 * The secrets of these users, by user id. A user without one gets one now (concurrent callers
 * agree on a single secret); an id with no user row is left out.
 */
export async function webhookSecretsFor(
  db: Kysely<DB>,
  userIds: readonly string[],
): Promise<Map<string, WebhookSecretRow>> {
  const ids = [...new Set(userIds)];
  if (!ids.length) return new Map();
  const found = new Map((await select(db, ids)).map((r) => [r.user_id, r]));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length) {
    await sql`
      insert into webhook_secrets (user_id, secret)
      select v.user_id, v.secret
      from unnest(${missing}::uuid[], ${missing.map(() => generateWebhookSecret())}::text[]) as v(user_id, secret)
      where exists (select 1 from users u where u.id = v.user_id)
      on conflict (user_id) do nothing`.execute(db);
    // a fresh statement sees the rows of a concurrent insert that won the conflict
    for (const row of await select(db, missing)) found.set(row.user_id, row);
  }
  return found;
}

/** One user's secret, created on first read; undefined when the user does not exist. */
export async function readWebhookSecret(db: Kysely<DB>, userId: string): Promise<WebhookSecretRow | undefined> {
  return (await webhookSecretsFor(db, [userId])).get(userId);
}

/**
 * Replaces the user's secret with a new one; the replaced one keeps verifying for
 * PREVIOUS_WEBHOOK_SECRET_HOURS (a secret replaced before that, by an earlier rotation, stops at
 * once). A user without a secret simply gets one. Undefined when the user does not exist.
 */
export async function rotateWebhookSecret(db: Kysely<DB>, userId: string): Promise<WebhookSecretRow | undefined> {
  const result = await sql<WebhookSecretRow>`
    insert into webhook_secrets as w (user_id, secret)
    select u.id, ${generateWebhookSecret()} from users u where u.id = ${userId}
    on conflict (user_id) do update
      set previous_secret = w.secret,
          previous_expires_at = now() + make_interval(hours => ${PREVIOUS_WEBHOOK_SECRET_HOURS}),
          secret = excluded.secret,
          created_at = now()
    returning user_id, secret, created_at, previous_secret, previous_expires_at`.execute(db);
  return result.rows[0];
}
