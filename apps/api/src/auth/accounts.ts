// Who a credential names, as things are now. A token proves only a user id and a session id: the
// role, whether the account still exists, whether the address is confirmed and whether the session
// is still live are read at request time, so a demoted admin, a deleted account or a logged-out
// session loses its rights on the next request, on every replica, not when the token expires.
//
// Accounts and sessions are cached per process (change-cache.ts). Every change that matters is
// NOTIFYed by triggers on `users` and `sessions` when it commits, whoever makes it (migrations
// 20261201120000 and 20261202100000); each replica's ChangeFeed hears it and drops the entry at once.
//
// A session is live while it is not revoked (logout, another session's password change), not
// expired, and created after its account's `sessions_valid_after` (logout-all, password reset).
// That last comparison uses the session's creation time as stored (sub-second), not the token's
// `iat` (whole seconds), so a token issued in the same second as a reset is still decided right.
import {
  SESSIONS_CHANGED_CHANNEL,
  USERS_CHANGED_CHANNEL,
  createSession,
  findSession,
  findUserById,
  type Database,
  type UserRow,
} from '@ratewire/db';

import { AppError } from '../http/app-error.ts';
import type { AuthUser, Credential } from '../http/request-context.ts';
import { ChangeCache } from './change-cache.ts';
import type { ChangeFeed } from './change-feed.ts';
import { signAccessToken, verifyAccessToken, type TokenSettings } from './tokens.ts';

export const ACCOUNT_CACHE_TTL_MS = 5000;

export interface AccountsDeps {
  db: Database;
  changes: ChangeFeed;
  settings: TokenSettings;
  ttlMs?: number;
}

/** An authenticated caller: the account as it is now, and what proved it. */
export interface Caller {
  user: AuthUser;
  credential: Credential;
}

interface AccountState {
  user: AuthUser;
  /** ms since the epoch; a session created at or before it is refused. */
  sessionsValidAfter: number | null;
}

interface SessionState {
  userId: string;
  createdAt: number;
  expiresAt: number;
  revoked: boolean;
}

/** A validly signed token whose account no longer exists. */
export const unknownUser = () => new AppError(401, 'unknown_user', 'the account behind this token no longer exists');
const invalidToken = () => new AppError(401, 'invalid_token', 'the bearer token is invalid or expired');
const sessionEnded = () =>
  new AppError(401, 'session_ended', 'this session has ended (logged out, or the password changed); log in again');

export function authUserOf(row: UserRow): AuthUser {
  return { id: row.id, email: row.email, role: row.role, emailConfirmed: row.email_confirmed_at !== null };
}

export class Accounts {
  private readonly deps: AccountsDeps;
  private readonly accounts: ChangeCache<AccountState>;
  private readonly sessions: ChangeCache<SessionState>;

  constructor(deps: AccountsDeps) {
    this.deps = deps;
    const ttlMs = deps.ttlMs ?? ACCOUNT_CACHE_TTL_MS;
    this.accounts = new ChangeCache({
      changes: deps.changes,
      channel: USERS_CHANGED_CHANNEL,
      ttlMs,
      load: async (id) => {
        const row = await findUserById(deps.db, id);
        return row && { user: authUserOf(row), sessionsValidAfter: row.sessions_valid_after?.getTime() ?? null };
      },
    });
    this.sessions = new ChangeCache({
      changes: deps.changes,
      channel: SESSIONS_CHANGED_CHANNEL,
      ttlMs,
      load: async (id) => {
        const row = await findSession(deps.db, id);
        return (
          row && {
            userId: row.user_id,
            createdAt: row.created_at.getTime(),
            expiresAt: row.expires_at.getTime(),
            revoked: row.revoked_at !== null,
          }
        );
      },
    });
  }

  /** The account as it is now, or null when there is none. */
  async get(id: string): Promise<AuthUser | null> {
    return (await this.accounts.get(id))?.user ?? null;
  }

  /** The caller a bearer token names, or the 401 that refuses it. */
  async authenticate(token: string): Promise<Caller | AppError> {
    const claims = await verifyAccessToken(token, this.deps.settings);
    if (!claims) return invalidToken();
    const [account, session] = await Promise.all([
      this.accounts.get(claims.userId),
      this.sessions.get(claims.sessionId),
    ]);
    if (!account) return unknownUser();
    if (!session || session.userId !== claims.userId) return invalidToken();
    const validAfter = account.sessionsValidAfter;
    if (
      session.revoked ||
      session.expiresAt <= Date.now() ||
      (validAfter !== null && session.createdAt <= validAfter)
    ) {
      return sessionEnded();
    }
    return { user: account.user, credential: { kind: 'session', sessionId: claims.sessionId } };
  }

  /** Opens a session for the account (a login) and returns its access token. */
  async openSession(user: { id: string; email: string; role: string }): Promise<string> {
    const session = await createSession(this.deps.db, user.id, this.deps.settings.JWT_TTL_SECONDS);
    return signAccessToken({ userId: user.id, sessionId: session.id }, this.deps.settings, user);
  }
}
