// REST auth: registration, login (JSON or the OAuth2 password-flow form), the caller, and the
// account flows (confirm the address, reset or change the password, log out).
import { z } from 'zod';

import { text } from './text.schemas.ts';

export const userRole = z.enum(['user', 'admin']);

const email = text()
  .trim()
  .max(254, { message: 'at most 254 characters' })
  .pipe(z.email({ message: 'expected an email address' }))
  .transform((v) => v.toLowerCase());

const password = text().min(8, { message: 'at least 8 characters' }).max(256, { message: 'at most 256 characters' });

export const registerBody = z
  .object({
    email,
    password,
    name: text().trim().min(1).max(200).optional(),
  })
  .meta({ id: 'RegisterRequest' });

/**
 * JSON `{email, password}` or the form `username=…&password=…` OAuth2 password-flow clients send
 * (`grant_type` and `scope` are accepted and ignored). Either way it becomes `{email, password}`.
 */
export const loginBody = z
  .object({
    email: text().max(254).optional(),
    username: text().max(254).optional().meta({ description: 'Form alias of `email` (OAuth2 password flow)' }),
    password: text().min(1, { message: 'required' }).max(256, { message: 'at most 256 characters' }),
    grant_type: text().optional(),
    scope: text().optional(),
  })
  .transform((v, ctx) => {
    const login = (v.email ?? v.username ?? '').trim().toLowerCase();
    if (!login) {
      ctx.addIssue({ code: 'custom', path: ['email'], message: 'email (or form field username) is required' });
      return z.NEVER;
    }
    return { email: login, password: v.password };
  })
  .meta({ id: 'LoginRequest' });

export const tokenResponse = z
  .object({
    access_token: z.string(),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().meta({ description: 'Seconds until the token expires' }),
  })
  .meta({ id: 'TokenResponse' });

export const userSchema = z
  .object({
    id: z.string().uuid(),
    email: z.string(),
    name: z.string().nullable(),
    role: userRole,
    email_confirmed: z.boolean().meta({ description: 'The address was confirmed by the mailed link' }),
    created_at: z.string(),
  })
  .meta({ id: 'User' });

/**
 * The api's pages that mailed links open (the worker appends them to PUBLIC_BASE_URL, with
 * `?token=`): each shows a form whose POST does the change.
 */
export const ACCOUNT_PAGE_PATHS = {
  confirmEmail: '/account/confirm',
  resetPassword: '/account/reset-password',
} as const;

/** A token from a mailed link: 32 random bytes, base64url (43 characters). */
const linkToken = text()
  .trim()
  .min(1, { message: 'required' })
  .max(512, { message: 'at most 512 characters' })
  .meta({ description: 'The token from the mailed link' });

export const confirmEmailBody = z.object({ token: linkToken }).meta({ id: 'ConfirmEmailRequest' });

export const passwordResetBody = z.object({ email }).meta({ id: 'PasswordResetRequest' });

export const passwordResetConfirmBody = z
  .object({ token: linkToken, password })
  .meta({ id: 'PasswordResetConfirmRequest' });

export const changePasswordBody = z
  .object({
    current_password: text().min(1, { message: 'required' }).max(256, { message: 'at most 256 characters' }),
    new_password: password,
  })
  .meta({ id: 'ChangePasswordRequest' });

export type RegisterBody = z.infer<typeof registerBody>;
/** Who the browser's session cookie signs in, if anyone. */
export const browserSessionSchema = z
  .object({
    user: userSchema.nullable().meta({ description: 'The signed-in account; null when the browser is not signed in' }),
  })
  .meta({ id: 'BrowserSession' });

export type LoginBody = z.output<typeof loginBody>;
export type TokenResponse = z.infer<typeof tokenResponse>;
export type UserDto = z.infer<typeof userSchema>;
export type ConfirmEmailBody = z.infer<typeof confirmEmailBody>;
export type PasswordResetBody = z.infer<typeof passwordResetBody>;
export type PasswordResetConfirmBody = z.infer<typeof passwordResetConfirmBody>;
export type ChangePasswordBody = z.infer<typeof changePasswordBody>;
