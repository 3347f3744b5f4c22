// A per-process cache of rows whose changes arrive on a ChangeFeed channel (the payload is the
// row's key). Entries are served only while the feed listens; a notification drops its entry, a
// reset drops them all, and an entry also expires after `ttlMs`, a bound on staleness should a
// notification ever be lost. Concurrent misses for one key share one load, and a load that started
// before a change to its key is not kept.
//
// With `misses`, a key no row has is remembered too — briefly, and apart from the rows, in a smaller
// map, so a stream of made-up keys can neither push real entries out nor be remembered long.
import type { ChangeFeed } from './change-feed.ts';

export interface ChangeCacheOptions<T> {
  changes: ChangeFeed;
  channel: string;
  /** Reads the row as it is now; undefined when there is none. */
  load(key: string): Promise<T | undefined>;
  ttlMs: number;
  maxEntries?: number;
  /** Remember keys no row has, for `ttlMs`, at most `maxEntries` of them (default: not at all). */
  misses?: { ttlMs: number; maxEntries: number };
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

export class ChangeCache<T> {
  private readonly options: ChangeCacheOptions<T>;
  private readonly maxEntries: number;
  private readonly entries = new Map<string, Held<T>>();
  private readonly misses = new Map<string, Held<null>>();
  private readonly inflight = new Map<string, Promise<T | undefined>>();
  /** Bumped by every change: a load that started before one is not kept. */
  private generation = 0;

  constructor(options: ChangeCacheOptions<T>) {
    this.options = options;
    this.maxEntries = options.maxEntries ?? 50_000;
    options.changes.subscribe(options.channel, {
      onChange: (key) => this.drop(key),
      onReset: () => this.clear(),
    });
  }

  /**
   * Without waiting: the cached value, null when the key is remembered as having no row, or
   * undefined when this process does not know (not held, expired, or the feed is not listening).
   */
  peek(key: string): T | null | undefined {
    if (!this.options.changes.isListening) return undefined;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit) {
      if (hit.expires > now) return hit.value;
      this.entries.delete(key);
    }
    const miss = this.misses.get(key);
    if (miss) {
      if (miss.expires > now) return null;
      this.misses.delete(key);
    }
    return undefined;
  }

  /** The row as it is now (from the cache while it holds it); undefined when there is none. */
  get(key: string): Promise<T | undefined> {
    const held = this.peek(key);
    if (held !== undefined) return Promise.resolve(held ?? undefined);
    return this.inflight.get(key) ?? this.load(key);
  }

  /** Rows held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  private load(key: string): Promise<T | undefined> {
    const generation = this.generation;
    const pending = this.options
      .load(key)
      .then((value) => {
        if (this.options.changes.isListening && generation === this.generation) {
          const misses = this.options.misses;
          if (value !== undefined) remember(this.entries, this.maxEntries, key, value, this.options.ttlMs);
          else if (misses) remember(this.misses, misses.maxEntries, key, null, misses.ttlMs);
        }
        return value;
      })
      .finally(() => {
        if (this.inflight.get(key) === pending) this.inflight.delete(key);
      });
    this.inflight.set(key, pending);
    return pending;
  }

  /** Drops one entry now (a change this process made itself, before its notification comes back). */
  forget(key: string): void {
    this.drop(key);
  }

  private drop(key: string): void {
    this.generation++;
    this.entries.delete(key);
    this.misses.delete(key);
    // later callers read again; those already waiting on that read get the value of its moment
    this.inflight.delete(key);
  }

  private clear(): void {
    this.generation++;
    this.entries.clear();
    this.misses.clear();
    this.inflight.clear();
  }
}
