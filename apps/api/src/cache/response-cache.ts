// Pre-serialized response bodies for hot reads. Each entry holds the JSON bytes, a strong ETag and
// gzip + brotli variants compressed once when the body is built, never per request. Entries belong
// to a family ('binance', 'cbr', 'currencies') whose version changes when an event says the data
// changed (rates.*.updated, currencies.*): the next read rebuilds. Bodies are shared through Redis
// under the family version, which every replica derives from the same event bytes, so one replica
// builds from Postgres and the others fetch the bytes. A short memory lifetime is only a backstop
// for a missed event; it never replaces the invalidation.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

import type { Logger, Redis } from '@ratewire/core';

import { HotReads } from './hot-reads.ts';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** Bodies smaller than this are sent as they are: compression would save next to nothing. */
const COMPRESS_MIN_BYTES = 1024;

export interface CachedResponse {
  body: Buffer;
  gzip: Buffer | null;
  br: Buffer | null;
  /** Opaque hash of the body; the ETag is `"<tag>"` (`"<tag>-gz"`, `"<tag>-br"` for the encoded variants). */
  tag: string;
  cacheControl: string;
  /** The parsed body (or what the builder kept), for deriving smaller bodies; see dataOf(). */
  data: unknown;
  headers: { identity: OutgoingHttpHeaders; gzip: OutgoingHttpHeaders | null; br: OutgoingHttpHeaders | null };
  notModified: OutgoingHttpHeaders;
}

export interface BuiltBody {
  json: string;
  cacheControl: string;
  data?: unknown;
}

