// Per-key rate limit: a token bucket in Redis, shared by every replica, holding API_KEY_RATE_LIMIT
// tokens and refilled evenly over a minute. One Lua script takes tokens (and gives back unspent
// ones) atomically, on Redis's own clock; the bucket's key `{rl:<lookup>}` is its own cluster hash
// tag.
//
// So that a request is not a Redis round trip, a process takes tokens in leases of
// max(1, floor(limit / 100)), at most MAX_LEASE, and spends them locally, topping a lease up in the
// background once half of it is spent (so the fast lane seldom finds it empty); a lease unused for a
// second is given back to the bucket. With a lease of 1 (a limit under 200) every request is a Redis
// call and the limit is exact; otherwise a replica holds at most a lease and a half that the bucket
// no longer counts (the limit is still never exceeded: tokens are only ever moved). A bucket
// found empty is remembered until its next token is due, so a client hammering past its limit
// costs no Redis call per request.
//
// Redis unavailable (an error, or no answer within `timeoutMs`): the limiter fails open to a bucket
// of the same size kept in this process (so each replica still limits each key to the limit), logs
// once, tries Redis again at most once a second, and logs again when Redis answers.
import { createHash } from 'node:crypto';

import type { Logger, RedisClient } from '@ratewire/runtime';

const WINDOW_MS = 60_000;
/** A lease unused this long is given back. */
export const LEASE_IDLE_MS = 1000;
const SWEEP_MS = 500;
const RETRY_REDIS_MS = 1000;
const MAX_LEASES = 100_000;

// KEYS[1] bucket; ARGV capacity, window ms, tokens wanted, tokens given back.
// Returns {granted, tokens left (floor), ms until full, ms until the next token}.
const TAKE_SCRIPT = `
local cap = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local back = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = cap
  at = now
end
if now > at then
  tokens = math.min(cap, tokens + (now - at) * cap / window)
end
tokens = math.min(cap, tokens + back)
local granted = math.max(0, math.min(want, math.floor(tokens)))
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
local full = math.ceil((cap - tokens) * window / cap)
redis.call('PEXPIRE', KEYS[1], full + 1000)
local nxt = 0
if tokens < 1 then nxt = math.ceil((1 - tokens) * window / cap) end
return {granted, math.floor(tokens), full, nxt}
`;
const TAKE_SHA = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

/** What the RateLimit-* headers of one answer say. */
export interface RateState {
  limit: number;
  remaining: number;
  /** Seconds until the bucket is full again. */
  resetSeconds: number;
}

export type RateDecision =
  { allowed: true; state: RateState } | { allowed: false; state: RateState; retryAfter: number };

interface Lease {
  /** Tokens this process holds and has not spent. */
  tokens: number;
  /** Tokens left in the bucket when the lease was taken. */
  bucketLeft: number;
  /** When the bucket is full again (if nothing more is taken), ms since the epoch. */
  fullAt: number;
  /** While the bucket is empty: when its next token is due. */
  deniedUntil: number;
  lastUsed: number;
}

interface Grant {
  granted: number;
  left: number;
  fullInMs: number;
  nextInMs: number;
}

export interface KeyRateLimiterDeps {
  redis: RedisClient;
  /** Prefix of the api's Redis keys. */
  prefix: string;
  /** Requests per minute per key (API_KEY_RATE_LIMIT). */
  limit: number;
  log: Logger;
  /** How long a Redis answer is waited for before failing open. */
  timeoutMs?: number;
}

/**
 * The most tokens one lease takes. A process answers a whole turn of its event loop's requests
 * before a top-up can arrive (64 connections: 64 requests of one key at once), so a lease must
 * outlast such a burst by a margin; at 100 a quarter of the bench's keyed reads waited for one.
 * It only matters for limits of 100,000 a minute and more (below, the lease is limit / 100).
 */
export const MAX_LEASE = 1000;

export const leaseSize = (limit: number) => Math.min(MAX_LEASE, Math.max(1, Math.floor(limit / 100)));

