// Access tokens: HS256 JWTs with iat, exp, iss and aud; `sub` is the user id and `sid` the session
// the login opened. Used by REST and /ws. A token only proves who the caller is and in which
// session: the role, whether the account still exists and whether the session is still live are
// read at request time (accounts.ts), never from the token.
import { SignJWT, jwtVerify } from 'jose';

import { ID_FORMS, exactly } from '@ratewire/contracts';

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

/** What a valid token names. */
export interface TokenClaims {
  userId: string;
  sessionId: string;
}

/**
 * Signs a token for a session. `profile` adds the `email` and `role` claims, for clients to show:
 * they are informational, never trusted by the api.
 */
export async function signAccessToken(
  claims: TokenClaims,
  settings: TokenSettings,
  profile?: { email: string; role: string },
): Promise<string> {
  // one clock reading for both claims: exp - iat is exactly the TTL
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...(profile ? { email: profile.email, role: profile.role } : {}), sid: claims.sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(claims.userId)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt(now)
    .setExpirationTime(now + settings.JWT_TTL_SECONDS)
    .sign(keyOf(settings));
}

/**
 * The user and session a token names, or null unless it is signed with JWT_SECRET (HS256), for our
 * issuer and audience, has a UUID `sub` and `sid`, and has `iat` and `exp` with `iat` not in the future, `exp` not
 * past and a lifetime (`exp - iat`) of at most JWT_TTL_SECONDS — whatever lifetime it claims, no
 * token outlives the configured TTL. `CLOCK_SKEW_SECONDS` of clock difference is allowed.
 */
export async function verifyAccessToken(token: string, settings: TokenSettings): Promise<TokenClaims | null> {
  if (token.length > 4096) return null;
  try {
    const { payload } = await jwtVerify(token, keyOf(settings), {
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      algorithms: ['HS256'],
      requiredClaims: ['sub', 'sid', 'iat', 'exp'],
      // refuses an iat older than the TTL and an iat in the future
      maxTokenAge: settings.JWT_TTL_SECONDS,
      clockTolerance: CLOCK_SKEW_SECONDS,
    });
    const { sub, sid, iat, exp } = payload;
    if (typeof sub !== 'string' || !UUID_RE.test(sub)) return null;
    if (typeof sid !== 'string' || !UUID_RE.test(sid)) return null;
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp - iat > settings.JWT_TTL_SECONDS) return null;
    return { userId: sub.toLowerCase(), sessionId: sid.toLowerCase() };
  } catch {
    return null;
  }
}
