import { sql, type Kysely } from 'kysely';

// How the leader feeds a source, for /readyz: Binance prices come from the all-market stream
// (`stream`) or from polling (`polling`); `mode_setting` is BINANCE_STREAM (off, auto, on) and
// `mode_since` when the mode last changed. All null for CBR, and until a leader has said.
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('feed_status')
    .addColumn('mode', 'text', (c) => c.check(sql`mode in ('stream', 'polling')`))
    .addColumn('mode_setting', 'text', (c) => c.check(sql`mode_setting in ('off', 'auto', 'on')`))
    .addColumn('mode_since', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('feed_status')
    .dropColumn('mode')
    .dropColumn('mode_setting')
    .dropColumn('mode_since')
    .execute();
}