export class KeyRateLimiter {
  readonly limit: number;
  readonly limitText: string;
  readonly lease: number;
  /** `600;w=60` */
  readonly policy: string;
  private readonly deps: KeyRateLimiterDeps;
  private readonly timeoutMs: number;
  private readonly leases = new Map<string, Lease>();
  private readonly refills = new Map<string, Promise<Grant>>();
  /** Buckets kept here while Redis is unavailable. */
  private readonly local = new Map<string, { tokens: number; at: number }>();
  private redisDownSince: number | null = null;
  private retryRedisAt = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(deps: KeyRateLimiterDeps) {
    this.deps = deps;
    this.limit = deps.limit;
    this.limitText = String(deps.limit);
    this.lease = leaseSize(deps.limit);
    this.policy = `${deps.limit};w=${WINDOW_MS / 1000}`;
    this.timeoutMs = deps.timeoutMs ?? 500;
    this.sweeper = setInterval(() => this.sweep(Date.now()), SWEEP_MS);
    this.sweeper.unref();
  }

  /** True while Redis is unavailable and the limit is kept per process. */
  get failingOpen(): boolean {
    return this.redisDownSince !== null;
  }

  /**
   * A token from the lease this process holds, without waiting; undefined when it holds none (the
   * caller then asks `take`). A lease of more than one token is topped up in the background once
   * half of it is spent, so a steady stream of requests seldom finds it empty.
   */
  takeLocal(lookup: string): RateState | undefined {
    const lease = this.leases.get(lookup);
    if (!lease || lease.tokens < 1) return undefined;
    const now = Date.now();
    if (now - lease.lastUsed > LEASE_IDLE_MS) return undefined;
    lease.tokens--;
    lease.lastUsed = now;
    if (this.lease > 1 && lease.tokens * 2 < this.lease && lease.deniedUntil <= now && !this.refills.has(lookup)) {
      this.refill(lookup).catch(() => undefined);
    }
    return this.stateOf(lease, now);
  }

  /** A token for one request of this key, or the refusal (and when to retry). */
  async take(lookup: string): Promise<RateDecision> {
    for (let round = 0; round < 8; round++) {
      const local = this.takeLocal(lookup);
      if (local) return { allowed: true, state: local };
      const lease = this.leases.get(lookup);
      // an empty bucket is not asked again before its next token is due (while Redis is down the
      // local bucket is asked: it costs nothing, and it is how Redis's return is noticed)
      if (lease && lease.deniedUntil > Date.now() && !this.failingOpen) return this.denied(lease, Date.now());
      const grant = await this.refill(lookup);
      if (grant.granted === 0) {
        const after = this.leases.get(lookup);
        if (after && after.tokens < 1) return this.denied(after, Date.now());
      }
    }
    // many requests of one key at once on this process: this one takes a token of its own
    const grant = await this.call(lookup, 1, 0);
    const lease = this.merge(lookup, grant, Date.now(), 0);
    return grant.granted ? { allowed: true, state: this.stateOf(lease, Date.now()) } : this.denied(lease, Date.now());
  }

  /** The RateLimit-* headers of an answer. */
  headers(state: RateState): Record<string, string> {
    return {
      'RateLimit-Limit': this.limitText,
      'RateLimit-Remaining': String(state.remaining),
      'RateLimit-Reset': String(state.resetSeconds),
      'RateLimit-Policy': this.policy,
    };
  }

  /** Gives unspent tokens back and stops the sweeper. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    const back = [...this.leases].filter(([, l]) => l.tokens > 0);
    this.leases.clear();
    if (this.failingOpen) return;
    await Promise.all(back.map(([lookup, l]) => this.call(lookup, 0, l.tokens).catch(() => undefined)));
  }

  private stateOf(lease: Lease, now: number): RateState {
    return {
      limit: this.limit,
      remaining: Math.max(0, Math.min(this.limit, lease.bucketLeft + lease.tokens)),
      resetSeconds: Math.max(0, Math.ceil((lease.fullAt - now) / 1000)),
    };
  }

  private denied(lease: Lease, now: number): RateDecision {
    const state = { ...this.stateOf(lease, now), remaining: 0 };
    return { allowed: false, state, retryAfter: Math.max(1, Math.ceil((lease.deniedUntil - now) / 1000)) };
  }

  /** One Redis call per key at a time: concurrent requests (and a top-up) wait for the same one. */
  private refill(lookup: string): Promise<Grant> {
    let pending = this.refills.get(lookup);
    if (!pending) {
      // a lease idle for too long is given back with the same call
      const current = this.leases.get(lookup);
      let back = 0;
      if (current && Date.now() - current.lastUsed > LEASE_IDLE_MS) {
        back = current.tokens;
        current.tokens = 0;
      }
      pending = this.call(lookup, this.lease, back)
        .then((grant) => {
          this.merge(lookup, grant, Date.now(), grant.granted);
          return grant;
        })
        .finally(() => this.refills.delete(lookup));
      this.refills.set(lookup, pending);
    }
    return pending;
  }