export interface CacheOptions {
  redis: Redis;
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

interface Slot {
  entry: CachedResponse;
  version: string;
  at: number;
}

export async function makeCachedResponse(built: BuiltBody): Promise<CachedResponse> {
  const body = Buffer.from(built.json);
  const tag = createHash('sha256').update(body).digest('base64url').slice(0, 27);
  let gz: Buffer | null = null;
  let br: Buffer | null = null;
  if (body.length >= COMPRESS_MIN_BYTES) {
    [gz, br] = await Promise.all([
      gzipAsync(body, { level: 9 }),
      brotliAsync(body, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: 9,
          [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
          [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        },
      }),
    ]);
  }
  const base = (etag: string): OutgoingHttpHeaders => ({
    'content-type': 'application/json; charset=utf-8',
    etag,
    'cache-control': built.cacheControl,
    vary: 'Accept-Encoding',
  });
  return {
    body,
    gzip: gz,
    br,
    tag,
    cacheControl: built.cacheControl,
    data: built.data,
    headers: {
      identity: { ...base(`"${tag}"`), 'content-length': body.length },
      gzip: gz ? { ...base(`"${tag}-gz"`), 'content-encoding': 'gzip', 'content-length': gz.length } : null,
      br: br ? { ...base(`"${tag}-br"`), 'content-encoding': 'br', 'content-length': br.length } : null,
    },
    notModified: { etag: `"${tag}"`, 'cache-control': built.cacheControl, vary: 'Accept-Encoding' },
  };
}

/** The entry's data: what the builder kept, or (for a body that came from Redis) the parsed JSON. */
export function dataOf<T>(entry: CachedResponse): T {
  entry.data ??= JSON.parse(entry.body.toString('utf8')) as unknown;
  return entry.data as T;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`redis took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export class ResponseCache {
  private readonly slots = new Map<string, Slot>();
  private readonly versions = new Map<string, string>();
  private readonly inflight = new Map<string, Promise<CachedResponse>>();
  private readonly boot = randomBytes(6).toString('base64url');
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly log: Logger;
  private readonly memoryTtlMs: number;
  private readonly maxEntries: number;
  private readonly redisTtlSeconds: number;
  private readonly redisTimeoutMs: number;
  /** The fast lane serving fresh entries before Express (see hot-reads.ts). */
  readonly hot: HotReads;

  constructor(options: CacheOptions) {
    this.hot = new HotReads(this);
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
  peek(family: string, key: string): CachedResponse | undefined {
    const slot = this.slots.get(key);
    if (slot && slot.version === this.versions.get(family) && performance.now() - slot.at < this.memoryTtlMs) {
      return slot.entry;
    }
    return undefined;
  }

  /**
   * The entry for `key`, built once per version (concurrent callers share the build). `shared:
   * false` keeps it in this process only (bodies derived from another entry's data).
   */
  get(
    family: string,
    key: string,
    build: () => Promise<BuiltBody>,
    options: { shared?: boolean } = {},
  ): Promise<CachedResponse> {
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
  ): Promise<CachedResponse> {
    const redisKey = `${this.prefix}${family}:${version}:${key}`;
    let built: BuiltBody | undefined;
    let fromRedis = false;
    if (shared) {
      try {
        const stored = await withTimeout(this.redis.getBuffer(redisKey), this.redisTimeoutMs);
        if (stored) {
          built = decode(stored);
          fromRedis = built !== undefined;
        }
      } catch (err) {
        this.log.debug({ err, key }, 'shared cache read failed; building locally');
      }
    }
    built ??= await build();
    const entry = await makeCachedResponse(built);
    if (shared && !fromRedis) {
      withTimeout(this.redis.set(redisKey, encode(built), 'EX', this.redisTtlSeconds), this.redisTimeoutMs).catch(
        (err: unknown) => this.log.debug({ err, key }, 'shared cache write failed'),
      );
    }
    // a build that raced an invalidation serves its caller but is not kept
    if (this.versions.get(family) === version) this.keep(key, { entry, version, at: performance.now() });
    return entry;
  }

  /** Entries held in memory now. */
  get size(): number {
    return this.slots.size;
  }

  /** Stores a slot as the newest (a Map iterates in insertion order) and drops the oldest past maxEntries. */
  private keep(key: string, slot: Slot): void {
    this.slots.delete(key);
    this.slots.set(key, slot);
    for (const oldest of this.slots.keys()) {
      if (this.slots.size <= this.maxEntries) break;
      this.slots.delete(oldest);
    }
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

  clear(): void {
    this.slots.clear();
  }

  /** Sends an entry from a route (the full middleware stack ran: its headers are learned for the fast lane). */
  send(req: IncomingMessage, res: ServerResponse, entry: CachedResponse): void {
    this.hot.learn(res);
    sendCached(req, res, entry);
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

const encodingChoice = new Map<string, 'br' | 'gzip' | null>();

/** br, then gzip, when Accept-Encoding allows it (q=0 refuses). Memoized: clients send few distinct values. */
export function chooseEncoding(accept: string | undefined): 'br' | 'gzip' | null {
  if (!accept) return null;
  let choice = encodingChoice.get(accept);
  if (choice !== undefined) return choice;
  const q: Record<string, number> = {};
  for (const part of accept.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const qp = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qp ? Number(qp.slice(2)) : 1;
    q[name.trim()] = Number.isFinite(value) ? value : 0;
  }
  const allowed = (enc: string) => (q[enc] ?? (q['*'] !== undefined ? q['*'] : 0)) > 0;
  choice = allowed('br') ? 'br' : allowed('gzip') ? 'gzip' : null;
  if (encodingChoice.size < 256) encodingChoice.set(accept, choice);
  return choice;
}

/** Whether If-None-Match names this body (any of its variants; weak comparison, as RFC 9110 asks). */
export function matchesEtag(ifNoneMatch: string, tag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  for (const raw of ifNoneMatch.split(',')) {
    const t = raw.trim().replace(/^W\//, '').replace(/^"|"$/g, '');
    if (t === tag || t === `${tag}-gz` || t === `${tag}-br`) return true;
  }
  return false;
}

/** Writes a cached entry: 304 on a matching If-None-Match, else the best encoding the client accepts. */
export function sendCached(req: IncomingMessage, res: ServerResponse, entry: CachedResponse): void {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined && matchesEtag(inm, entry.tag)) {
    res.writeHead(304, entry.notModified);
    res.end();
    return;
  }
  const enc = entry.gzip ? chooseEncoding(req.headers['accept-encoding']) : null;
  if (enc === 'br' && entry.br) {
    res.writeHead(200, entry.headers.br!);
    res.end(entry.br);
  } else if (enc === 'gzip' && entry.gzip) {
    res.writeHead(200, entry.headers.gzip!);
    res.end(entry.gzip);
  } else {
    res.writeHead(200, entry.headers.identity);
    res.end(entry.body);
  }
}
