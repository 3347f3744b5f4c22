import { randomUUID } from 'node:crypto';

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readWebhookSecret, rotateWebhookSecret, webhookSecretsFor, type Database } from '../src/index.ts';
import { scratchDatabase, type ScratchDatabase } from './scratch-database.ts';

let scratch: ScratchDatabase;
let db: Database;

const user = async () =>
  (
    await db
      .insertInto('users')
      .values({ email: `${randomUUID()}@whsec.test`, password_hash: 'x', name: null })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;

beforeAll(async () => {
  scratch = await scratchDatabase('whsec', { max: 8 });
  db = scratch.db;
});

afterAll(() => scratch?.drop());

describe('webhook secrets repository', () => {
  it('creates a whsec_ secret on first read and answers the same one after', async () => {
    const id = await user();
    const first = await readWebhookSecret(db, id);
    expect(first).toMatchObject({ user_id: id, previous_secret: null, previous_expires_at: null });
    expect(first!.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(first!.secret.slice(6), 'base64')).toHaveLength(32);
    expect(await readWebhookSecret(db, id)).toEqual(first);
  });

  it('agrees on one secret when many first reads race', async () => {
    const id = await user();
    const reads = await Promise.all(Array.from({ length: 8 }, () => readWebhookSecret(db, id)));
    expect(new Set(reads.map((r) => r!.secret)).size).toBe(1);
  });

  it('rotates: the replaced secret is the previous one for 24 h; a second rotation drops the first at once', async () => {
    const id = await user();
    const original = (await readWebhookSecret(db, id))!;
    const rotated = (await rotateWebhookSecret(db, id))!;
    expect(rotated.secret).not.toBe(original.secret);
    expect(rotated.previous_secret).toBe(original.secret);
    const ms = rotated.previous_expires_at!.getTime() - Date.now();
    expect(ms).toBeGreaterThan(24 * 3600_000 - 60_000);
    expect(ms).toBeLessThanOrEqual(24 * 3600_000 + 60_000);
    expect(await readWebhookSecret(db, id)).toEqual(rotated);

    const again = (await rotateWebhookSecret(db, id))!;
    expect(again.previous_secret).toBe(rotated.secret);
    expect([again.secret, again.previous_secret]).not.toContain(original.secret);
  });

  it('hides the previous secret once its time is over', async () => {
    const id = await user();
    await readWebhookSecret(db, id);
    const rotated = (await rotateWebhookSecret(db, id))!;
    await sql`update webhook_secrets set previous_expires_at = now() - interval '1 second' where user_id = ${id}`.execute(
      db,
    );
    expect(await readWebhookSecret(db, id)).toMatchObject({
      secret: rotated.secret,
      previous_secret: null,
      previous_expires_at: null,
    });
  });

  it('reads a batch, creating the missing ones, and leaves out ids with no user', async () => {
    const [a, b] = [await user(), await user()];
    const aSecret = (await readWebhookSecret(db, a))!.secret;
    const ghost = randomUUID();
    const found = await webhookSecretsFor(db, [a, b, a, ghost]);
    expect([...found.keys()].sort()).toEqual([a, b].sort());
    expect(found.get(a)!.secret).toBe(aSecret);
    expect(found.get(b)!.secret).not.toBe(aSecret);
    expect(await readWebhookSecret(db, ghost)).toBeUndefined();
    expect(await rotateWebhookSecret(db, ghost)).toBeUndefined();
  });

  it("rotating a user's first secret leaves no previous one", async () => {
    const id = await user();
    const rotated = (await rotateWebhookSecret(db, id))!;
    expect(rotated).toMatchObject({ previous_secret: null, previous_expires_at: null });
  });

  it('goes with its user', async () => {
    const id = await user();
    await readWebhookSecret(db, id);
    await db.deleteFrom('users').where('id', '=', id).execute();
    expect(await db.selectFrom('webhook_secrets').select('user_id').where('user_id', '=', id).execute()).toEqual([]);
  });
});
