// API keys as this process last read them, by lookup part: what checking a presented key needs
// (owner, scopes, expiry, revoked, hash). Kept only while the change feed listens: every change that
// matters to a check is NOTIFYed on `ratewire_api_keys` with the key's lookup when it commits, on
// whichever replica, so the entry is dropped everywhere within milliseconds; a reset (connection
// lost or back, a truncate) drops them all, and while the feed is not listening every check reads
// the database. An entry also expires after `ttlMs`, a bound should a notification ever be lost.
//
// A lookup no key has is remembered only briefly (`missTtlMs`) and apart from the known keys, in a
// smaller map, so a stream of made-up keys can neither push real keys out nor be remembered long.
import { API_KEYS_CHANGED_CHANNEL, apiKeyDigest, findApiKeyByLookup, type Database } from '@ratewire/db';

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

interface Held<T> {
  value: T;
  expires: number;
}

function remember<T>(map: Map<string, Held<T>>, max: number, key: string, value: T, ttlMs: number): void {
  map.delete(key);
  if (map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, { value, expires: Date.now() + ttlMs });
}

export class ApiKeyCache {
  private readonly deps: ApiKeyCacheDeps;
  private readonly ttlMs: number;
  private readonly missTtlMs: number;
  private readonly maxEntries: number;
  private readonly maxMisses: number;
  private readonly keys = new Map<string, Held<CachedApiKey>>();
  private readonly misses = new Map<string, Held<null>>();
  private readonly inflight = new Map<string, Promise<CachedApiKey | null>>();
  /** Bumped by every change: a read that started before one is not kept. */
  private generation = 0;

  constructor(deps: ApiKeyCacheDeps) {
    this.deps = deps;
    this.ttlMs = deps.ttlMs ?? API_KEY_CACHE_TTL_MS;
    this.missTtlMs = deps.missTtlMs ?? API_KEY_MISS_TTL_MS;
    this.maxEntries = deps.maxEntries ?? 50_000;
    this.maxMisses = deps.maxMisses ?? 5000;
    deps.changes.subscribe(API_KEYS_CHANGED_CHANNEL, {
      onChange: (lookup) => this.drop(lookup),
      onReset: () => this.clear(),
    });
  }

  /**
   * Without waiting: the key, null when no key has this lookup, or undefined when this process
   * does not know (not held, expired, or the feed is not listening).
   */
  peek(lookup: string): CachedApiKey | null | undefined {
    if (!this.deps.changes.isListening) return undefined;
    const now = Date.now();
    const hit = this.keys.get(lookup);
    if (hit) {
      if (hit.expires > now) return hit.value;
      this.keys.delete(lookup);
    }
    const miss = this.misses.get(lookup);
    if (miss) {
      if (miss.expires > now) return null;
      this.misses.delete(lookup);
    }
    return undefined;
  }

  /** The key as it is now (from the cache while it holds it), or null when no key has this lookup. */
  get(lookup: string): Promise<CachedApiKey | null> {
    const held = this.peek(lookup);
    if (held !== undefined) return Promise.resolve(held);
    return this.inflight.get(lookup) ?? this.load(lookup);
  }

  /** Keys held (for tests and metrics). */
  get size(): number {
    return this.keys.size;
  }

  private load(lookup: string): Promise<CachedApiKey | null> {
    const generation = this.generation;
    const pending = findApiKeyByLookup(this.deps.db, lookup)
      .then((row) => {
        const key: CachedApiKey | null = row
          ? {
              id: row.id,
              userId: row.user_id,
              lookup: row.lookup,
              digest: apiKeyDigest(row.secret_hash),
              scopes: row.scopes,
              expiresAt: row.expires_at?.getTime() ?? null,
              revoked: row.revoked_at !== null,
            }
          : null;
        if (this.deps.changes.isListening && generation === this.generation) {
          if (key) remember(this.keys, this.maxEntries, lookup, key, this.ttlMs);
          else remember(this.misses, this.maxMisses, lookup, null, this.missTtlMs);
        }
        return key;
      })
      .finally(() => {
        if (this.inflight.get(lookup) === pending) this.inflight.delete(lookup);
      });
    this.inflight.set(lookup, pending);
    return pending;
  }

  private drop(lookup: string): void {
    this.generation++;
    this.keys.delete(lookup);
    this.misses.delete(lookup);
    // later callers read again; those already waiting on that read get the value of its moment
    this.inflight.delete(lookup);
  }

  private clear(): void {
    this.generation++;
    this.keys.clear();
    this.misses.clear();
    this.inflight.clear();
  }
}
