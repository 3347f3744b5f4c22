// The console's one way to call the REST API: same-origin fetch with the session cookie, JSON in
// and out, every answer checked against its contract, and problem+json turned into an ApiError
// that a form can show (its message, and the message of each field that was wrong).
import { problemSchema, type FieldError } from '@ratewire/contracts/problem.schemas';
import type { ZodType } from 'zod';

export class ApiError extends Error {
  /** The HTTP status; 0 when the service could not be reached. */
  readonly status: number;
  /** The problem's stable code (`invalid_credentials`, `validation_failed`, …). */
  readonly code: string;
  readonly fields: readonly FieldError[];
  /** Seconds to wait, from Retry-After. */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, message: string, fields: readonly FieldError[] = [], retryAfter?: number) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.retryAfter = retryAfter;
  }

  /** The message for field `path` (dotted, as the API reports it), if it was wrong. */
  field(path: string): string | undefined {
    return this.fields.find((f) => f.path === path)?.message;
  }
}

export type Query = Record<string, string | number | undefined | null>;

export interface RequestOptions<T> {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  query?: Query;
  body?: unknown;
  /** The contract of a 2xx answer's body; without it the body is not read. */
  schema?: ZodType<T>;
  signal?: AbortSignal;
  headers?: Record<string, string>;
  /** The browser cache's part (`no-cache`: ask the service again, even within an answer's max-age). */
  cache?: RequestCache;
}

/** `path` with the defined query parameters. */
export function urlOf(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

let unauthorized: (() => void) | undefined;

/**
 * What to do when the service answers 401: the session the browser held has ended (logout
 * elsewhere, a password change, expiry). core/session.ts signs the console out; every request
 * passes here, so no page has to remember to.
 */
export function onUnauthorized(handler: () => void): void {
  unauthorized = handler;
}

async function send(path: string, opts: RequestOptions<unknown>, accept: string): Promise<Response> {
  const headers: Record<string, string> = { accept, ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(urlOf(path, opts.query), {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? null : JSON.stringify(opts.body),
      credentials: 'same-origin',
      signal: opts.signal ?? null,
      ...(opts.cache ? { cache: opts.cache } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'unreachable', 'The service cannot be reached; check the connection and try again.');
  }
  if (res.status === 401) unauthorized?.();
  if (!res.ok) throw await problemOf(res);
  return res;
}

async function problemOf(res: Response): Promise<ApiError> {
  const retry = Number(res.headers.get('retry-after'));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    body = undefined;
  }
  const problem = problemSchema.safeParse(body);
  if (!problem.success) return new ApiError(res.status, 'http_error', `The service answered HTTP ${res.status}.`);
  const p = problem.data;
  return new ApiError(res.status, p.code, p.detail || p.title, p.errors ?? [], retryAfter);
}

/** Calls the API; answers the parsed body (undefined for 204 or without a schema). */
export async function request<T = undefined>(path: string, opts: RequestOptions<T> = {}): Promise<T> {
  const res = await send(path, opts, 'application/json');
  if (res.status === 204 || !opts.schema) return undefined as T;
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new ApiError(res.status, 'unexpected_answer', 'The service sent an answer that is not JSON.');
  }
  const parsed = opts.schema.safeParse(json);
  if (!parsed.success) {
    throw new ApiError(res.status, 'unexpected_answer', `The service's answer to ${path} does not match its contract.`);
  }
  return parsed.data;
}

/** Calls the API for a text representation (CSV), as the API sends it. */
export async function requestText(path: string, opts: RequestOptions<unknown> & { accept: string }): Promise<string> {
  const res = await send(path, opts, opts.accept);
  return res.text();
}

/** A message for anything a request threw. */
export function messageOf(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
