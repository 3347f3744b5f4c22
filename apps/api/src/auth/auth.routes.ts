import type { Request, Router } from 'express';
import { z } from 'zod';

import {
  browserSessionSchema,
  changePasswordBody,
  confirmEmailBody,
  loginBody,
  passwordResetBody,
  passwordResetConfirmBody,
  registerBody,
  tokenResponse,
  userSchema,
} from '@ratewire/contracts';

import { AppError } from '../http/app-error.ts';
import { problem } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import type { Asker, AuthService } from './auth.service.ts';
import { fromOwnOrigin, sessionCookie } from './session-cookie.ts';

const queued = z
  .object({ status: z.literal('queued').meta({ description: 'The mail is queued; the worker sends it' }) })
  .meta({ id: 'MailQueued' });
const QUEUED = { status: 'queued' as const };
const NO_STORE = { 'cache-control': 'no-store' };

/** The address rate limits count a client by. */
export const clientIp = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/** The caller's account and session; the flows that end or change sessions need a session, not an API key. */
export function sessionAsker(req: Request): Asker {
  const credential = req.credential;
  if (!req.user || credential?.kind !== 'session') {
    throw new AppError(403, 'session_required', 'this needs a signed-in session (a bearer token from login)');
  }
  return { userId: req.user.id, sessionId: credential.sessionId };
}

