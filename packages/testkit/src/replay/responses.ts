import type { IncomingHttpHeaders } from 'node:http';
import { extname } from 'node:path';
import { FIXTURES_DIR, loadFixture } from './fixtures.ts';

/** What CBR sends with its XML (the bytes are windows-1251). */
export const CBR_XML_CONTENT_TYPE = 'application/xml; charset=windows-1251';
/** What Binance sends with its JSON. */
export const BINANCE_JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';

/**
 * One scripted answer. The body comes from at most one of `fixture`, `body`, `json` (none: empty
 * body); the delivery is normal unless one of `hang`, `trickle`, `destroy` is set (at most one).
 */
export interface ReplayResponse {
  /** HTTP status; default 200. */
  status?: number;
  /** Extra response headers (a header named here wins over the server's own, e.g. X-MBX-USED-WEIGHT-1M). */
  headers?: Record<string, string | number | readonly string[]>;
  /**
   * Content-Type. Default: by the fixture's extension (`.xml` → CBR_XML_CONTENT_TYPE, `.json` →
   * BINANCE_JSON_CONTENT_TYPE), `json` → BINANCE_JSON_CONTENT_TYPE, otherwise by route
   * (`/scripts/…` CBR XML, `/api/…` Binance JSON, else text/plain).
   */
  contentType?: string;
  /** Body: a fixture file relative to the fixtures dir, served byte for byte (then `transform`ed). */
  fixture?: string;
  /** Body: inline bytes (a string is sent as UTF-8). */
  body?: string | Uint8Array;
  /** Body: JSON.stringify(json). */
  json?: unknown;
  /** Rewrites the body bytes before sending (see spliceBytes). */
  transform?: (body: Buffer) => Buffer;
  /** Waits this long before sending anything. */
  delayMs?: number;
  /**
   * Never finishes: `true` sends nothing at all; `{ afterBytes }` sends the headers (with the full
   * Content-Length) and that many body bytes, then stalls. The socket is closed by `server.close()`.
   */
  hang?: true | { afterBytes: number };
  /** Sends the headers, then the body in `chunks` pieces, one every `intervalMs` (first at once). */
  trickle?: { chunks: number; intervalMs: number };
  /**
   * Destroys the socket: `'before-headers'` without any answer; `true` after the headers (full
   * Content-Length) and half the body; `{ afterBytes }` after that many body bytes.
   */
  destroy?: true | 'before-headers' | { afterBytes: number };
  /** Answer as the server would without any script (e.g. `429, 429, { useDefault: true }`). */
  useDefault?: true;
}

/** A request as the replay server received it. */
export interface ReplayRequest {
  method: string;
  /** Path without the query, e.g. `/scripts/XML_daily.asp`. */
  path: string;
  query: URLSearchParams;
  /** Path and query as sent, e.g. `/scripts/XML_daily.asp?date_req=10/11/2024`. */
  url: string;
  headers: IncomingHttpHeaders;
  time: Date;
}

/** Computes the answer per request (for what a fixed list cannot express). */
export type ReplayHandler = (request: ReplayRequest) => ReplayResponse | Promise<ReplayResponse>;

/** Throws on a contradictory response (two bodies, two delivery modes, bad numbers). */
export function validateReplayResponse(r: ReplayResponse): void {
  const bodies = [r.fixture, r.body, r.json].filter((b) => b !== undefined).length;
  if (bodies > 1) throw new Error('ReplayResponse: give at most one of fixture, body, json');
  const modes = [r.hang, r.trickle, r.destroy].filter((m) => m !== undefined).length;
  if (modes > 1) throw new Error('ReplayResponse: give at most one of hang, trickle, destroy');
  if (r.useDefault && (bodies > 0 || r.transform)) throw new Error('ReplayResponse: useDefault takes no body');
  if (r.status !== undefined && !(Number.isInteger(r.status) && r.status >= 100 && r.status <= 999)) {
    throw new Error(`ReplayResponse: bad status ${r.status}`);
  }
  if (r.trickle && !(r.trickle.chunks >= 1 && r.trickle.intervalMs >= 0)) {
    throw new Error('ReplayResponse: trickle needs chunks >= 1 and intervalMs >= 0');
  }
  if (r.delayMs !== undefined && !(r.delayMs >= 0)) throw new Error('ReplayResponse: delayMs must be >= 0');
}

/** The exact body bytes a response sends (fixture read, transform applied). */
export function replayBody(r: ReplayResponse, fixturesDir: string = FIXTURES_DIR): Buffer {
  if (r.useDefault) throw new Error('replayBody: a useDefault response has no body of its own');
  let bytes: Buffer;
  if (r.fixture !== undefined) bytes = loadFixture(r.fixture, fixturesDir);
  else if (typeof r.body === 'string') bytes = Buffer.from(r.body, 'utf8');
  else if (r.body !== undefined) bytes = Buffer.from(r.body);
  else if (r.json !== undefined) bytes = Buffer.from(JSON.stringify(r.json), 'utf8');
  else bytes = Buffer.alloc(0);
  return r.transform ? r.transform(Buffer.from(bytes)) : bytes;
}

/** The Content-Type a response is sent with on `path` (undefined when it sets the header itself). */
export function replayContentType(r: ReplayResponse, path: string): string | undefined {
  if (r.contentType !== undefined) return r.contentType;
  if (Object.keys(r.headers ?? {}).some((h) => h.toLowerCase() === 'content-type')) return undefined;
  if (r.fixture !== undefined) {
    const ext = extname(r.fixture).toLowerCase();
    if (ext === '.xml') return CBR_XML_CONTENT_TYPE;
    if (ext === '.json') return BINANCE_JSON_CONTENT_TYPE;
    if (ext === '.js') return 'application/javascript; charset=utf-8';
  }
  if (r.json !== undefined) return BINANCE_JSON_CONTENT_TYPE;
  if (path.startsWith('/scripts/')) return CBR_XML_CONTENT_TYPE;
  if (path.startsWith('/api/')) return BINANCE_JSON_CONTENT_TYPE;
  return 'text/plain; charset=utf-8';
}
