// Registration, login, the account flows and the start-up admin.
// - Unknown emails and wrong passwords get the same answer after the same work (a verify against a
//   dummy hash), and failures are counted in Redis.
// - Mail is never sent here: register and the mail-sending requests write a row to mail_outbox in
//   the same statement as their change, and a worker sends it (with retries). So they answer in the
//   same time whether the mail server is fast, slow or down.
// - A password-reset request writes the same row, with no lookup, for a known and an unknown
//   address, so both answer in the same time; the worker mails only a known one.
import type {
  ChangePasswordBody,
  LoginBody,
  PasswordResetBody,
  PasswordResetConfirmBody,
  RegisterBody,
  TokenResponse,
  UserDto,
} from '@ratewire/contracts';
import {
  changePassword,
  confirmEmailWithToken,
  endAllSessions,
  enqueueMail,
  enqueuePasswordReset,
  findUserByEmail,
  findUserById,
  insertUser,
  insertUserWithConfirmation,
  passwordHashOf,
  resetPasswordWithToken,
  revokeSession,
  updateUserCredentials,
  type Database,
  type LinkTokenRefusal,
  type UserRow,
} from '@ratewire/db';
import type { Logger } from '@ratewire/runtime';

import { AppError } from '../http/app-error.ts';
import { unknownUser, type Accounts } from './accounts.ts';
import type { AttemptLimiter } from './attempt-limiter.ts';
import { dummyPasswordHash, hashPassword, verifyPassword } from './passwords.ts';
import type { TokenSettings } from './tokens.ts';

export function toUserDto(u: UserRow): UserDto {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    email_confirmed: u.email_confirmed_at !== null,
    created_at: u.created_at.toISOString(),
  };
}

/** Who asks: the account and its session (for the flows that need one), and the client address. */
export interface Asker {
  userId: string;
  sessionId: string;
}

export interface AuthService {
  register(body: RegisterBody): Promise<UserDto>;
  login(body: LoginBody, ip: string): Promise<TokenResponse>;
  /** login, answering the account too (a browser session shows who signed in; its token goes in a cookie). */
  signIn(body: LoginBody, ip: string): Promise<{ token: TokenResponse; user: UserDto }>;
  me(userId: string): Promise<UserDto>;
  confirmEmail(token: string): Promise<UserDto>;
  resendConfirmation(userId: string, ip: string): Promise<void>;
  requestPasswordReset(body: PasswordResetBody, ip: string): Promise<void>;
  resetPassword(body: PasswordResetConfirmBody): Promise<void>;
  changePassword(asker: Asker, body: ChangePasswordBody, ip: string): Promise<void>;
  logout(asker: Asker): Promise<void>;
  logoutAll(userId: string): Promise<void>;
}

export interface AuthServiceDeps {
  db: Database;
  settings: TokenSettings;
  accounts: Accounts;
  /** Failed logins. */
  logins: AttemptLimiter;
  /** Wrong current passwords on a password change (apart from logins: a session cannot lock its owner out). */
  passwordChecks: AttemptLimiter;
  /** Requests that mail a link. */
  mailRequests: AttemptLimiter;
}

const LINK_REFUSALS: Record<LinkTokenRefusal, AppError> = {
  invalid: new AppError(400, 'link_invalid', 'this link is not valid; ask for a new one'),
  used: new AppError(400, 'link_used', 'this link has already been used'),
  expired: new AppError(400, 'link_expired', 'this link has expired; ask for a new one'),
  voided: new AppError(400, 'link_replaced', 'a newer link was sent; use the latest mail'),
};

