// Access tokens: HS256 JWTs with exp, iss and aud; `sub` is the user id. Used by REST and /ws.
import { SignJWT, jwtVerify } from 'jose';

import type { AuthUser } from '../http/request-context.ts';

export const TOKEN_ISSUER = 'ratewire';
export const TOKEN_AUDIENCE = 'ratewire-api';

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
  return new SignJWT({ role: user.role, email: user.email })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(user.id)
    .setIssuer(TOKEN_ISSUER)
    .setAudience(TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${settings.JWT_TTL_SECONDS}s`)
    .sign(keyOf(settings));
}

/** The user a token names, or null when it is malformed, forged, expired or for another audience. */
export async function verifyAccessToken(token: string, settings: TokenSettings): Promise<AuthUser | null> {
  if (token.length > 4096) return null;
  try {
    const { payload } = await jwtVerify(token, keyOf(settings), {
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      algorithms: ['HS256'],
    });
    const role = payload.role;
    if (typeof payload.sub !== 'string' || (role !== 'user' && role !== 'admin') || typeof payload.email !== 'string') {
      return null;
    }
    return { id: payload.sub, role, email: payload.email };
  } catch {
    return null;
  }
}
