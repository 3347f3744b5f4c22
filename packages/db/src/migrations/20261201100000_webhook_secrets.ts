import { sql, type Kysely } from 'kysely';

// Each user's own webhook secret, which signs callbacks to the addresses that user supplies. A
// rotation keeps the replaced secret as `previous_secret` until `previous_expires_at` (24 h): both
// sign meanwhile. The secret is stored as issued (`whsec_…`): its owner reads it back, and the
// worker needs its bytes to sign.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('webhook_secrets')
    .addColumn('user_id', 'uuid', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
    .addColumn('secret', 'text', (c) => c.notNull())
    // when the current secret was issued
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('previous_secret', 'text')
    .addColumn('previous_expires_at', 'timestamptz')
    .addCheckConstraint(
      'webhook_secrets_previous_check',
      sql`(previous_secret is null) = (previous_expires_at is null)`,
    )
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('webhook_secrets').execute();
}