export function createAuthService(deps: AuthServiceDeps): AuthService {
  const { db, settings, accounts, logins, passwordChecks, mailRequests } = deps;
  return {
    async register(body) {
      const user = await insertUserWithConfirmation(db, {
        email: body.email,
        name: body.name ?? null,
        passwordHash: await hashPassword(body.password),
      });
      if (!user) throw new AppError(409, 'email_taken', 'an account with this email already exists');
      return toUserDto(user);
    },

    async login(body, ip) {
      return (await this.signIn(body, ip)).token;
    },

    async signIn({ email, password }, ip) {
      await logins.assertAllowed(email, ip);
      const user = await findUserByEmail(db, email);
      const ok = await verifyPassword(user?.password_hash ?? (await dummyPasswordHash()), password);
      if (!user || !ok) {
        await logins.record(email, ip);
        throw new AppError(401, 'invalid_credentials', 'the email or password is wrong');
      }
      await logins.clear(email, ip);
      const access_token = await accounts.openSession(user);
      return {
        token: { access_token, token_type: 'Bearer', expires_in: settings.JWT_TTL_SECONDS },
        user: toUserDto(user),
      };
    },

    async me(userId) {
      const user = await findUserById(db, userId);
      // a token outliving its account is no longer a valid credential
      if (!user) throw unknownUser();
      return toUserDto(user);
    },

    async confirmEmail(token) {
      const result = await confirmEmailWithToken(db, token);
      if ('refused' in result) throw LINK_REFUSALS[result.refused];
      return toUserDto(result.user);
    },

    async resendConfirmation(userId, ip) {
      const user = await findUserById(db, userId);
      if (!user) throw unknownUser();
      if (user.email_confirmed_at) throw new AppError(409, 'already_confirmed', 'this address is already confirmed');
      await mailRequests.assertAllowed(user.email, ip);
      await mailRequests.record(user.email, ip);
      await enqueueMail(db, { kind: 'confirm_email', userId: user.id, to: user.email });
    },

    async requestPasswordReset({ email }, ip) {
      // the same steps whether or not the address has an account
      await mailRequests.assertAllowed(email, ip);
      await mailRequests.record(email, ip);
      await enqueuePasswordReset(db, email);
    },

    async resetPassword({ token, password }) {
      const result = await resetPasswordWithToken(db, token, await hashPassword(password));
      if ('refused' in result) throw LINK_REFUSALS[result.refused];
    },

    async changePassword(asker, body, ip) {
      const user = await findUserById(db, asker.userId);
      if (!user) throw unknownUser();
      await passwordChecks.assertAllowed(user.email, ip);
      const current = await passwordHashOf(db, asker.userId);
      if (!current || !(await verifyPassword(current, body.current_password))) {
        await passwordChecks.record(user.email, ip);
        throw new AppError(403, 'wrong_password', 'the current password is wrong');
      }
      await changePassword(db, asker.userId, {
        passwordHash: await hashPassword(body.new_password),
        keepSessionId: asker.sessionId,
      });
    },

    async logout(asker) {
      await revokeSession(db, asker.sessionId, asker.userId);
    },

    async logoutAll(userId) {
      await endAllSessions(db, userId);
    },
  };
}

/**
 * Makes ADMIN_EMAIL an admin whose password is ADMIN_PASSWORD (idempotent: nothing is written
 * when that already holds). The operator chose the address: it counts as confirmed. Called at
 * start-up by main.ts and by the test harness.
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
  if (
    existing &&
    existing.role === 'admin' &&
    existing.email_confirmed_at &&
    (await verifyPassword(existing.password_hash, password))
  ) {
    return 'unchanged';
  }
  const passwordHash = await hashPassword(password);
  if (existing) {
    await updateUserCredentials(db, existing.id, { passwordHash, role: 'admin' });
    log?.info({ email }, 'admin account updated from ADMIN_EMAIL/ADMIN_PASSWORD');
    return 'updated';
  }
  const created = await insertUser(db, { email, name: 'admin', passwordHash, role: 'admin', emailConfirmed: true });
  if (!created) return ensureAdmin(db, settings, log); // registered concurrently: update it instead
  log?.info({ email }, 'admin account created from ADMIN_EMAIL/ADMIN_PASSWORD');
  return 'created';
}
