// Who is signed in. The session itself lives in an HttpOnly cookie the api sets (script never sees
// the token); the console only keeps the account it names, read from /auth/me.
import { signal } from '@preact/signals';
import { browserSessionSchema, userSchema, type UserDto } from '@ratewire/contracts/auth.schemas';

import { onUnauthorized, request } from './api.ts';
import { renew } from './live.ts';

/** undefined while the first /auth/me is on its way; null when nobody is signed in. */
export const me = signal<UserDto | null | undefined>(undefined);

export async function loadSession(): Promise<void> {
  try {
    me.value = (await request('/api/v1/auth/session', { schema: browserSessionSchema })).user;
  } catch (err) {
    me.value = null;
    throw err;
  }
}

/** Opens a cookie session; throws ApiError (401 wrong credentials, 429 too many attempts, 422). */
export async function logIn(email: string, password: string): Promise<UserDto> {
  const user = await request('/api/v1/auth/session', { method: 'POST', body: { email, password }, schema: userSchema });
  me.value = user;
  renew();
  return user;
}

/** Ends the session on the server and drops the cookie. */
export async function logOut(): Promise<void> {
  try {
    await request('/api/v1/auth/session', { method: 'DELETE' });
  } finally {
    me.value = null;
    renew();
  }
}

/** A request was answered 401: the session ended elsewhere (logout-all, password change, expiry). */
export function sessionEnded(): void {
  if (me.value) {
    me.value = null;
    renew();
  }
}

onUnauthorized(sessionEnded);
