// mail_outbox: mail to send, written in the transaction that causes it and sent by a worker with
// retries. A row names what to send (its kind) and to whom; the link an account mail carries is
// issued when it is sent (link-tokens.repository.ts), so no raw token is ever stored. An alert's
// mail is queued with its firing (alert-events.repository.ts) and tells of that firing.
import { sql } from 'kysely';

import type { AlertFiringRow } from '../alerts/alert-events.repository.ts';
import {
  PREFIXED_FIRING_COLUMNS,
  PREFIXED_FIRING_NAMES,
  firingFromColumns,
  type PrefixedFiringColumns,
} from '../alerts/alert-firing-columns.ts';
import type { Database } from '../pool.ts';
import type { LinkPurpose } from '../schema.ts';
import type { UserRow } from '../users/users.repository.ts';
import { USER_COLUMNS_SQL } from '../users/users.repository.ts';

/** An account mail carrying a link (its kind is the link's purpose), or an alert's firing. */
export type MailKind = LinkPurpose | 'alert_triggered';

/** Queues one account mail of `kind` to the account's address. */
export async function enqueueMail(
  db: Database,
  mail: { kind: LinkPurpose; userId: string; to: string },
): Promise<void> {
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
 * Queues a password-reset request for an address, known or not: the api writes the same row for
 * both, with no lookup, so both answers cost exactly the same. The worker resolves the address when
 * it sends: an address with an account gets the mail; one without is marked 'discarded' and its
 * address cleared, never sent.
 */
export async function enqueuePasswordReset(db: Database, email: string): Promise<void> {
  await db
    .insertInto('mail_outbox')
    .values({ kind: 'password_reset', user_id: null, to_address: email.toLowerCase() })
    .execute();
}

// --- the worker's side: claim due mail under a lease, record what each attempt did, prune.

interface DueMailCommon {
  id: string;
  user_id: string;
  to_address: string;
  /** Attempts made before this one. */
  attempts: number;
  /** The claim: the row is this worker's until then, and an outcome is recorded only while it holds. */
  lease_until: Date;
}

/** An account mail: its link is issued when it is sent. */
export interface DueLinkMail extends DueMailCommon {
  kind: LinkPurpose;
}

/** An alert's firing, as stored. */
export interface DueAlertMail extends DueMailCommon {
  kind: 'alert_triggered';
  firing: AlertFiringRow;
}

export type DueMail = DueLinkMail | DueAlertMail;

type ClaimedMail = DueMailCommon & { kind: MailKind; status: string } & PrefixedFiringColumns;

/**
 * Claims up to `limit` due mails: their next attempt moves `leaseMs` ahead (to the millisecond, so
 * the claim reads back exactly), so no other worker takes them meanwhile, and a worker that dies
 * mid-send leaves them due again once the lease ends. An alert's mail comes with its firing (and
 * the alert's source and symbol), read in the same statement.
 *
 * A password-reset request arrives with only the address it was asked for: the claim resolves it
 * to its account, and one no account has is marked 'discarded', its address cleared, in the same
 * statement — it is never returned, never sent.
 */
export async function claimDueMail(db: Database, limit: number, leaseMs: number): Promise<DueMail[]> {
  const result = await sql<ClaimedMail>`
    with due as (
      select id from mail_outbox
      where status = 'pending' and next_attempt_at <= now()
      order by next_attempt_at
      limit ${limit}
      for update skip locked
    ), resolved as (
      select due.id, coalesce(m.user_id, u.id) as user_id, coalesce(u.email, m.to_address) as to_address,
             ${PREFIXED_FIRING_COLUMNS}
      from due
      join mail_outbox m on m.id = due.id
      left join users u on m.user_id is null and lower(u.email) = m.to_address
      left join alert_events e on e.id = m.alert_event_id
    )
    update mail_outbox m
    set user_id = r.user_id,
        to_address = case when r.user_id is null then '' else r.to_address end,
        status = case when r.user_id is null then 'discarded' else 'pending' end,
        next_attempt_at = case when r.user_id is null then null
          else date_trunc('milliseconds', now() + make_interval(secs => ${leaseMs / 1000})) end
    from resolved r
    where m.id = r.id
    returning m.id, m.kind, m.user_id, m.to_address, m.attempts, m.status, m.next_attempt_at as lease_until, ${PREFIXED_FIRING_NAMES}`.execute(
    db,
  );
  return result.rows.filter((r) => r.status === 'pending').map(toDueMail);
}

function toDueMail(r: ClaimedMail): DueMail {
  const common = {
    id: r.id,
    user_id: r.user_id,
    to_address: r.to_address,
    attempts: r.attempts,
    lease_until: r.lease_until,
  };
  if (r.kind !== 'alert_triggered') return { ...common, kind: r.kind };
  return {
    ...common,
    kind: r.kind,
    firing: firingFromColumns(r),
  };
}

/** What one attempt did: sent (with the server's Message-ID), try again later, or given up. */
export type MailOutcome = { id: string; leaseUntil: Date } & (
  | { status: 'sent'; messageId: string | null }
  | { status: 'pending'; error: string; retryInMs: number }
  | { status: 'failed'; error: string }
);

/**
 * Records the attempts of one round in one statement. A row is updated only while this round's
 * claim on it holds (still pending, lease unchanged): a worker whose lease ran out cannot overwrite
 * what the one that claimed the row next recorded. Returns the ids recorded.
 */
export async function recordMailOutcomes(db: Database, outcomes: MailOutcome[]): Promise<Set<string>> {
  if (!outcomes.length) return new Set();
  const result = await sql<{ id: string }>`
    update mail_outbox m
    set status = v.status,
        attempts = m.attempts + 1,
        last_error = v.error,
        message_id = coalesce(v.message_id, m.message_id),
        sent_at = case when v.status = 'sent' then now() else m.sent_at end,
        next_attempt_at = case when v.status = 'pending' then now() + make_interval(secs => v.retry_ms / 1000.0) end
    from unnest(${outcomes.map((o) => o.id)}::bigint[], ${outcomes.map((o) => o.leaseUntil)}::timestamptz[],
                ${outcomes.map((o) => o.status)}::text[],
                ${outcomes.map((o) => (o.status === 'sent' ? null : o.error))}::text[],
                ${outcomes.map((o) => (o.status === 'sent' ? o.messageId : null))}::text[],
                ${outcomes.map((o) => (o.status === 'pending' ? o.retryInMs : null))}::bigint[])
         as v(id, lease_until, status, error, message_id, retry_ms)
    where m.id = v.id and m.status = 'pending' and m.next_attempt_at = v.lease_until
    returning m.id`.execute(db);
  return new Set(result.rows.map((r) => r.id));
}

/** Milliseconds until the earliest pending mail is due (null when none is pending). */
export async function msUntilNextMail(db: Database): Promise<number | null> {
  const row = await sql<{ ms: string | null }>`
    select greatest(0, extract(epoch from (min(next_attempt_at) - now())) * 1000)::bigint as ms
    from mail_outbox where status = 'pending'`.execute(db);
  const ms = row.rows[0]?.ms;
  return ms === null || ms === undefined ? null : Number(ms);
}

/** Deletes sent, failed and discarded rows older than `olderThanSeconds` (retention); returns how many. */
export async function pruneMailOutbox(db: Database, olderThanSeconds: number): Promise<number> {
  const result = await db
    .deleteFrom('mail_outbox')
    .where('status', 'in', ['sent', 'failed', 'discarded'])
    .where(sql<Date>`coalesce(sent_at, created_at)`, '<', sql<Date>`now() - make_interval(secs => ${olderThanSeconds})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
