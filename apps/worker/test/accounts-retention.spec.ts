// The retention job's accounts step against a database of its own: what is a week past its use
// goes, everything else stays.
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createSession, enqueueMail, issueLinkToken } from '@ratewire/db';
import { createTestDatabase, type TestDatabase } from '@ratewire/testkit';

import { runAccountsRetention } from '../src/retention/accounts-retention.ts';
import { seedUser } from './jobs-support.ts';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database?.drop());

describe('runAccountsRetention', () => {
  it('prunes mail finished over 7 days ago, and link tokens and sessions expired over 7 days ago; keeps the rest', async () => {
    const { db } = database;
    const userId = await seedUser(db);
    const to = 'retention@mail.test';

    for (let i = 0; i < 4; i++) await enqueueMail(db, { kind: 'confirm_email', userId, to });
    const [oldSent, oldFailed, recentSent, oldPending] = (
      await db.selectFrom('mail_outbox').select('id').where('user_id', '=', userId).orderBy('id').execute()
    ).map((r) => r.id);
    await sql`update mail_outbox set status = 'sent', sent_at = now() - interval '8 days' where id = ${oldSent}`.execute(
      db,
    );
    await sql`update mail_outbox set status = 'failed', created_at = now() - interval '8 days' where id = ${oldFailed}`.execute(
      db,
    );
    await sql`update mail_outbox set status = 'sent', sent_at = now() - interval '6 days' where id = ${recentSent}`.execute(
      db,
    );
    await sql`update mail_outbox set created_at = now() - interval '30 days' where id = ${oldPending}`.execute(db);

    await issueLinkToken(db, { userId, purpose: 'confirm_email', email: to });
    await issueLinkToken(db, { userId, purpose: 'password_reset', email: to });
    await sql`update link_tokens set expires_at = now() - interval '8 days' where purpose = 'confirm_email'`.execute(
      db,
    );

    const old = await createSession(db, userId, 3600);
    const live = await createSession(db, userId, 3600);
    const lately = await createSession(db, userId, 3600);
    await sql`update sessions set expires_at = now() - interval '8 days' where id = ${old.id}`.execute(db);
    await sql`update sessions set expires_at = now() - interval '1 day' where id = ${lately.id}`.execute(db);

    expect(await runAccountsRetention(db)).toEqual({ mail: 2, linkTokens: 1, sessions: 1 });

    const mail = await db.selectFrom('mail_outbox').select('id').where('user_id', '=', userId).execute();
    expect(mail.map((r) => r.id).sort()).toEqual([recentSent, oldPending].sort());
    const tokens = await db.selectFrom('link_tokens').select('purpose').where('user_id', '=', userId).execute();
    expect(tokens.map((t) => t.purpose)).toEqual(['password_reset']);
    const sessions = await db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute();
    expect(sessions.map((s) => s.id).sort()).toEqual([live.id, lately.id].sort());

    expect(await runAccountsRetention(db)).toEqual({ mail: 0, linkTokens: 0, sessions: 0 });
  });
});
