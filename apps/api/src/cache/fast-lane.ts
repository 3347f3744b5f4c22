// A fast lane for the cached reads: a GET whose body the response cache already holds is answered
// before Express runs, doing what the middleware stack would have done — the request id, the
// security headers (learned from a response the full stack produced, so they always match it), the
// request metrics under the same labels — and the encoded bytes with ETag/304 and the negotiated
// encoding. The lane knows no paths of its own: the route registry declares every GET route to it
// in mounting order, with the cache key of the cached ones, so a URL is matched the way Express
// would match it. A read sent with an API key is answered here only when the key is admitted (held in
// the key cache, valid, with the route's scope, a token of the process's lease at hand or on its
// way), with its RateLimit-* headers. Anything else (a query string, an access token or a key to check, HEAD,
// an Accept asking for CSV or NDJSON, a URL the lane cannot place exactly, a cache miss) goes through
// Express as usual.
import type {
  IncomingHttpHeaders,
  IncomingMessage,
  OutgoingHttpHeaders,
  RequestListener,
  ServerResponse,
} from 'node:http';

import { requestId } from '../http/request-context.ts';
import type { RequestMetrics, RouteTally } from '../http/request-metrics.ts';
import { variantFor, type EncodedBody } from './encoded-body.ts';
import type { ResponseCache } from './response-cache.ts';

/** A GET route as the lane sees it. */
export interface LaneRoute {
  /** OpenAPI-style path, `/api/v1/rates/binance/{symbol}`. */
  path: string;
  /** The label the request metrics give it (`/api/v1/rates/binance/:symbol`). */
  label: string;
  /** Set on a cached public route: the cache entry of a request with these path parameters. */
  cached?: {
    family: string;
    keyOf(params: Record<string, string>): string | undefined;
    /** The scope a request sent with an API key needs ('any': any key); unset, keys go to Express. */
    keyScope?: string | undefined;
  };
}

/** What the RateLimit-* headers of one answer to a key say that changes from answer to answer. */
export interface LaneRate {
  remaining: number;
  /** Seconds until the key's bucket is full again. */
  resetSeconds: number;
}

/**
 * Admits requests sent with an API key: the rate to report, or null to hand them to Express — at
 * once, or (while the key's lease is being topped up) once a token is at hand.
 */
export interface LaneKeys {
  /** RateLimit-Limit and RateLimit-Policy: the same on every answer. */
  readonly limitHeader: string;
  readonly policyHeader: string;
  admit(headers: IncomingHttpHeaders, scope: string): LaneRate | null | Promise<LaneRate | null>;
}

interface Target {
  family: string;
  key: string;
  /** The route's request metrics, bound once. */
  tally: RouteTally | undefined;
  keyScope: string | undefined;
}

type Segment = { literal: string; lower: string } | { param: string };

interface Compiled {
  route: LaneRoute;
  segments: Segment[];
}

/** Headers a cached entry sets itself: never copied from the learned stack headers. */
const ENTRY_HEADERS = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'etag',
  'cache-control',
  'vary',
  'x-request-id',
  // what a request sent with an API key was answered with
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'ratelimit-policy',
]);

/** Distinct URLs whose placement is remembered; past it the memory starts again. */
const MAX_PLACED = 4096;

/**
 * Headers flattened as writeHead takes them, ending with `x-request-id` and its slot (and, in the
 * variants for answers to a key, the RateLimit-* slots before it): the slots are set just before
 * each (synchronous) writeHead, so no array is built per request.
 */
type Flat = (string | number)[];

interface Variants {
  identity: Flat;
  gzip: Flat | null;
  br: Flat | null;
  notModified: Flat;
}

interface Prepared extends Variants {
  /** The same with RateLimit-* slots, for answers to a key (built on first use). */
  keyed?: Variants;
}

const RATE_SLOTS: Flat = [
  'ratelimit-limit',
  '',
  'ratelimit-remaining',
  0,
  'ratelimit-reset',
  0,
  'ratelimit-policy',
  '',
];

function flatten(rate: boolean, ...parts: OutgoingHttpHeaders[]): Flat {
  const out: Flat = [];
  for (const part of parts) {
    for (const [name, value] of Object.entries(part)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) out.push(name, v);
      else out.push(name, value);
    }
  }
  if (rate) out.push(...RATE_SLOTS);
  out.push('x-request-id', '');
  return out;
}

/** Sets the RateLimit-* slots of a keyed variant, just before its writeHead (like the request id). */
function withRate(headers: Flat, keys: LaneKeys, rate: LaneRate): Flat {
  const n = headers.length;
  headers[n - 9] = keys.limitHeader;
  headers[n - 7] = rate.remaining;
  headers[n - 5] = rate.resetSeconds;
  headers[n - 3] = keys.policyHeader;
  return headers;
}

function withRequestId(headers: Flat, id: string): OutgoingHttpHeaders {
  headers[headers.length - 1] = id;
  return headers as unknown as OutgoingHttpHeaders;
}

function compile(route: LaneRoute): Compiled {
  const segments = route.path
    .split('/')
    .slice(1)
    .map((s): Segment => {
      const param = /^\{([^}]+)\}$/.exec(s)?.[1];
      return param ? { param } : { literal: s, lower: s.toLowerCase() };
    });
  return { route, segments };
}

export class FastLane {
  private readonly cache: ResponseCache;
  private readonly routes: Compiled[] = [];
  private readonly placed = new Map<string, Target | null>();
  private stackHeaders: OutgoingHttpHeaders | undefined;
  private readonly prepared = new WeakMap<EncodedBody, Prepared>();
  private metrics: RequestMetrics | undefined;
  private keys: LaneKeys | undefined;

