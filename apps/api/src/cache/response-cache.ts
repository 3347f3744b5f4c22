// Storage of encoded response bodies for the hot reads. Entries belong to a family ('binance',
// 'cbr', 'currencies') whose version changes when an event says the data changed
// (rates.*.updated, currencies.*): the next read rebuilds. Bodies are shared through Redis under the
// family version, which every replica derives from the same event bytes, so one replica builds
// from Postgres and the others fetch the bytes. A short memory lifetime is only a backstop for a
// missed event; it never replaces the invalidation. What a key is comes from cache-keys.ts; how a
// body is encoded and written, from encoded-body.ts.
import { createHash, randomBytes } from 'node:crypto';

import { withTimeout, type Logger, type RedisClient } from '@ratewire/runtime';

import { encodeBody, type BuiltBody, type EncodedBody } from './encoded-body.ts';

export interface CacheOptions {
  redis: RedisClient;
  /** Redis key prefix, e.g. `rw:`. */
  prefix: string;
  log: Logger;
  /** Backstop lifetime in memory (a missed event is healed after this). */
  memoryTtlMs?: number;
  /**
   * Entries held in memory at most (default 2000). Keys come from requests (every page of a list,
   * every CBR day), so without a bound distinct reads would grow the process for as long as no
   * write invalidates them; past it the oldest built entry goes (it is rebuilt when read again).
   */
  maxEntries?: number;
  /** Lifetime of a shared body in Redis. */
  redisTtlSeconds?: number;
  /** Upper bound on a Redis round trip before falling back to building locally. */
  redisTimeoutMs?: number;
}

/** The families' versions: data memos key on them; a write that changed a family's data bumps it. */
export interface FamilyVersions {
  version(family: string): string;
  invalidate(family: string, version?: string): void;
}

interface Slot {
  entry: EncodedBody;
  version: string;
  at: number;
}

export class ResponseCache implements FamilyVersions {
  private readonly slots = new Map<string, Slot>();
  private readonly versions = new Map<string, string>();
  private readonly inflight = new Map<string, Promise<EncodedBody>>();
  private readonly boot = randomBytes(6).toString('base64url');
  private readonly redis: RedisClient;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly memoryTtlMs: number;
  private readonly maxEntries: number;
  private readonly redisTtlSeconds: number;
  private readonly redisTimeoutMs: number;
  constructor(options: CacheOptions) {
    this.redis = options.redis;
    this.prefix = `${options.prefix}cache:`;
    this.log = options.log;
    this.memoryTtlMs = options.memoryTtlMs ?? 60_000;
    this.maxEntries = options.maxEntries ?? 2000;
    this.redisTtlSeconds = options.redisTtlSeconds ?? 300;
    this.redisTimeoutMs = options.redisTimeoutMs ?? 250;
  }

  /** The family's current version: a per-process value until the first event names one. */
  version(family: string): string {
    let v = this.versions.get(family);
    if (!v) {
      v = `boot-${this.boot}`;
      this.versions.set(family, v);
    }
    return v;
  }

  /** The entry when it is fresh, without waiting: the hot path. */
  peek(family: string, key: string): EncodedBody | undefined {
    const slot = this.slots.get(key);
    if (slot && slot.version === this.versions.get(family) && performance.now() - slot.at < this.memoryTtlMs) {
      return slot.entry;
    }
    return undefined;
  }

  /**
   * The entry for `key`, built once per version (concurrent callers share the build). `shared:
   * false` keeps it in this process only (bodies cheaper to build again than to fetch from Redis).
   */
  get(
    family: string,
    key: string,
    build: () => Promise<BuiltBody>,
    options: { shared?: boolean } = {},
  ): Promise<EncodedBody> {
    const hit = this.peek(family, key);
    if (hit) return Promise.resolve(hit);
    const version = this.version(family);
    const flightKey = `${version}\n${key}`;
    let flight = this.inflight.get(flightKey);
    if (!flight) {
      const stale = this.slots.get(key);
      // an entry only past its backstop lifetime is rebuilt from the source, not re-read from Redis
      const skipRedis = stale?.version === version;
      flight = this.load(family, key, version, build, options.shared !== false && !skipRedis).finally(() =>
        this.inflight.delete(flightKey),
      );
      this.inflight.set(flightKey, flight);
    }
    return flight;
  }

  private async load(
    family: string,
    key: string,
    version: string,
    build: () => Promise<BuiltBody>,
    shared: boolean,
  ): Promise<EncodedBody> {
    const redisKey = `${this.prefix}${family}:${version}:${key}`;
    let built: BuiltBody | undefined;
    let fromRedis = false;
    if (shared) {
      try {
        const stored = await withTimeout(this.redis.getBuffer(redisKey), this.redisTimeoutMs, 'shared cache read');
        if (stored) {
          built = decode(stored);
          fromRedis = built !== undefined;
        }
      } catch (err) {
        this.log.debug({ err, key }, 'shared cache read failed; building locally');
      }
    }
    built ??= await build();
    const entry = await encodeBody(built);
    if (shared && !fromRedis) {
      withTimeout(
        this.redis.set(redisKey, encode(built), 'EX', this.redisTtlSeconds),
        this.redisTimeoutMs,
        'shared cache write',
      ).catch((err: unknown) => this.log.debug({ err, key }, 'shared cache write failed'));
    }
    // a build that raced an invalidation serves its caller but is not kept
    if (this.versions.get(family) === version) {
      keepNewest(this.slots, key, { entry, version, at: performance.now() }, this.maxEntries);
    }
    return entry;
  }

  /** Entries held in memory now. */
  get size(): number {
    return this.slots.size;
  }

  /** The data behind `family` changed: every entry of it is rebuilt on the next read. */
  invalidate(family: string, version: string = randomBytes(9).toString('base64url')): void {
    if (this.versions.get(family) === version) return; // the echo of an invalidation already applied
    this.versions.set(family, version);
    for (const [key, slot] of this.slots)
      if (slot.version !== version && key.startsWith(`${family}:`)) this.slots.delete(key);
  }

  /** The version every replica derives from the same event. */
  static versionOf(subject: string, data: Uint8Array | string): string {
    return createHash('sha256').update(subject).update('\n').update(data).digest('base64url').slice(0, 22);
  }
}

/** Stores `value` as the newest entry (a Map iterates in insertion order) and drops the oldest past `max`. */
export function keepNewest<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  for (const oldest of map.keys()) {
    if (map.size <= max) break;
    map.delete(oldest);
  }
}

// Shared form in Redis: the Cache-Control value, a newline, the JSON body.
function encode(built: BuiltBody): Buffer {
  return Buffer.concat([Buffer.from(`${built.cacheControl}\n`), Buffer.from(built.json)]);
}

function decode(stored: Buffer): BuiltBody | undefined {
  const nl = stored.indexOf(10);
  if (nl < 0) return undefined;
  return { cacheControl: stored.subarray(0, nl).toString(), json: stored.subarray(nl + 1).toString() };
}
