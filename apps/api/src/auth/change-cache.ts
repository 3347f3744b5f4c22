// A per-process cache of rows whose changes arrive on a ChangeFeed channel (the payload is the
// row's key). Entries are served only while the feed listens; a notification drops its entry, a
// reset drops them all, and an entry also expires after `ttlMs`, a bound on staleness should a
// notification ever be lost. Concurrent misses for one key share one load, and a load that started
// before a change to its key is not kept.
import type { ChangeFeed } from './change-feed.ts';

export interface ChangeCacheOptions<T> {
  changes: ChangeFeed;
  channel: string;
  /** Reads the row as it is now; undefined when there is none (not cached). */
  load(key: string): Promise<T | undefined>;
  ttlMs: number;
  maxEntries?: number;
}

export class ChangeCache<T> {
  private readonly options: ChangeCacheOptions<T>;
  private readonly maxEntries: number;
  private readonly entries = new Map<string, { value: T; expires: number }>();
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

  /** The cached value, without waiting: undefined when it is not held (or may be stale). */
  peek(key: string): T | undefined {
    if (!this.options.changes.isListening) return undefined;
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires > Date.now()) return hit.value;
    this.entries.delete(key);
    return undefined;
  }

  /** The row as it is now (from the cache while it holds it). */
  get(key: string): Promise<T | undefined> {
    const hit = this.peek(key);
    if (hit !== undefined) return Promise.resolve(hit);
    return this.inflight.get(key) ?? this.load(key);
  }

  private load(key: string): Promise<T | undefined> {
    const generation = this.generation;
    const pending = this.options
      .load(key)
      .then((value) => {
        if (value !== undefined && this.options.changes.isListening && generation === this.generation) {
          this.remember(key, value);
        }
        return value;
      })
      .finally(() => {
        if (this.inflight.get(key) === pending) this.inflight.delete(key);
      });
    this.inflight.set(key, pending);
    return pending;
  }

  private remember(key: string, value: T): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expires: Date.now() + this.options.ttlMs });
  }

  private drop(key: string): void {
    this.generation++;
    this.entries.delete(key);
    // later callers read again; those already waiting on that read get the value of its moment
    this.inflight.delete(key);
  }

  private clear(): void {
    this.generation++;
    this.entries.clear();
    this.inflight.clear();
  }
}
