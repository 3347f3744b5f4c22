import { randomUUID } from 'node:crypto';

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  claimDueMail,
  enqueueMail,
  enqueuePasswordReset,
  msUntilNextMail,
  pruneMailOutbox,
  recordMailOutcomes,
  type Database,
} from '../src/index.ts';
import { scratchDatabase, type ScratchDatabase } from './scratch-database.ts';

let scratch: ScratchDatabase;
let db: Database;

beforeAll(async () => {
  scratch = await scratchDatabase('mail', { max: 8 });
  db = scratch.db;
});
afterAll(() => scratch?.drop());

/** A user with one queued confirmation mail; the mail's id. */
async function queued(): Promise<{ userId: string; id: string }> {
  const email = `${randomUUID()}@mail.test`;
  const { id: userId } = await db
    .insertInto('users')
    .values({ email, password_hash: 'x', name: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  await enqueueMail(db, { kind: 'confirm_email', userId, to: email });
  const row = await db.selectFrom('mail_outbox').select('id').where('user_id', '=', userId).executeTakeFirstOrThrow();
  return { userId, id: row.id };
}

const row = (id: string) => db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** Makes every pending mail due now (as if its lease or its wait had run out). */
const makeDue = () => sql`update mail_outbox set next_attempt_at = now() where status = 'pending'`.execute(db);

describe('mail_outbox, the worker side', () => {
  it('claims a due mail once: a second claim during the lease gets nothing', async () => {
    const { id, userId } = await queued();
    const [claimed, again] = await Promise.all([claimDueMail(db, 100, 60_000), claimDueMail(db, 100, 60_000)]);
    const mine = [...claimed, ...again].filter((m) => m.id === id);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ kind: 'confirm_email', user_id: userId, attempts: 0 });
    expect(await claimDueMail(db, 100, 60_000)).toEqual([]);
    expect(await msUntilNextMail(db)).toBeGreaterThan(50_000);
    await makeDue();
    // the lease read back exactly: an outcome under it is recorded
    const [lease] = (await claimDueMail(db, 100, 60_000)).filter((m) => m.id === id);
    const recorded = await recordMailOutcomes(db, [
      { id, leaseUntil: lease!.lease_until, status: 'sent', messageId: '<m1@mail.test>' },
    ]);
    expect([...recorded]).toEqual([id]);
    expect(await row(id)).toMatchObject({
      status: 'sent',
      attempts: 1,
      message_id: '<m1@mail.test>',
      last_error: null,
    });
    expect((await row(id)).sent_at).toBeInstanceOf(Date);
  });

  it('records a retry (attempts, error, next attempt) and a failure; an expired lease records nothing', async () => {
    const { id } = await queued();
    const [first] = (await claimDueMail(db, 100, 60_000)).filter((m) => m.id === id);
    await recordMailOutcomes(db, [
      { id, leaseUntil: first!.lease_until, status: 'pending', error: '451 not now', retryInMs: 3_600_000 },
    ]);
    const retried = await row(id);
    expect(retried).toMatchObject({ status: 'pending', attempts: 1, last_error: '451 not now' });
    expect(retried.next_attempt_at!.getTime()).toBeGreaterThan(Date.now() + 3_000_000);

    await makeDue();
    const [stale] = (await claimDueMail(db, 100, 60_000)).filter((m) => m.id === id);
    await makeDue();
    // (a lease of another length, so the two claims differ even within one millisecond)
    const [current] = (await claimDueMail(db, 100, 120_000)).filter((m) => m.id === id);
    // the first claim's lease is gone: another worker holds the row now
    expect(
      await recordMailOutcomes(db, [{ id, leaseUntil: stale!.lease_until, status: 'sent', messageId: '<late@x>' }]),
    ).toEqual(new Set());
    expect(await row(id)).toMatchObject({ status: 'pending', attempts: 1 });
    await recordMailOutcomes(db, [{ id, leaseUntil: current!.lease_until, status: 'failed', error: '550 no' }]);
    expect(await row(id)).toMatchObject({ status: 'failed', attempts: 2, last_error: '550 no', next_attempt_at: null });
  });

  it('resolves a reset request when claiming it: a known address to its account, an unknown one discarded', async () => {
    const known = await queued();
    const { email } = await db
      .selectFrom('users')
      .select('email')
      .where('id', '=', known.userId)
      .executeTakeFirstOrThrow();
    const unknown = `${randomUUID()}@nobody.test`;
    await enqueuePasswordReset(db, email.toUpperCase());
    await enqueuePasswordReset(db, unknown);
    // the api wrote the same row for both
    const asked = await db
      .selectFrom('mail_outbox')
      .select(['user_id', 'status', 'to_address'])
      .where('kind', '=', 'password_reset')
      .where('to_address', 'in', [email, unknown])
      .orderBy('id')
      .execute();
    expect(asked).toEqual([
      { user_id: null, status: 'pending', to_address: email },
      { user_id: null, status: 'pending', to_address: unknown },
    ]);
    await makeDue();
    const claimed = (await claimDueMail(db, 100, 60_000)).filter((m) => m.kind === 'password_reset');
    expect(claimed.filter((m) => m.user_id === known.userId)).toMatchObject([{ to_address: email }]);
    expect(claimed.filter((m) => m.to_address === unknown)).toEqual([]);
    const gone = await db
      .selectFrom('mail_outbox')
      .select(['status', 'to_address', 'next_attempt_at'])
      .where('kind', '=', 'password_reset')
      .where('user_id', 'is', null)
      .execute();
    expect(gone).toContainEqual({ status: 'discarded', to_address: '', next_attempt_at: null });
    expect(gone.every((r) => r.status === 'discarded' && r.to_address === '')).toBe(true);
  });

  it('prunes sent, failed and discarded rows older than the window, never a pending one', async () => {
    const old = await queued();
    const pending = await queued();
    const recent = await queued();
    await sql`update mail_outbox set status = 'sent', sent_at = now() - interval '8 days'
              where id = ${old.id}`.execute(db);
    // a reset asked for an address without an account leaves a discarded row once claimed
    await enqueuePasswordReset(db, `${randomUUID()}@nobody.test`);
    await claimDueMail(db, 100, 60_000);
    const discarded = await db
      .selectFrom('mail_outbox')
      .select('id')
      .where('status', '=', 'discarded')
      .executeTakeFirstOrThrow();
    await sql`update mail_outbox set created_at = now() - interval '8 days' where id = ${discarded.id}`.execute(db);
    await sql`update mail_outbox set created_at = now() - interval '9 days' where id = ${pending.id}`.execute(db);
    await sql`update mail_outbox set status = 'failed' where id = ${recent.id}`.execute(db);
    expect(await pruneMailOutbox(db, 7 * 86_400)).toBe(2);
    const left = await db.selectFrom('mail_outbox').select('id').execute();
    expect(left.map((r) => r.id)).not.toContain(old.id);
    expect(left.map((r) => r.id)).not.toContain(discarded.id);
    expect(left.map((r) => r.id)).toEqual(expect.arrayContaining([pending.id, recent.id]));
  });
});