export function authRoutes(router: Router, routes: RouteRegistry, service: AuthService): void {
  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/auth/register',
      operationId: 'register',
      summary: 'Create an account (role user); a confirmation link is mailed',
      description:
        'The mail is queued with the account and sent by a worker, so the answer does not wait for the mail server.',
      tags: ['auth'],
      body: registerBody,
      responses: {
        201: { description: 'Created (`email_confirmed: false`)', schema: userSchema },
        409: problem('The email is taken'),
        422: problem('Invalid body'),
      },
    },
    async ({ body }) => ({ status: 201, body: await service.register(body) }),
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/auth/login',
      operationId: 'login',
      summary: 'Get an access token (opens a session)',
      description:
        'JSON `{email, password}` or the OAuth2 password-flow form (`username`, `password`). Failed attempts are ' +
        'limited per email and per client address (429 with Retry-After). Each login opens a session that ' +
        '`/auth/logout` ends.',
      tags: ['auth'],
      body: loginBody,
      bodyContentTypes: ['application/json', 'application/x-www-form-urlencoded'],
      responses: {
        200: { description: 'Signed in', schema: tokenResponse },
        401: problem('Wrong email or password (the same answer for both)'),
        422: problem('Invalid body'),
        429: problem('Too many failed attempts; see Retry-After'),
      },
    },
    async ({ body, req }) => ({ body: await service.login(body, clientIp(req)), headers: NO_STORE }),
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/auth/session',
      operationId: 'openBrowserSession',
      summary: 'Sign a browser in: the session goes in an HttpOnly cookie, never to script',
      description:
        'For the web console. Checks `{email, password}` as `/auth/login` does (the same limits) and answers the ' +
        'account, with `Set-Cookie: rw_session=…; HttpOnly; SameSite=Strict` (Secure over HTTPS) expiring with the ' +
        'session. The cookie then authenticates REST and /ws on this origin; a request it authenticates that ' +
        'changes state must come from this origin (Origin or Sec-Fetch-Site), else 403 `cross_site_request`. ' +
        'A sign-in posted from another site gets the same 403.',
      tags: ['auth'],
      body: loginBody,
      responses: {
        200: { description: 'Signed in; the cookie is set', schema: userSchema },
        401: problem('Wrong email or password (the same answer for both)'),
        403: problem('Sent from another site (`cross_site_request`)'),
        422: problem('Invalid body'),
        429: problem('Too many failed attempts; see Retry-After'),
      },
    },
    async ({ body, req }) => {
      if (!fromOwnOrigin(req.headers, req.host)) {
        throw new AppError(403, 'cross_site_request', 'a browser sign-in must come from this site');
      }
      const { token, user } = await service.signIn(body, clientIp(req));
      const cookie = sessionCookie(token.access_token, { maxAgeSeconds: token.expires_in, secure: req.secure });
      return { body: user, headers: { ...NO_STORE, 'set-cookie': cookie } };
    },
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/auth/session',
      operationId: 'browserSession',
      summary: 'Who this browser is signed in as (null when nobody)',
      description:
        'Answers 200 either way, so a page can ask without an error. The session cookie, a bearer token or an ' +
        'API key names the account.',
      tags: ['auth'],
      keyScope: 'any',
      responses: { 200: { description: 'The signed-in account, or null', schema: browserSessionSchema } },
    },
    async ({ req }) => ({
      body: { user: req.user ? await service.me(req.user.id) : null },
      headers: NO_STORE,
    }),
  );

  routes.add(
    router,
    {
      method: 'delete',
      path: '/api/v1/auth/session',
      operationId: 'endBrowserSession',
      summary: 'Sign a browser out: ends its session and clears the cookie',
      description: 'Ends the session the cookie (or bearer token) names, if any, and always clears the cookie.',
      tags: ['auth'],
      responses: {
        204: { description: 'Signed out; the cookie is cleared' },
        403: problem('Sent from another site (`cross_site_request`)'),
      },
    },
    async ({ req }) => {
      if (req.user && req.credential?.kind === 'session') await service.logout(sessionAsker(req));
      return { status: 204, headers: { 'set-cookie': sessionCookie(null, { maxAgeSeconds: 0, secure: req.secure }) } };
    },
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/auth/me',
      operationId: 'me',
      summary: 'The caller',
      tags: ['auth'],
      auth: 'user',
      keyScope: 'any',
      responses: {
        200: { description: 'The account', schema: userSchema },
        401: problem('No valid token'),
      },
    },
    async ({ req }) => ({ body: await service.me(req.user!.id), headers: NO_STORE }),
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/auth/confirm',
      operationId: 'confirmEmail',
      summary: 'Confirm the address with the token from the mailed link',
      description:
        'The mailed link opens a page (`/account/confirm`) that confirms with this POST; a GET never changes state. ' +
        'A token works once, for 24 hours; a newer confirmation mail voids the older links.',
      tags: ['auth'],
      body: confirmEmailBody,
      responses: {
        200: { description: 'Confirmed', schema: userSchema },
        400: problem('The link is invalid (`link_invalid`), used (`link_used`), expired or replaced'),
        422: problem('Invalid body'),
      },
    },
    async ({ body }) => ({ body: await service.confirmEmail(body.token), headers: NO_STORE }),
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/auth/confirm/resend',
      operationId: 'resendConfirmation',
      summary: 'Mail a new confirmation link (the earlier ones stop working)',
      tags: ['auth'],
      auth: 'user',
      allowUnconfirmed: true,
      responses: {
        202: { description: 'Queued', schema: queued },
        401: problem('No valid token'),
        409: problem('The address is already confirmed'),
        429: problem('Too many mail requests for this address or client; see Retry-After'),
      },
    },
    async ({ req }) => {
      await service.resendConfirmation(req.user!.id, clientIp(req));
      return { status: 202, body: QUEUED };
    },
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/auth/password-reset',
      operationId: 'requestPasswordReset',
      summary: 'Mail a password-reset link, if the address has an account',
      description:
        'Answers 202 in the same time whether or not the address has an account (only a known one gets mail). ' +
        'The link works once, for 30 minutes. Limited per address and per client (429 with Retry-After).',
      tags: ['auth'],
      body: passwordResetBody,
      responses: {
        202: { description: 'Accepted', schema: queued },
        422: problem('Invalid body'),
        429: problem('Too many reset requests for this address or client; see Retry-After'),
      },
    },
    async ({ body, req }) => {
      await service.requestPasswordReset(body, clientIp(req));
      return { status: 202, body: QUEUED };
    },
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/auth/password-reset/confirm',
      operationId: 'resetPassword',
      summary: 'Set a new password with the token from the reset mail',
      description: 'Every session (token) issued before is refused afterwards, on every replica.',
      tags: ['auth'],
      body: passwordResetConfirmBody,
      responses: {
        204: { description: 'The password is set; log in again' },
        400: problem('The link is invalid, used, expired or replaced'),
        422: problem('Invalid body'),
      },
    },
    async ({ body }) => {
      await service.resetPassword(body);
      return { status: 204 };
    },
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/auth/password',
      operationId: 'changePassword',
      summary: 'Change the password (other sessions end)',
      description: 'The session that asks stays signed in; every other session of the account is refused afterwards.',
      tags: ['auth'],
      auth: 'user',
      allowUnconfirmed: true,
      body: changePasswordBody,
      responses: {
        204: { description: 'Changed' },
        401: problem('No valid token'),
        403: problem('The current password is wrong, or the caller is an API key'),
        422: problem('Invalid body'),
        429: problem('Too many wrong passwords; see Retry-After'),
      },
    },
    async ({ body, req }) => {
      await service.changePassword(sessionAsker(req), body, clientIp(req));
      return { status: 204 };
    },
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/auth/logout',
      operationId: 'logout',
      summary: 'End this session (its token is refused from now on)',
      tags: ['auth'],
      auth: 'user',
      allowUnconfirmed: true,
      responses: { 204: { description: 'Logged out' }, 401: problem('No valid token') },
    },
    async ({ req }) => {
      await service.logout(sessionAsker(req));
      return { status: 204 };
    },
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/auth/logout-all',
      operationId: 'logoutAll',
      summary: 'End every session of the account, this one included',
      tags: ['auth'],
      auth: 'user',
      allowUnconfirmed: true,
      responses: { 204: { description: 'Logged out everywhere' }, 401: problem('No valid token') },
    },
    async ({ req }) => {
      await service.logoutAll(sessionAsker(req).userId);
      return { status: 204 };
    },
  );
}
