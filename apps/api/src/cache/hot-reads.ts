// A fast lane for the hottest reads: a GET whose body is already in the response cache is answered
// before Express runs, doing what the middleware stack would have done — the request id (taken
// from x-request-id when sane, else generated), the security headers (learned from a response the
// full stack produced, so they always match it), the request metrics under the same labels — and
// the cached bytes with ETag/304 and the negotiated encoding. Anything else (a query string, an
// Authorization header to check, HEAD, a cache miss) goes through Express as usual; routes are
// still declared (and documented) through the RouteRegistry.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from 'node:http';

import type { Counter, Histogram, Registry } from 'prom-client';

import { chooseEncoding, matchesEtag, type CachedResponse, type ResponseCache } from './response-cache.ts';

const VALID_ID = /^[\w.:-]{1,128}$/;

export interface HotTarget {
  family: string;
  key: string;
  /** The route pattern the metrics label it with, as Express would (`/api/v1/rates/binance/:symbol`). */
  route: string;
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
]);

type Flat = (string | number)[];

interface Prepared {
  entry: CachedResponse;
  identity: Flat;
  gzip: Flat | null;
  br: Flat | null;
  notModified: Flat;
}

function flatten(...parts: OutgoingHttpHeaders[]): Flat {
  const out: Flat = [];
  for (const part of parts) {
    for (const [name, value] of Object.entries(part)) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) out.push(name, v);
      else out.push(name, value);
    }
  }
  return out;
}

export class HotReads {
  private readonly cache: ResponseCache;
  private readonly exact = new Map<string, HotTarget>();
  private readonly prefixes: { prefix: string; resolve: (rest: string) => HotTarget | undefined }[] = [];
  private stackHeaders: OutgoingHttpHeaders | undefined;
  private readonly prepared = new WeakMap<CachedResponse, Prepared>();
  private requests: Counter | undefined;
  private duration: Histogram | undefined;
  private readonly counters = new Map<string, ReturnType<Counter['labels']>>();
  private readonly timers = new Map<string, ReturnType<Histogram['labels']>>();

  constructor(cache: ResponseCache) {
    this.cache = cache;
  }

  /** A path served from one cache key (no path parameters). */
  add(path: string, target: HotTarget): void {
    this.exact.set(path, target);
  }

  /** Paths under `prefix`; `resolve` maps the rest (a path parameter) to a key, or declines. */
  addPrefix(prefix: string, resolve: (rest: string) => HotTarget | undefined): void {
    this.prefixes.push({ prefix, resolve });
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

  /** Uses the api's request metrics (http_requests_total, http_request_duration_seconds). */
  useMetrics(registry: Registry): void {
    this.requests = registry.getSingleMetric('http_requests_total') as Counter | undefined;
    this.duration = registry.getSingleMetric('http_request_duration_seconds') as Histogram | undefined;
  }

  private target(url: string): HotTarget | undefined {
    const exact = this.exact.get(url);
    if (exact) return exact;
    for (const p of this.prefixes) if (url.startsWith(p.prefix)) return p.resolve(url.slice(p.prefix.length));
    return undefined;
  }

  private prepare(entry: CachedResponse): Prepared {
    let p = this.prepared.get(entry);
    if (!p) {
      const stack = this.stackHeaders ?? {};
      p = {
        entry,
        identity: flatten(stack, entry.headers.identity),
        gzip: entry.headers.gzip ? flatten(stack, entry.headers.gzip) : null,
        br: entry.headers.br ? flatten(stack, entry.headers.br) : null,
        notModified: flatten(stack, entry.notModified),
      };
      this.prepared.set(entry, p);
    }
    return p;
  }

  private record(route: string, status: number, started: bigint): void {
    if (!this.requests || !this.duration) return;
    const ck = `${route} ${status}`;
    let counter = this.counters.get(ck);
    if (!counter) {
      counter = this.requests.labels({ method: 'GET', route, status });
      this.counters.set(ck, counter);
    }
    let timer = this.timers.get(route);
    if (!timer) {
      timer = this.duration.labels({ method: 'GET', route });
      this.timers.set(route, timer);
    }
    counter.inc();
    timer.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  /** Wraps the Express app: hot hits are answered here, everything else is handed to `next`. */
  listener(next: RequestListener): RequestListener {
    return (req: IncomingMessage, res: ServerResponse) => {
      if (!this.stackHeaders || req.method !== 'GET' || req.headers.authorization !== undefined) {
        return next(req, res);
      }
      const url = req.url ?? '';
      const target = url.includes('?') ? undefined : this.target(url);
      const entry = target && this.cache.peek(target.family, target.key);
      if (!target || !entry) return next(req, res);

      const started = process.hrtime.bigint();
      const incoming = req.headers['x-request-id'];
      const id = typeof incoming === 'string' && VALID_ID.test(incoming) ? incoming : randomUUID();
      const p = this.prepare(entry);
      const inm = req.headers['if-none-match'];
      let status = 200;
      if (inm !== undefined && matchesEtag(inm, entry.tag)) {
        status = 304;
        res.writeHead(304, [...p.notModified, 'x-request-id', id] as unknown as OutgoingHttpHeaders);
        res.end();
      } else {
        const enc = entry.gzip ? chooseEncoding(req.headers['accept-encoding']) : null;
        const [headers, body] =
          enc === 'br' && p.br && entry.br
            ? [p.br, entry.br]
            : enc === 'gzip' && p.gzip && entry.gzip
              ? [p.gzip, entry.gzip]
              : [p.identity, entry.body];
        res.writeHead(200, [...headers, 'x-request-id', id] as unknown as OutgoingHttpHeaders);
        res.end(body);
      }
      this.record(target.route, status, started);
    };
  }
}
