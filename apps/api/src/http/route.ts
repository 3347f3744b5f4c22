// One place that declares a route: its zod contract validates the request and feeds the OpenAPI
// document, so the two cannot drift. Handlers get parsed input and return a reply (or send one).
// A cached read declares `cached: {family, key}`: its handler returns data and a cache policy, the
// registry keeps the encoded body in the response cache and sends it (ETag, 304, compression), and
// the fast lane answers later hits from the same declaration.
import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';

import { formatQuery, type ApiKeyScope, type TableFormat } from '@ratewire/contracts';

import { AppError } from './app-error.ts';
import { ifNoneMatch, negotiateFormat, sendTable, tableEtag, type Table } from './tabular.ts';
import type { Cacheable, CacheFamily } from '../cache/cache-keys.ts';
import { sendEncoded } from '../cache/encoded-body.ts';
import type { FastLane } from '../cache/fast-lane.ts';
import type { ResponseCache } from '../cache/response-cache.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type Access = 'public' | 'user' | 'admin';
/** What an API key needs to reach a route: one of its scopes, any key, or false (keys refused: a session only). */
export type KeyAccess = ApiKeyScope | 'any' | false;

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
  contentType?: string;
}

export interface RouteSpec<
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: Method;
  /** OpenAPI-style path, `/api/v1/currencies/{id}`. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  auth?: Access;
  /** What a request sent with an API key needs; default 'read' for GET, false (sessions only) otherwise. */
  keyScope?: KeyAccess;
  params?: P;
  query?: Q;
  body?: B;
  bodyContentTypes?: string[];
  /** Status of a validation failure: 422 (default) or 400 for the compatible routes that answered 400. */
  invalidStatus?: number;
  responses: Record<number, ResponseSpec>;
  hidden?: boolean;
  /**
   * An account flow an unconfirmed account must reach (resend the confirmation, log out, change the
   * password) even when AUTH_REQUIRE_CONFIRMED_EMAIL turns other writes away.
   */
  allowUnconfirmed?: boolean;
  /**
   * A tabular read: it answers CSV and NDJSON besides JSON (by Accept, or `?format=`, which the
   * registry adds to its query). A handler that streams returns `{table}`; one that builds a JSON body
   * names here how that body becomes rows.
   */
  table?: { fromBody?: (body: never) => Table };
}

type Out<T> = T extends z.ZodType ? z.output<T> : undefined;

/** How a cached read is kept: its family, and which entry serves a request. */
export interface CachePolicy<P, Q> {
  family: CacheFamily;
  /** The entry's key (from cache-keys.ts), or undefined to answer this request uncached (a narrowed read). */
  key(input: { params: Out<P>; query: Out<Q> }): string | undefined;
  /** false keeps the body in this process only (cheaper to build again than to fetch from Redis). */
  shared?: boolean;
}

export interface Reply {
  status?: number;
  /** The JSON body; with a `table` too, the JSON answer (the table answers CSV and NDJSON). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Rows to stream (as a JSON array too, unless `body` is given). */
  table?: Table;
  /**
   * Names an answer that cannot change (a past-only range): the request and the data behind it. The
   * answer then carries a strong ETag made from it, per format, and If-None-Match gets 304.
   */
  fingerprint?: string | Promise<string>;
}

export interface RouteInput<P, Q, B> {
  params: Out<P>;
  query: Out<Q>;
  body: Out<B>;
  req: Request;
  res: Response;
}

export type RouteHandler<P, Q, B> = (input: RouteInput<P, Q, B>) => Promise<Reply | void> | Reply | void;
export type CachedHandler<P, Q, B> = (input: RouteInput<P, Q, B>) => Promise<Cacheable>;

/** The response cache and its fast lane, for registries that mount cached reads. */
export interface RouteCache {
  store: ResponseCache;
  lane: FastLane;
}

export function fieldErrors(error: z.ZodError, prefix: string) {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
}

function parsePart(
  schema: z.ZodType | undefined,
  value: unknown,
  where: string,
  errors: { path: string; message: string }[],
) {
  if (!schema) return undefined;
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  errors.push(...fieldErrors(result.error, where));
  return undefined;
}

/** The key access a route declares, or its default. */
export function keyAccessOf(spec: Pick<RouteSpec, 'method' | 'keyScope'>): KeyAccess {
  return spec.keyScope ?? (spec.method === 'get' ? 'read' : false);
}

