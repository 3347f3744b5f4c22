import { sql, type Kysely } from 'kysely';

// Accounts, second stage: confirmed addresses, sessions that can be taken back, single-use link
// tokens, API keys for programs, and the mail queue the worker sends from.
//
// - users: `email_confirmed_at`; `password_changed_at`; `sessions_valid_after` — a session created
//   before it is refused (logout-all, password reset). The users change trigger now also announces
//   these columns and `password_hash`.
// - sessions: one row per login; an access token names its session (`sid`). Logout marks it revoked.
//   Changes are announced on `ratewire_sessions` (payload: the session id, or '*').
// - link_tokens: only the SHA-256 of a mailed token is kept, with its purpose, expiry and used or
//   voided mark.
// - api_keys: `rw_<lookup>_<secret>`; the lookup part finds the row, the SHA-256 of the whole key is
//   compared. Changes that matter (revoked, expiry, scopes, deleted) are announced on
//   `ratewire_api_keys` (payload: the lookup part, or '*').
// - mail_outbox: mail to send, written in the transaction that causes it, sent by a worker with
//   retries; the link a mail carries is issued when it is sent, so no raw token is ever stored.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('email_confirmed_at', 'timestamptz')
    .addColumn('password_changed_at', 'timestamptz')
    .addColumn('sessions_valid_after', 'timestamptz')
    .execute();

  await sql`drop trigger users_notify_update on users`.execute(db);
  await sql`
    create trigger users_notify_update
    after update of id, email, role, password_hash, email_confirmed_at, password_changed_at, sessions_valid_after
    on users for each row
    when (old.id is distinct from new.id or old.email is distinct from new.email or old.role is distinct from new.role
          or old.password_hash is distinct from new.password_hash
          or old.email_confirmed_at is distinct from new.email_confirmed_at
          or old.password_changed_at is distinct from new.password_changed_at
          or old.sessions_valid_after is distinct from new.sessions_valid_after)
    execute function users_notify_change()`.execute(db);

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute();
  await db.schema.createIndex('sessions_expires_idx').on('sessions').column('expires_at').execute();
  await notifyTriggers(db, 'sessions', 'ratewire_sessions', 'id', ['revoked_at', 'expires_at', 'user_id']);

  await db.schema
    .createTable('link_tokens')
    .addColumn('token_hash', 'bytea', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('purpose', 'text', (c) => c.notNull().check(sql`purpose in ('confirm_email', 'password_reset')`))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('used_at', 'timestamptz')
    .addColumn('voided_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('link_tokens_user_purpose_idx')
    .on('link_tokens')
    .columns(['user_id', 'purpose'])
    .execute();
  await db.schema.createIndex('link_tokens_expires_idx').on('link_tokens').column('expires_at').execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('lookup', 'text', (c) => c.notNull().unique())
    .addColumn('secret_hash', 'bytea', (c) => c.notNull())
    .addColumn('scopes', sql`text[]`, (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('api_keys_user_idx').on('api_keys').column('user_id').execute();
  await notifyTriggers(db, 'api_keys', 'ratewire_api_keys', 'lookup', [
    'revoked_at',
    'expires_at',
    'scopes',
    'user_id',
    'secret_hash',
  ]);

  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('confirm_email', 'password_reset')`))
    // null on a password-reset request: the api queues the address as typed, the same row whether
    // or not it has an account, and the worker resolves it when sending ('discarded' when none)
    .addColumn('user_id', 'uuid', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'sent', 'failed', 'discarded')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.defaultTo(sql`now()`))
    .addColumn('last_error', 'text')
    .addColumn('message_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .execute();
  await sql`create index mail_outbox_due_idx on mail_outbox (next_attempt_at) where status = 'pending'`.execute(db);
  await db.schema.createIndex('mail_outbox_created_idx').on('mail_outbox').column('created_at').execute();
}

/** Triggers announcing a table's changes that matter on `channel` (payload: the row's `column`, or '*'). */
async function notifyTriggers(
  db: Kysely<any>,
  table: string,
  channel: string,
  column: string,
  watched: string[],
): Promise<void> {
  const fn = sql.raw(`${table}_notify_change`);
  await sql`
    create function ${fn}() returns trigger language plpgsql as $$
    begin
      if tg_op = 'TRUNCATE' then
        perform pg_notify(${sql.lit(channel)}, '*');
      else
        perform pg_notify(${sql.lit(channel)}, old.${sql.raw(column)}::text);
      end if;
      return null;
    end
    $$`.execute(db);
  const changed = watched.map((c) => `old.${c} is distinct from new.${c}`).join(' or ');
  await sql`
    create trigger ${sql.raw(`${table}_notify_update`)} after update of ${sql.raw(watched.join(', '))}
    on ${sql.table(table)} for each row when (${sql.raw(changed)}) execute function ${fn}()`.execute(db);
  await sql`
    create trigger ${sql.raw(`${table}_notify_delete`)} after delete on ${sql.table(table)} for each row
    execute function ${fn}()`.execute(db);
  await sql`
    create trigger ${sql.raw(`${table}_notify_truncate`)} after truncate on ${sql.table(table)} for each statement
    execute function ${fn}()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('mail_outbox').execute();
  await db.schema.dropTable('api_keys').execute();
  await sql`drop function api_keys_notify_change()`.execute(db);
  await db.schema.dropTable('link_tokens').execute();
  await db.schema.dropTable('sessions').execute();
  await sql`drop function sessions_notify_change()`.execute(db);
  await sql`drop trigger users_notify_update on users`.execute(db);
  await sql`
    create trigger users_notify_update after update of id, email, role on users for each row
    when (old.id is distinct from new.id or old.email is distinct from new.email or old.role is distinct from new.role)
    execute function users_notify_change()`.execute(db);
  await db.schema
    .alterTable('users')
    .dropColumn('email_confirmed_at')
    .dropColumn('password_changed_at')
    .dropColumn('sessions_valid_after')
    .execute();
}
