// Encoded response bodies: the JSON bytes of a read, a strong ETag and gzip + brotli variants,
// compressed once when the body is built and never per request, with the headers of each variant
// ready to write. Writing one answers 304 to a matching If-None-Match, else the best encoding the
// client accepts. Pure HTTP: no storage, no routing (response-cache.ts stores these, fast-lane.ts
// and the route registry send them).
import { createHash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/** Bodies smaller than this are sent as they are: compression would save next to nothing. */
const COMPRESS_MIN_BYTES = 1024;

/** A body as a read produced it: its JSON text and its Cache-Control policy. */
export interface BuiltBody {
  json: string;
  cacheControl: string;
}

export interface EncodedBody {
  body: Buffer;
  gzip: Buffer | null;
  br: Buffer | null;
  /** Opaque hash of the body; the ETag is `"<tag>"` (`"<tag>-gz"`, `"<tag>-br"` for the encoded variants). */
  tag: string;
  cacheControl: string;
  headers: { identity: OutgoingHttpHeaders; gzip: OutgoingHttpHeaders | null; br: OutgoingHttpHeaders | null };
  notModified: OutgoingHttpHeaders;
}

export async function encodeBody(built: BuiltBody): Promise<EncodedBody> {
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
    vary: 'Accept, Accept-Encoding',
  });
  return {
    body,
    gzip: gz,
    br,
    tag,
    cacheControl: built.cacheControl,
    headers: {
      identity: { ...base(`"${tag}"`), 'content-length': body.length },
      gzip: gz ? { ...base(`"${tag}-gz"`), 'content-encoding': 'gzip', 'content-length': gz.length } : null,
      br: br ? { ...base(`"${tag}-br"`), 'content-encoding': 'br', 'content-length': br.length } : null,
    },
    notModified: { etag: `"${tag}"`, 'cache-control': built.cacheControl, vary: 'Accept, Accept-Encoding' },
  };
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

/** The variant a request gets: 304 when If-None-Match names the body, else the best accepted encoding. */
export type Variant = 'not-modified' | 'br' | 'gzip' | 'identity';

export function variantFor(req: IncomingMessage, entry: EncodedBody): Variant {
  const inm = req.headers['if-none-match'];
  if (inm !== undefined && matchesEtag(inm, entry.tag)) return 'not-modified';
  const enc = entry.gzip ? chooseEncoding(req.headers['accept-encoding']) : null;
  if (enc === 'br' && entry.br) return 'br';
  if (enc === 'gzip' && entry.gzip) return 'gzip';
  return 'identity';
}

/** Writes an encoded body with the headers already on `res` (the full middleware stack's). */
export function sendEncoded(req: IncomingMessage, res: ServerResponse, entry: EncodedBody): void {
  switch (variantFor(req, entry)) {
    case 'not-modified':
      res.writeHead(304, entry.notModified);
      res.end();
      return;
    case 'br':
      res.writeHead(200, entry.headers.br!);
      res.end(entry.br);
      return;
    case 'gzip':
      res.writeHead(200, entry.headers.gzip!);
      res.end(entry.gzip);
      return;
    default:
      res.writeHead(200, entry.headers.identity);
      res.end(entry.body);
  }
}
