// api_keys: keys that programs send instead of a session's token. A key is `rw_<lookup>_<secret>`:
// the lookup part (16 base62 characters, no `_`) finds the row, and the SHA-256 of the whole key is
// compared with the stored one, so the key itself exists only in the answer that created it. The
// display prefix is `rw_<lookup>`. Changes that matter to a check (revoked, expiry, scopes, owner,
// hash, deleted) are announced on `ratewire_api_keys` with the lookup as payload (migration
// 20261202100000); last-use times are written in batches and announce nothing.
import { hash, randomBytes } from 'node:crypto';

import { sql } from 'kysely';

import type { Database } from '../pool.ts';

export const API_KEYS_CHANGED_CHANNEL = 'ratewire_api_keys';

const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOOKUP_LENGTH = 16;
/** `rw_` + 16 base62 + `_` + 43 base64url (32 bytes). */
const KEY_RE = /^rw_[A-Za-z0-9]{16}_[A-Za-z0-9_-]{43}$/;

/** What is stored of a key and what it is found by. */
export interface ApiKeySecret {
  lookup: string;
  /** SHA-256 of the whole key. */
  hash: Buffer;
}

/** A presented key as it is checked: its lookup part, and the SHA-256 of the whole key in base64. */
export interface PresentedApiKey {
  lookup: string;
  digest: string;
}

/** A key as its owner sees it (never the hash). */
export interface ApiKeyRow {
  id: string;
  user_id: string;
  name: string;
  lookup: string;
  scopes: string[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** What checking a presented key needs. */
export interface ApiKeyCheckRow {
  id: string;
  user_id: string;
  lookup: string;
  secret_hash: Buffer;
  scopes: string[];
  expires_at: Date | null;
  revoked_at: Date | null;
}

// The check runs on every request sent with a key, so it hashes to a string: a Buffer made per call
// costs several times the hash itself (an external backing store for the collector to sweep).
const sha256Base64 = (text: string): string => hash('sha256', text, 'base64');

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 × 62: bytes above it are dropped so every character is equally likely
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

/** A new key and what is stored of it. The key is shown once, in the answer that creates it. */
export function generateApiKey(): ApiKeySecret & { key: string } {
  const lookup = randomBase62(LOOKUP_LENGTH);
  const key = `rw_${lookup}_${randomBytes(32).toString('base64url')}`;
  return { key, lookup, hash: Buffer.from(sha256Base64(key), 'base64') };
}

/** The lookup part and digest of a presented key, or null when the text cannot be one of ours. */
export function parseApiKey(text: string): PresentedApiKey | null {
  if (text.length !== 63 || !KEY_RE.test(text)) return null;
  return { lookup: text.slice(3, 19), digest: sha256Base64(text) };
}

/** A stored hash in the form `parseApiKey` gives a presented key's. */
export const apiKeyDigest = (stored: Buffer): string => stored.toString('base64');

/**
 * True when a presented key's digest is the stored one. Constant time: every character is
 * compared whatever the others are (the length, 44, is no secret).
 */
export function apiKeyMatches(presented: string, stored: string): boolean {
  if (presented.length !== stored.length) return false;
  let diff = 0;
  for (let i = 0; i < presented.length; i++) diff |= presented.charCodeAt(i) ^ stored.charCodeAt(i);
  return diff === 0;
}

/** The part of a key that may be shown: `rw_<lookup>`. */
export const apiKeyPrefix = (lookup: string) => `rw_${lookup}`;

/** Every key starts so (an access token never does): how a bearer credential is told to be a key. */
export const API_KEY_MARK = 'rw_';

const columns = [
  'id',
  'user_id',
  'name',
  'lookup',
  'scopes',
  'created_at',
  'expires_at',
  'last_used_at',
  'revoked_at',
] as const;

export type InsertApiKeyRefusal = 'limit_reached' | 'no_account';

/**
 * Stores a key of `userId` unless the account already has `maxLive` live keys (not revoked, not
 * expired). Creations for one account are serialised on its row, so two at once cannot both pass
 * the count.
 */
export async function insertApiKey(
  db: Database,
  key: ApiKeySecret & { userId: string; name: string; scopes: readonly string[]; expiresAt: Date | null },
  maxLive: number,
): Promise<ApiKeyRow | InsertApiKeyRefusal> {
  return db.transaction().execute(async (trx) => {
    const owner = await sql<{ id: string }>`select id from users where id = ${key.userId} for no key update`.execute(
      trx,
    );
    if (!owner.rows.length) return 'no_account';
    const live = await trx
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', key.userId)
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', sql<Date>`now()`)]))
      .executeTakeFirstOrThrow();
    if (Number(live.n) >= maxLive) return 'limit_reached';
    return trx
      .insertInto('api_keys')
      .values({
        user_id: key.userId,
        name: key.name,
        lookup: key.lookup,
        secret_hash: key.hash,
        scopes: [...key.scopes],
        expires_at: key.expiresAt,
      })
      .returning(columns)
      .$castTo<ApiKeyRow>()
      .executeTakeFirstOrThrow();
  });
}

/** Every key of `userId`, revoked ones included, newest first. */
export async function listApiKeys(db: Database, userId: string): Promise<ApiKeyRow[]> {
  return db
    .selectFrom('api_keys')
    .select(columns)
    .where('user_id', '=', userId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .$castTo<ApiKeyRow>()
    .execute();
}

/** The key a presented lookup part names, with what checking it needs. */
export async function findApiKeyByLookup(db: Database, lookup: string): Promise<ApiKeyCheckRow | undefined> {
  return db
    .selectFrom('api_keys')
    .select(['id', 'user_id', 'lookup', 'secret_hash', 'scopes', 'expires_at', 'revoked_at'])
    .where('lookup', '=', lookup)
    .$castTo<ApiKeyCheckRow>()
    .executeTakeFirst();
}

/**
 * Revokes key `id` of `userId` (a key already revoked keeps its first revocation time); false when
 * that account has no such key.
 */
export async function revokeApiKey(db: Database, id: string, userId: string): Promise<string | null> {
  const row = await db
    .updateTable('api_keys')
    .set({ revoked_at: sql`coalesce(revoked_at, now())` })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .returning('lookup')
    .executeTakeFirst();
  return row?.lookup ?? null;
}

/** Records when keys were last used, in one statement; a time never moves back. */
export async function recordApiKeyUses(db: Database, uses: readonly { id: string; at: Date }[]): Promise<void> {
  if (!uses.length) return;
  await sql`
    update api_keys as k set last_used_at = greatest(k.last_used_at, v.at)
    from unnest(${uses.map((u) => u.id)}::uuid[], ${uses.map((u) => u.at)}::timestamptz[]) as v(id, at)
    where k.id = v.id`.execute(db);
}
