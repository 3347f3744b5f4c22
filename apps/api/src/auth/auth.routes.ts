import type { Router } from 'express';

import { loginBody, registerBody, tokenResponse, userSchema } from '@ratewire/contracts';

import { problem } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import type { AuthService } from './auth.service.ts';
import { TooManyAttempts } from './auth.service.ts';

export function authRoutes(router: Router, routes: RouteRegistry, service: AuthService): void {
  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/auth/register',
      operationId: 'register',
      summary: 'Create an account (role user)',
      tags: ['auth'],
      body: registerBody,
      responses: {
        201: { description: 'Created', schema: userSchema },
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
      summary: 'Get an access token',
      description:
        'JSON `{email, password}` or the OAuth2 password-flow form (`username`, `password`). Failed attempts are ' +
        'limited per email and per client address (429 with Retry-After).',
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
    async ({ body, req, res }) => {
      try {
        return { body: await service.login(body, req.ip ?? req.socket.remoteAddress ?? 'unknown'), headers: NO_STORE };
      } catch (err) {
        if (err instanceof TooManyAttempts) res.setHeader('retry-after', String(err.retryAfter));
        throw err;
      }
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
      responses: {
        200: { description: 'The account', schema: userSchema },
        401: problem('No valid token'),
      },
    },
    async ({ req }) => ({ body: await service.me(req.user!.id), headers: NO_STORE }),
  );
}

const NO_STORE = { 'cache-control': 'no-store' };
