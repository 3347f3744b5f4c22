// Registration, login and the start-up admin. Unknown emails and wrong passwords get the same
// answer after the same work (a verify against a dummy hash), and failures are counted in Redis.
import type { LoginBody, RegisterBody, TokenResponse, UserDto } from '@ratewire/contracts';
import {
  findUserByEmail,
  findUserById,
  insertUser,
  updateUserCredentials,
  type Database,
  type UserRow,
} from '@ratewire/db';
import type { Logger } from '@ratewire/runtime';

import { AppError } from '../http/app-error.ts';
import { unknownUser } from './auth.middleware.ts';
import type { LoginLimiter } from './login-limiter.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import { signAccessToken, type TokenSettings } from './tokens.ts';

export function toUserDto(u: UserRow): UserDto {
  return { id: u.id, email: u.email, name: u.name, role: u.role, created_at: u.created_at.toISOString() };
}

export interface AuthService {
  register(body: RegisterBody): Promise<UserDto>;
  login(body: LoginBody, ip: string): Promise<TokenResponse>;
  me(userId: string): Promise<UserDto>;
}

export class TooManyAttempts extends AppError {
  readonly retryAfter: number;
  constructor(retryAfter: number) {
    super(429, 'too_many_attempts', `too many failed logins; try again in ${retryAfter} s`);
    this.retryAfter = retryAfter;
  }
}

export function createAuthService(deps: { db: Database; settings: TokenSettings; limiter: LoginLimiter }): AuthService {
  const { db, settings, limiter } = deps;
  return {
    async register(body) {
      const user = await insertUser(db, {
        email: body.email,
        name: body.name ?? null,
        passwordHash: await hashPassword(body.password),
        role: 'user',
      });
      if (!user) throw new AppError(409, 'email_taken', 'an account with this email already exists');
      return toUserDto(user);
    },

    async login({ email, password }, ip) {
      const state = await limiter.check(email, ip);
      if (state.blocked) throw new TooManyAttempts(state.retryAfter);
      const user = await findUserByEmail(db, email);
      const ok = await verifyPassword(user?.password_hash ?? (await dummyPasswordHash()), password);
      if (!user || !ok) {
        await limiter.recordFailure(email, ip);
        throw new AppError(401, 'invalid_credentials', 'the email or password is wrong');
      }
      await limiter.recordSuccess(email, ip);
      const access_token = await signAccessToken({ id: user.id, email: user.email, role: user.role }, settings);
      return { access_token, token_type: 'Bearer', expires_in: settings.JWT_TTL_SECONDS };
    },

    async me(userId) {
      const user = await findUserById(db, userId);
      // a token outliving its account is no longer a valid credential
      if (!user) throw unknownUser();
      return toUserDto(user);
    },
  };
}

/**
 * Makes ADMIN_EMAIL an admin whose password is ADMIN_PASSWORD (idempotent: nothing is written
 * when that already holds). Called at start-up by main.ts and by the test harness.
 */
export async function ensureAdmin(
  db: Database,
  settings: { ADMIN_EMAIL?: string | undefined; ADMIN_PASSWORD?: string | undefined },
  log?: Logger,
): Promise<'created' | 'updated' | 'unchanged' | 'skipped'> {
  const email = settings.ADMIN_EMAIL?.toLowerCase();
  const password = settings.ADMIN_PASSWORD;
  if (!email || !password) return 'skipped';
  const existing = await findUserByEmail(db, email);
  if (existing && existing.role === 'admin' && (await verifyPassword(existing.password_hash, password))) {
    return 'unchanged';
  }
  const passwordHash = await hashPassword(password);
  if (existing) {
    await updateUserCredentials(db, existing.id, { passwordHash, role: 'admin' });
    log?.info({ email }, 'admin account updated from ADMIN_EMAIL/ADMIN_PASSWORD');
    return 'updated';
  }
  const created = await insertUser(db, { email, name: 'admin', passwordHash, role: 'admin' });
  if (!created) return ensureAdmin(db, settings, log); // registered concurrently: update it instead
  log?.info({ email }, 'admin account created from ADMIN_EMAIL/ADMIN_PASSWORD');
  return 'created';
}
