// API keys as this process last read them, by lookup part: what checking a presented key needs
// (owner, scopes, expiry, revoked, hash). Kept only while the change feed listens: every change that
// matters to a check is NOTIFYed on `ratewire_api_keys` with the key's lookup when it commits, on
// whichever replica, so the entry is dropped everywhere within milliseconds; a reset (connection
// lost or back, a truncate) drops them all, and while the feed is not listening every check reads
// the database. An entry also expires after `ttlMs`, a bound should a notification ever be lost.
//
// A lookup no key has is remembered only briefly (`missTtlMs`) and apart from the known keys, in a
// smaller map, so a stream of made-up keys can neither push real keys out nor be remembered long
// (the ChangeCache every NOTIFY-kept cache of the api is).
import { API_KEYS_CHANGED_CHANNEL, apiKeyDigest, findApiKeyByLookup, type Database } from '@ratewire/db';

import { ChangeCache } from '../auth/change-cache.ts';
import type { ChangeFeed } from '../auth/change-feed.ts';

/** As long as accounts and sessions are kept (ACCOUNT_CACHE_TTL_MS): a bound should a notification be lost. */
export const API_KEY_CACHE_TTL_MS = 5000;
export const API_KEY_MISS_TTL_MS = 1000;

/** A key as checking it needs it. */
export interface CachedApiKey {
  id: string;
  userId: string;
  lookup: string;
  /** SHA-256 of the whole key, base64 (as `parseApiKey` gives a presented key's). */
  digest: string;
  scopes: readonly string[];
  /** ms since the epoch, or null when it never expires. */
  expiresAt: number | null;
  revoked: boolean;
}

export interface ApiKeyCacheDeps {
  db: Database;
  changes: ChangeFeed;
  ttlMs?: number;
  missTtlMs?: number;
  maxEntries?: number;
  maxMisses?: number;
}

export class ApiKeyCache {
  private readonly cache: ChangeCache<CachedApiKey>;

  constructor(deps: ApiKeyCacheDeps) {
    this.cache = new ChangeCache({
      changes: deps.changes,
      channel: API_KEYS_CHANGED_CHANNEL,
      ttlMs: deps.ttlMs ?? API_KEY_CACHE_TTL_MS,
      maxEntries: deps.maxEntries ?? 50_000,
      misses: { ttlMs: deps.missTtlMs ?? API_KEY_MISS_TTL_MS, maxEntries: deps.maxMisses ?? 5000 },
      load: async (lookup) => {
        const row = await findApiKeyByLookup(deps.db, lookup);
        return (
          row && {
            id: row.id,
            userId: row.user_id,
            lookup: row.lookup,
            digest: apiKeyDigest(row.secret_hash),
            scopes: row.scopes,
            expiresAt: row.expires_at?.getTime() ?? null,
            revoked: row.revoked_at !== null,
          }
        );
      },
    });
  }

  /**
   * Without waiting: the key, null when no key has this lookup, or undefined when this process
   * does not know (not held, expired, or the feed is not listening).
   */
  peek(lookup: string): CachedApiKey | null | undefined {
    return this.cache.peek(lookup);
  }

  /** Drops a key this process changed itself (a revoke), so its next check reads it anew. */
  forget(lookup: string): void {
    this.cache.forget(lookup);
  }

  /** The key as it is now (from the cache while it holds it), or null when no key has this lookup. */
  async get(lookup: string): Promise<CachedApiKey | null> {
    return (await this.cache.get(lookup)) ?? null;
  }

  /** Keys held (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }
}
