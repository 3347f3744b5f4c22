// Access tokens: HS256 JWTs with iat, exp, iss and aud; `sub` is the user id. Used by REST and /ws.
// A token only proves who the caller is: the role (and whether the account still exists) is read
// from the account at request time (accounts.ts), never from the token.
import { SignJWT, jwtVerify } from 'jose';

import { ID_FORMS, exactly } from '@ratewire/contracts';

import type { AuthUser } from '../http/request-context.ts';

export const TOKEN_ISSUER = 'ratewire';
export const TOKEN_AUDIENCE = 'ratewire-api';
/** Clock difference allowed between the replica that signed a token and the one that checks it. */
export const CLOCK_SKEW_SECONDS = 5;

const UUID_RE = exactly(ID_FORMS.uuid, 'i');

export interface TokenSettings {
  JWT_SECRET: string;
  JWT_TTL_SECONDS: number;
}

const keys = new WeakMap<TokenSettings, Uint8Array>();
const keyOf = (s: TokenSettings) => {
  let key = keys.get(s);
  if (!key) {
    key = new TextEncoder().encode(s.JWT_SECRET);
    keys.set(s, key);
  }
  return key;
};

export async function signAccessToken(user: AuthUser, settings: TokenSettings): Promise<string> {
  // one clock reading for both claims: exp - iat is exactly the TTL
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: user.role, email: user.email })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + settings.JWT_TTL_SECONDS)
    .sign(keyOf(settings));
}

/**
 * The user id a token names, or null unless it is signed with JWT_SECRET (HS256), for our issuer
 * and audience, has a UUID `sub`, and has `iat` and `exp` with `iat` not in the future, `exp` not
 * past and a lifetime (`exp - iat`) of at most JWT_TTL_SECONDS — whatever lifetime it claims, no
 * token outlives the configured TTL. `CLOCK_SKEW_SECONDS` of clock difference is allowed.
 */
export async function verifyAccessToken(token: string, settings: TokenSettings): Promise<string | null> {
  if (token.length > 4096) return null;
  try {
    const { payload } = await jwtVerify(token, keyOf(settings), {
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'iat', 'exp'],
      // refuses an iat older than the TTL and an iat in the future
      maxTokenAge: settings.JWT_TTL_SECONDS,
      clockTolerance: CLOCK_SKEW_SECONDS,
    });
    const { sub, iat, exp } = payload;
    if (typeof sub !== 'string' || !UUID_RE.test(sub)) return null;
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > settings.JWT_TTL_SECONDS) return null;
    return sub.toLowerCase();
  } catch {
    return null;
  }
}