  /** Adds `tokens` granted to this process's lease and records what the bucket said. */
  private merge(lookup: string, grant: Grant, now: number, tokens: number): Lease {
    let lease = this.leases.get(lookup);
    if (!lease) {
      if (this.leases.size >= MAX_LEASES) this.sweep(now, true);
      lease = { tokens: 0, bucketLeft: 0, fullAt: now, deniedUntil: 0, lastUsed: now };
      this.leases.set(lookup, lease);
    }
    lease.tokens += tokens;
    lease.bucketLeft = grant.left;
    lease.fullAt = now + grant.fullInMs;
    lease.deniedUntil = grant.granted === 0 ? now + Math.max(1, grant.nextInMs) : 0;
    lease.lastUsed = now;
    return lease;
  }

  /** Takes `want` tokens and gives `back` unspent ones, in Redis or (while it is unavailable) here. */
  private async call(lookup: string, want: number, back: number): Promise<Grant> {
    if (this.redisDownSince !== null && Date.now() < this.retryRedisAt) return this.takeHere(lookup, want, back);
    try {
      const grant = await this.script(lookup, want, back);
      if (this.redisDownSince !== null) {
        this.deps.log.info(
          { down_ms: Date.now() - this.redisDownSince },
          'API key rate limits are kept in Redis again (shared by every replica)',
        );
        this.redisDownSince = null;
        this.local.clear();
      }
      return grant;
    } catch (err) {
      if (this.redisDownSince === null) {
        this.redisDownSince = Date.now();
        this.deps.log.warn(
          { err: err instanceof Error ? err.message : String(err) },
          'Redis is unavailable: API key rate limits are kept per process (each replica allows the limit) until it is back',
        );
      }
      this.retryRedisAt = Date.now() + RETRY_REDIS_MS;
      return this.takeHere(lookup, want, back);
    }
  }

  private async script(lookup: string, want: number, back: number): Promise<Grant> {
    const { redis, prefix } = this.deps;
    const key = `${prefix}{rl:${lookup}}`;
    const args = [String(this.limit), String(WINDOW_MS), String(want), String(back)];
    const run = async (): Promise<unknown> => {
      try {
        return await redis.evalsha(TAKE_SHA, 1, key, ...args);
      } catch (err) {
        if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      }
      // EVAL goes to the node that holds the key (in a Redis Cluster, SCRIPT LOAD would go to any
      // one node) and leaves the script in that node's cache for the next EVALSHA
      return redis.eval(TAKE_SCRIPT, 1, key, ...args);
    };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer from Redis within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const reply = (await Promise.race([run(), timeout])) as number[];
      const [granted, left, fullInMs, nextInMs] = reply.map(Number) as [number, number, number, number];
      return { granted, left, fullInMs, nextInMs };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The same bucket, in this process. */
  private takeHere(lookup: string, want: number, back: number): Grant {
    const now = Date.now();
    const cap = this.limit;
    let bucket = this.local.get(lookup);
    if (!bucket) {
      if (this.local.size >= MAX_LEASES) this.local.clear();
      bucket = { tokens: cap, at: now };
      this.local.set(lookup, bucket);
    }
    bucket.tokens = Math.min(cap, bucket.tokens + (Math.max(0, now - bucket.at) * cap) / WINDOW_MS + back);
    bucket.at = now;
    const granted = Math.max(0, Math.min(want, Math.floor(bucket.tokens)));
    bucket.tokens -= granted;
    return {
      granted,
      left: Math.floor(bucket.tokens),
      fullInMs: Math.ceil(((cap - bucket.tokens) * WINDOW_MS) / cap),
      nextInMs: bucket.tokens < 1 ? Math.ceil(((1 - bucket.tokens) * WINDOW_MS) / cap) : 0,
    };
  }

  /** Gives back leases unused for LEASE_IDLE_MS and forgets them (all idle ones when `all`). */
  private sweep(now: number, all = false): void {
    for (const [lookup, lease] of this.leases) {
      const idle = now - lease.lastUsed > LEASE_IDLE_MS && lease.deniedUntil <= now;
      if (!idle && !all) continue;
      if (this.refills.has(lookup)) continue;
      this.leases.delete(lookup);
      if (lease.tokens > 0) void this.call(lookup, 0, lease.tokens).catch(() => undefined);
    }
  }
}
