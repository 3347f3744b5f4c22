import { createHash, randomUUID } from 'node:crypto';

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  apiKeyDigest,
  apiKeyMatches,
  findApiKeyByLookup,
  generateApiKey,
  insertApiKey,
  listApiKeys,
  parseApiKey,
  recordApiKeyUses,
  revokeApiKey,
  type ApiKeyRow,
  type Database,
} from '../src/index.ts';
import { scratchDatabase, type ScratchDatabase } from './scratch-database.ts';

let scratch: ScratchDatabase;
let db: Database;

const user = async () =>
  (
    await db
      .insertInto('users')
      .values({ email: `${randomUUID()}@keys.test`, password_hash: 'x', name: null })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;

const create = async (userId: string, maxLive = 25, expiresAt: Date | null = null) => {
  const secret = generateApiKey();
  const row = await insertApiKey(db, { ...secret, userId, name: 'k', scopes: ['read'], expiresAt }, maxLive);
  return { secret, row };
};

beforeAll(async () => {
  scratch = await scratchDatabase('apikeys', { max: 8 });
  db = scratch.db;
});

afterAll(() => scratch?.drop());

describe('API key form', () => {
  it('makes rw_<16 base62>_<43 base64url> keys whose stored hash is the SHA-256 of the whole key', () => {
    const { key, lookup, hash } = generateApiKey();
    expect(key).toMatch(/^rw_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}$/);
    expect(key.slice(3, 19)).toBe(lookup);
    expect(hash.equals(createHash('sha256').update(key).digest())).toBe(true);
    const parsed = parseApiKey(key)!;
    expect(parsed.lookup).toBe(lookup);
    expect(apiKeyMatches(parsed.digest, apiKeyDigest(hash))).toBe(true);
    const tampered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    expect(apiKeyMatches(parseApiKey(tampered)!.digest, apiKeyDigest(hash))).toBe(false);
    expect(apiKeyMatches(parsed.digest, parsed.digest.slice(1))).toBe(false);
  });

  it('refuses text that cannot be a key', () => {
    const { key } = generateApiKey();
    for (const bad of [
      '',
      'rw_',
      key.slice(0, -1),
      `${key}x`,
      key.replace('rw_', 'rx_'),
      `rw_${'a'.repeat(15)}__${'b'.repeat(43)}`,
    ]) {
      expect(parseApiKey(bad)).toBeNull();
    }
  });
});

describe('api_keys repository', () => {
  it('stores a key, finds it by its lookup part and lists it without the hash', async () => {
    const id = await user();
    const { secret, row } = await create(id);
    expect(row).toMatchObject({ user_id: id, lookup: secret.lookup, scopes: ['read'], revoked_at: null });
    const found = await findApiKeyByLookup(db, secret.lookup);
    expect(found!.secret_hash.equals(secret.hash)).toBe(true);
    const list = await listApiKeys(db, id);
    expect(list.map((k) => k.id)).toEqual([(row as ApiKeyRow).id]);
    expect(Object.keys(list[0]!)).not.toContain('secret_hash');
  });

  it('refuses a key past the live limit, even when many are created at once; revoked and expired ones do not count', async () => {
    const id = await user();
    const results = await Promise.all(Array.from({ length: 6 }, () => create(id, 3)));
    expect(results.filter((r) => r.row === 'limit_reached')).toHaveLength(3);
    const first = results.find((r) => r.row !== 'limit_reached')!.row as ApiKeyRow;
    expect(await revokeApiKey(db, first.id, id)).toBe(first.lookup);
    expect(typeof (await create(id, 3)).row).toBe('object');
    await sql`update api_keys set expires_at = now() - interval '1 second' where id = ${first.id}`.execute(db);
    expect((await create(id, 3)).row).toBe('limit_reached');
    expect(
      await insertApiKey(
        db,
        { ...generateApiKey(), userId: randomUUID(), name: 'x', scopes: ['read'], expiresAt: null },
        3,
      ),
    ).toBe('no_account');
  });

  it("revokes only the owner's key and keeps the first revocation time", async () => {
    const owner = await user();
    const other = await user();
    const row = (await create(owner)).row as ApiKeyRow;
    expect(await revokeApiKey(db, row.id, other)).toBeNull();
    expect(await revokeApiKey(db, randomUUID(), owner)).toBeNull();
    expect(await revokeApiKey(db, row.id, owner)).toBe(row.lookup);
    const first = (await findApiKeyByLookup(db, row.lookup))!.revoked_at;
    expect(first).toBeInstanceOf(Date);
    expect(await revokeApiKey(db, row.id, owner)).toBe(row.lookup);
    expect((await findApiKeyByLookup(db, row.lookup))!.revoked_at).toEqual(first);
  });

  it('records last uses of many keys in one statement, never moving a time back', async () => {
    const id = await user();
    const a = (await create(id)).row as ApiKeyRow;
    const b = (await create(id)).row as ApiKeyRow;
    const t1 = new Date('2030-01-01T00:00:00.000Z');
    const t0 = new Date('2029-01-01T00:00:00.000Z');
    await recordApiKeyUses(db, [
      { id: a.id, at: t1 },
      { id: b.id, at: t0 },
    ]);
    await recordApiKeyUses(db, [{ id: a.id, at: t0 }]);
    await recordApiKeyUses(db, []);
    const byId = new Map((await listApiKeys(db, id)).map((k) => [k.id, k.last_used_at]));
    expect(byId.get(a.id)).toEqual(t1);
    expect(byId.get(b.id)).toEqual(t0);
  });
});