/** The 403 that refuses a request sent with an API key this route does not take, if it is one. */
function keyRefusal(req: Request, need: KeyAccess): AppError | undefined {
  const credential = req.credential;
  if (credential?.kind !== 'api_key') return undefined;
  if (need === false) {
    return new AppError(403, 'session_required', 'this needs a signed-in session; an API key cannot be used here');
  }
  if (need !== 'any' && !credential.scopes.includes(need)) {
    return new AppError(403, 'insufficient_scope', `this API key lacks the '${need}' scope this needs`);
  }
  return undefined;
}

export function expressPath(path: string): string {
  return path.replace(/\{([^}]+)\}/g, ':$1');
}

export class RouteRegistry {
  readonly routes: RouteSpec[] = [];
  private readonly cache: RouteCache | undefined;
  private readonly requireConfirmedEmail: boolean;

  /** `requireConfirmedEmail` (AUTH_REQUIRE_CONFIRMED_EMAIL): writes by an unconfirmed account get 403 `email_unconfirmed`. */
  constructor(options: { cache?: RouteCache; requireConfirmedEmail?: boolean } = {}) {
    this.cache = options.cache;
    this.requireConfirmedEmail = options.requireConfirmedEmail ?? false;
  }

  /** Mounts a cached read on `router` and records it for the OpenAPI document and the fast lane. */
  add<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined>(
    router: Router,
    spec: RouteSpec<P, Q, B> & { cached: CachePolicy<P, Q> },
    handler: CachedHandler<P, Q, B>,
  ): void;
  /** Mounts a route on `router` and records it for the OpenAPI document. */
  add<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined>(
    router: Router,
    spec: RouteSpec<P, Q, B> & { cached?: undefined },
    handler: RouteHandler<P, Q, B>,
  ): void;
  add<P extends z.ZodType | undefined, Q extends z.ZodType | undefined, B extends z.ZodType | undefined>(
    router: Router,
    spec: RouteSpec<P, Q, B> & { cached?: CachePolicy<P, Q> },
    handler: RouteHandler<P, Q, B> | CachedHandler<P, Q, B>,
  ): void {
    if (spec.table) {
      const own: z.ZodType | undefined = spec.query;
      if (own !== undefined && !(own instanceof z.ZodObject)) {
        throw new Error(`${spec.operationId}: a tabular read's query must be an object`);
      }
      const query: z.ZodObject = own ?? z.object({});
      spec.query = query.extend(formatQuery.shape) as z.ZodType as Q;
    }
    this.routes.push(spec);
    const access = spec.auth ?? 'public';
    const invalidStatus = spec.invalidStatus ?? 422;
    const cached = spec.cached;
    const cache = this.cache;
    if (cached && !cache) throw new Error(`${spec.operationId} is cached, but this registry has no response cache`);
    if (spec.method === 'get') this.declareToLane(spec, access);
    const confirmedOnly = this.requireConfirmedEmail && spec.method !== 'get' && !spec.allowUnconfirmed;
    const keyAccess = keyAccessOf(spec);
    const run: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
      const keyRefused = keyRefusal(req, keyAccess);
      if (keyRefused) {
        next(keyRefused);
        return;
      }
      if (access !== 'public') {
        if (!req.user) {
          next(new AppError(401, 'unauthorized', 'a valid bearer token is required'));
          return;
        }
        if (access === 'admin' && req.user.role !== 'admin') {
          next(new AppError(403, 'forbidden', 'this needs the admin role'));
          return;
        }
        if (confirmedOnly && !req.user.emailConfirmed) {
          next(new AppError(403, 'email_unconfirmed', 'confirm your email address first (see the mailed link)'));
          return;
        }
      }
      const errors: { path: string; message: string }[] = [];
      const params = parsePart(spec.params, req.params, 'path', errors);
      const query = parsePart(spec.query, req.query, 'query', errors);
      const body = spec.body ? parsePart(spec.body, req.body, 'body', errors) : undefined;
      if (errors.length) {
        next(new AppError(invalidStatus, 'validation_failed', 'the request is not valid', errors));
        return;
      }
      const input = { params, query, body, req, res } as RouteInput<P, Q, B>;
      const format: TableFormat = spec.table
        ? negotiateFormat(req, (query as { format?: TableFormat } | undefined)?.format)
        : 'json';
      if (format !== 'json' && cached) {
        // CSV and NDJSON are cut from the read's data, not kept in the response cache
        Promise.resolve()
          .then(() => (handler as CachedHandler<P, Q, B>)(input))
          .then((r) =>
            sendReply(req, res, spec, format, { body: r.data, headers: { 'cache-control': r.cacheControl } }),
          )
          .catch(next);
        return;
      }
      if (cached && cache) {
        sendCachedRead(cache, cached, handler as CachedHandler<P, Q, B>, input, next);
        return;
      }
      let result: Promise<Reply | void> | Reply | void;
      try {
        result = (handler as RouteHandler<P, Q, B>)(input);
      } catch (err) {
        next(err);
        return;
      }
      if (result instanceof Promise) result.then((r) => sendReply(req, res, spec, format, r)).catch(next);
      else sendReply(req, res, spec, format, result).catch(next);
    };
    router[spec.method](expressPath(spec.path), run);
  }

  /** Every GET route goes to the lane in mounting order (so it matches URLs as Express does); cached public ones with their key. */
  private declareToLane<P, Q>(spec: RouteSpec & { cached?: CachePolicy<P, Q> }, access: Access): void {
    if (!this.cache) return;
    const cached = access === 'public' ? spec.cached : undefined;
    let defaults: { ok: boolean; query: Out<Q> } | undefined;
    const keyAccess = keyAccessOf(spec);
    this.cache.lane.declare({
      path: spec.path,
      label: expressPath(spec.path),
      cached: cached && {
        family: cached.family,
        keyScope: keyAccess === false ? undefined : keyAccess,
        keyOf: (raw) => {
          // the lane answers only URLs without a query string: the query is the schema's defaults
          if (!defaults) {
            const parsed = spec.query ? spec.query.safeParse({}) : { success: true as const, data: undefined };
            defaults = { ok: parsed.success, query: parsed.data as Out<Q> };
          }
          if (!defaults.ok) return undefined;
          const params = spec.params ? spec.params.safeParse(raw) : { success: true as const, data: undefined };
          if (!params.success) return undefined;
          return cached.key({ params: params.data as Out<P>, query: defaults.query });
        },
      },
    });
  }
}