  constructor(cache: ResponseCache) {
    this.cache = cache;
  }

  /** Declares a GET route, in the order Express tries them. */
  declare(route: LaneRoute): void {
    this.routes.push(compile(route));
    this.placed.clear();
  }

  /**
   * Records the headers the middleware stack set on a response (security headers), minus the
   * per-request and per-entry ones. Called when the full stack serves a cached entry.
   */
  learn(res: ServerResponse): void {
    if (this.stackHeaders) return;
    const headers: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(res.getHeaders())) {
      if (!ENTRY_HEADERS.has(name) && value !== undefined) headers[name] = value;
    }
    this.stackHeaders = headers;
  }

  /** Records what the lane answers in the api's request metrics, under the labels Express would give. */
  useMetrics(metrics: RequestMetrics): void {
    this.metrics = metrics;
    this.placed.clear();
  }

  /** Lets the lane answer cached reads sent with an API key that `keys` admits. */
  useKeys(keys: LaneKeys): void {
    this.keys = keys;
  }

  /** The cache entry a URL (a path without a query) is answered from, or null when the lane may not answer it. */
  private target(url: string): Target | null {
    let target = this.placed.get(url);
    if (target === undefined) {
      try {
        target = this.place(url);
      } catch {
        target = null; // whatever a declaration did with this URL, Express answers it
      }
      if (this.placed.size >= MAX_PLACED) this.placed.clear();
      this.placed.set(url, target);
    }
    return target;
  }

  private place(url: string): Target | null {
    if (!url.startsWith('/') || (url.length > 1 && url.endsWith('/'))) return null;
    const parts = url.split('/').slice(1);
    for (const { route, segments } of this.routes) {
      if (segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      let matched = true;
      let exact = true;
      for (let i = 0; i < segments.length && matched; i++) {
        const seg = segments[i]!;
        const part = parts[i]!;
        if ('param' in seg) {
          try {
            params[seg.param] = decodeURIComponent(part);
          } catch {
            return null; // Express answers a malformed escape itself
          }
          matched = part.length > 0;
        } else {
          // Express matches literals regardless of case: the first route it would pick decides
          matched = part.toLowerCase() === seg.lower;
          exact &&= part === seg.literal;
        }
      }
      if (!matched) continue;
      if (!exact || !route.cached) return null;
      const key = route.cached.keyOf(params);
      if (key === undefined) return null;
      return {
        family: route.cached.family,
        key,
        tally: this.metrics?.route('GET', route.label),
        keyScope: route.cached.keyScope,
      };
    }
    return null;
  }

  private prepare(entry: EncodedBody, keyed: boolean): Variants {
    let p: Prepared | undefined = this.prepared.get(entry);
    if (!p) {
      p = this.variants(entry, false);
      this.prepared.set(entry, p);
    }
    return keyed ? (p.keyed ??= this.variants(entry, true)) : p;
  }

  private variants(entry: EncodedBody, rate: boolean): Variants {
    const stack = this.stackHeaders ?? {};
    return {
      identity: flatten(rate, stack, entry.headers.identity),
      gzip: entry.headers.gzip ? flatten(rate, stack, entry.headers.gzip) : null,
      br: entry.headers.br ? flatten(rate, stack, entry.headers.br) : null,
      notModified: flatten(rate, stack, entry.notModified),
    };
  }

  /** Wraps the Express app: hits are answered here, everything else is handed to `next`. */
  listener(next: RequestListener): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      if (!this.stackHeaders || req.method !== 'GET') return next(req, res);
      // CSV and NDJSON are cut from the data by the route, never kept here
      const accept = req.headers.accept;
      if (accept !== undefined && (accept.includes('csv') || accept.includes('ndjson'))) return next(req, res);
      const keyed = req.headers.authorization !== undefined || req.headers['x-api-key'] !== undefined;
      if (keyed && !this.keys) return next(req, res);
      const url = req.url ?? '';
      const target = url.includes('?') ? null : this.target(url);
      const entry = target && this.cache.peek(target.family, target.key);
      if (!target || !entry) return next(req, res);
      if (!keyed) return this.answer(req, res, target, entry, null, process.hrtime.bigint());
      // only an API key the lane can admit (access tokens and the rest go to Express); a key whose
      // lease is being topped up waits for it here rather than taking the whole stack
      const started = process.hrtime.bigint();
      const admitted = target.keyScope === undefined ? null : this.keys!.admit(req.headers, target.keyScope);
      if (admitted instanceof Promise) {
        admitted.then(
          (rate) => (rate ? this.answer(req, res, target, entry, rate, started) : next(req, res)),
          () => next(req, res),
        );
        return;
      }
      if (!admitted) return next(req, res);
      this.answer(req, res, target, entry, admitted, started);
    };
  }

  private answer(
    req: IncomingMessage,
    res: ServerResponse,
    target: Target,
    entry: EncodedBody,
    rate: LaneRate | null,
    started: bigint,
  ): void {
    const id = requestId(req.headers['x-request-id']);
    const p = this.prepare(entry, rate !== null);
    const variant = variantFor(req, entry);
    if (variant === 'not-modified') {
      res.writeHead(304, withRequestId(rate ? withRate(p.notModified, this.keys!, rate) : p.notModified, id));
      res.end();
    } else {
      const [flat, body] =
        variant === 'br' ? [p.br!, entry.br] : variant === 'gzip' ? [p.gzip!, entry.gzip] : [p.identity, entry.body];
      res.writeHead(200, withRequestId(rate ? withRate(flat, this.keys!, rate) : flat, id));
      res.end(body);
    }
    target.tally?.record(variant === 'not-modified' ? 304 : 200, Number(process.hrtime.bigint() - started) / 1e9);
  }
}
