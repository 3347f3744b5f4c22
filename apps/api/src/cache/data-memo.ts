// Data a service reads often (the Binance price rows, a day's CBR rates), kept while its family's
// version stands: an event that changes the version makes the next read load again. Loads are
// shared by concurrent readers, failures are not kept, and a backstop lifetime and a size bound
// keep a missed event or a stream of distinct keys from holding data forever.
import { keepNewest, type FamilyVersions } from './response-cache.ts';

interface Held<T> {
  version: string;
  at: number;
  value: Promise<T>;
}

export interface DataMemoOptions {
  /** Backstop lifetime (default 60 s). */
  ttlMs?: number;
  /** Keys held at most (default 500); past it the oldest goes. */
  maxEntries?: number;
}

export class DataMemo<T> {
  private readonly held = new Map<string, Held<T>>();
  private readonly versions: FamilyVersions;
  private readonly family: string;
  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(versions: FamilyVersions, family: string, options: DataMemoOptions = {}) {
    this.versions = versions;
    this.family = family;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 500;
  }

  get(key: string, load: () => Promise<T>): Promise<T> {
    const version = this.versions.version(this.family);
    const hit = this.held.get(key);
    if (hit && hit.version === version && performance.now() - hit.at < this.ttlMs) return hit.value;
    const value = load();
    const next = { version, at: performance.now(), value };
    keepNewest(this.held, key, next, this.maxEntries);
    value.catch(() => {
      if (this.held.get(key) === next) this.held.delete(key);
    });
    return value;
  }
}
