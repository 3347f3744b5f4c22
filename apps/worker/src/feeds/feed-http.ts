// One HTTP GET to a feed, with the rules every feed call follows: a timeout on the whole
// exchange (a trickling body counts), no automatic retries or redirects (the poll loop decides),
// and a size guard that aborts a body over the limit while it downloads.
import got, { CancelError, RequestError, type Headers } from 'got';

export type FeedErrorKind =
  | 'timeout'
  | 'network'
  | 'server' // 5xx
  | 'client' // other non-2xx
  | 'rate-limited' // 429
  | 'banned' // 418
  | 'too-large'
  | 'invalid' // a 2xx whose body we refuse
  | 'aborted';

export class FeedError extends Error {
  override readonly name = 'FeedError';
  readonly kind: FeedErrorKind;
  readonly status: number | undefined;
  /** From Retry-After (429/418): do not call the source again before this. */
  readonly retryAt: Date | undefined;
  constructor(
    kind: FeedErrorKind,
    message: string,
    options: { status?: number; retryAt?: Date; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.status = options.status;
    this.retryAt = options.retryAt;
  }
}

export interface FeedResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

export interface FeedRequestOptions {
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal | undefined;
  headers?: Record<string, string>;
  /** Used when a 429/418 carries no usable Retry-After. */
  defaultRetryAfterMs?: number;
}

/** Retry-After as seconds or an HTTP date → the instant it names; undefined when unusable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): Date | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (!v) return undefined;
  if (/^\s*\d{1,7}\s*$/.test(v)) return new Date(now + Number.parseInt(v, 10) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : new Date(Math.max(at, now));
}

export async function feedGet(url: string, options: FeedRequestOptions): Promise<FeedResponse> {
  const { maxBytes } = options;
  let tooLarge = false;
  const request = got(url, {
    timeout: { request: options.timeoutMs },
    retry: { limit: 0 },
    followRedirect: false,
    throwHttpErrors: false,
    responseType: 'buffer',
    decompress: true,
    headers: { 'user-agent': 'ratewire/1.0', ...options.headers },
    ...(options.signal ? { signal: options.signal } : {}),
  });
  void request.on('downloadProgress', (progress) => {
    if (!tooLarge && (progress.transferred > maxBytes || (progress.total ?? 0) > maxBytes)) {
      tooLarge = true;
      request.cancel();
    }
  });
  let response;
  try {
    response = await request;
  } catch (err) {
    if (tooLarge) throw new FeedError('too-large', `response body over ${maxBytes} bytes`, { cause: err });
    if (options.signal?.aborted) throw new FeedError('aborted', 'request aborted', { cause: err });
    if (err instanceof CancelError) throw new FeedError('aborted', 'request cancelled', { cause: err });
    if (err instanceof RequestError && err.code === 'ETIMEDOUT') {
      throw new FeedError('timeout', `no complete response within ${options.timeoutMs} ms`, { cause: err });
    }
    const code = err instanceof RequestError ? err.code : undefined;
    const message = err instanceof Error ? err.message : String(err);
    throw new FeedError('network', `request failed${code ? ` (${code})` : ''}: ${message}`, { cause: err });
  }
  const { statusCode: status, headers, rawBody } = response;
  if (status === 429 || status === 418) {
    const retryAt =
      parseRetryAfter(headers['retry-after']) ?? new Date(Date.now() + (options.defaultRetryAfterMs ?? 60_000));
    throw new FeedError(
      status === 429 ? 'rate-limited' : 'banned',
      `HTTP ${status}${status === 418 ? ' (IP banned)' : ' (rate limited)'}; calls paused until ${retryAt.toISOString()}`,
      { status, retryAt },
    );
  }
  if (status >= 500) throw new FeedError('server', `HTTP ${status} from the source`, { status });
  if (status < 200 || status >= 300) throw new FeedError('client', `HTTP ${status} from the source`, { status });
  return { status, headers, body: rawBody };
}
