// Authentication by API key. A key comes as `X-API-Key: <key>` or `Authorization: Bearer rw_…`
// (both at once only when they carry the same key). It is accepted when its lookup part names a
// key whose stored SHA-256 equals the presented key's (compared in constant time), that is not
// revoked or expired, whose account exists, and whose bucket has a token; the caller is then that
// account with the role forced to `user` (a key never carries the admin role), and
// `req.credential` says which key and scopes. Every answer to an accepted key carries RateLimit-*.
//
// The fast lane asks `admit` for cached reads: it answers only when the key is in the cache and valid
// and a token of this process's lease is at hand (or on its way), and hands the request to Express
// otherwise.
import type { IncomingHttpHeaders } from 'node:http';

import type { NextFunction, Request, Response } from 'express';

import { apiKeyMatches, parseApiKey } from '@ratewire/db';

import type { Accounts } from '../auth/accounts.ts';
import { AppError } from '../http/app-error.ts';
import type { ApiKeyCache, CachedApiKey } from './api-keys.cache.ts';
import type { KeyRateLimiter, RateState } from './api-keys.limiter.ts';
import type { ApiKeyUses } from './api-keys.uses.ts';

const BEARER_KEY_RE = /^Bearer\s+(rw_\S*)\s*$/i;

const invalidKey = (detail = 'the API key is not valid') => new AppError(401, 'invalid_api_key', detail);

/**
 * The API key a request presents: the key, an error (two different credentials at once), or
 * undefined when it presents none (an `Authorization` header that is not `Bearer rw_…` is an
 * access token's business).
 */
export function presentedApiKey(headers: IncomingHttpHeaders): string | AppError | undefined {
  const header = headers['x-api-key'];
  const authorization = headers.authorization;
  const bearer = authorization === undefined ? undefined : BEARER_KEY_RE.exec(authorization)?.[1];
  if (header === undefined) return bearer;
  const key = Array.isArray(header) ? header.join(', ') : header.trim();
  if (authorization !== undefined && bearer !== key) {
    return new AppError(
      400,
      'conflicting_credentials',
      'send one credential: X-API-Key and an Authorization header carrying something else were both sent',
    );
  }
  return key;
}

/** Why a presented key (its hash) is refused by the stored one, or undefined when it is accepted. */
function refusalOf(key: CachedApiKey | null, digest: string, now: number): AppError | undefined {
  if (!key || !apiKeyMatches(digest, key.digest)) return invalidKey();
  // only the holder of the whole key learns why it no longer works
  if (key.revoked) return invalidKey('this API key has been revoked');
  if (key.expiresAt !== null && key.expiresAt <= now) return invalidKey('this API key has expired');
  return undefined;
}

export interface ApiKeyAuthDeps {
  cache: ApiKeyCache;
  limiter: KeyRateLimiter;
  uses: ApiKeyUses;
  accounts: Accounts;
}

export class ApiKeyAuth {
  private readonly deps: ApiKeyAuthDeps;

  constructor(deps: ApiKeyAuthDeps) {
    this.deps = deps;
  }

  /** The Express side: sets req.user and req.credential (and RateLimit-*), or passes the 400/401/429 on. */
  authenticate(presented: string | AppError, req: Request, res: Response, next: NextFunction): void {
    if (presented instanceof AppError) return next(presented);
    this.check(presented, req, res).then((refusal) => next(refusal), next);
  }

  private async check(presented: string, req: Request, res: Response): Promise<AppError | undefined> {
    const parsed = parseApiKey(presented);
    if (!parsed) return invalidKey('expected an API key of the form rw_<lookup>_<secret>');
    const { cache, limiter, uses, accounts } = this.deps;
    const key = await cache.get(parsed.lookup);
    const refusal = refusalOf(key, parsed.digest, Date.now());
    if (refusal || !key) return refusal ?? invalidKey();
    const [user, decision] = await Promise.all([accounts.get(key.userId), limiter.take(key.lookup)]);
    if (!user) return invalidKey('the account behind this API key no longer exists');
    res.set(limiter.headers(decision.state));
    if (!decision.allowed) {
      res.set('Retry-After', String(decision.retryAfter));
      return new AppError(
        429,
        'rate_limited',
        `this API key made more than ${limiter.limit} requests in a minute; retry in ${decision.retryAfter} s`,
      );
    }
    req.user = { ...user, role: 'user' };
    req.credential = { kind: 'api_key', keyId: key.id, lookup: key.lookup, scopes: key.scopes };
    uses.record(key.id);
    return undefined;
  }

  /** RateLimit-Limit, the same on every answer (for the fast lane). */
  get limitHeader(): string {
    return this.deps.limiter.limitText;
  }

  /** RateLimit-Policy, the same on every answer (for the fast lane). */
  get policyHeader(): string {
    return this.deps.limiter.policy;
  }

  /**
   * The fast lane's side: the rate to report in its answer when the key is held in the cache,
   * valid and has `scope` ('any': any key) — at once when a leased token is at hand, else once
   * this process's lease is topped up — or null, and the request goes to Express, which decides it
   * (a key not held, refused, or out of tokens: the 429 is Express's).
   */
  admit(headers: IncomingHttpHeaders, scope: string): RateState | null | Promise<RateState | null> {
    const presented = presentedApiKey(headers);
    if (typeof presented !== 'string') return null;
    const parsed = parseApiKey(presented);
    if (!parsed) return null;
    const key = this.deps.cache.peek(parsed.lookup);
    if (!key || refusalOf(key, parsed.digest, Date.now())) return null;
    if (scope !== 'any' && !key.scopes.includes(scope)) return null;
    const { limiter, uses } = this.deps;
    const state = limiter.takeLocal(key.lookup);
    if (state) {
      uses.record(key.id);
      return state;
    }
    return limiter.take(key.lookup).then((decision) => {
      if (!decision.allowed) return null;
      uses.record(key.id);
      return decision.state;
    });
  }
}