/** A cached read: the encoded body kept under its key (built by the handler on a miss), or, without a key, the data as JSON. */
function sendCachedRead<P, Q, B>(
  cache: RouteCache,
  policy: CachePolicy<P, Q>,
  handler: CachedHandler<P, Q, B>,
  input: RouteInput<P, Q, B>,
  next: NextFunction,
): void {
  const { req, res } = input;
  let key: string | undefined;
  try {
    key = policy.key(input);
  } catch (err) {
    next(err);
    return;
  }
  const read = () => Promise.resolve().then(() => handler(input));
  if (key === undefined) {
    read().then((r) => send(res, { body: r.data, headers: { 'cache-control': r.cacheControl } }), next);
    return;
  }
  cache.store
    .get(
      policy.family,
      key,
      () => read().then((r) => ({ json: JSON.stringify(r.data), cacheControl: r.cacheControl })),
      { shared: policy.shared !== false },
    )
    .then((entry) => {
      // the full middleware stack ran: the lane learns its headers from this response
      cache.lane.learn(res);
      sendEncoded(req, res, entry);
    }, next);
}

/** A reply in the negotiated format: rows streamed as a table, or the JSON body. */
async function sendReply(req: Request, res: Response, spec: RouteSpec, format: TableFormat, reply: Reply | void) {
  if (!reply) return;
  const table =
    reply.table ??
    (format !== 'json' && reply.body !== undefined ? spec.table?.fromBody?.(reply.body as never) : undefined);
  const fingerprint = reply.fingerprint;
  const etag = fingerprint === undefined ? undefined : Promise.resolve(fingerprint).then((f) => tableEtag(f, format));
  if (table && (format !== 'json' || reply.body === undefined)) {
    const cacheControl = reply.headers?.['cache-control'];
    await sendTable(req, res, table, format, { headers: reply.headers, cacheControl, etag });
    return;
  }
  if (spec.table) res.set('vary', 'Accept, Accept-Encoding');
  if (etag) {
    const tag = await etag;
    res.set('etag', tag);
    if (ifNoneMatch(req, tag)) {
      send(res, { status: 304, headers: reply.headers ?? {} });
      return;
    }
  }
  send(res, reply);
}

function send(res: Response, reply: Reply | void): void {
  if (!reply || res.headersSent) return;
  if (reply.headers) res.set(reply.headers);
  res.status(reply.status ?? 200);
  if (reply.body === undefined) res.end();
  else res.json(reply.body);
}
