// The caller's API keys. Managing keys needs a signed-in session: a key can neither create, list
// nor revoke keys (403 session_required, from the registry's `keyScope: false`).
import type { Router } from 'express';

import { apiKeyIdParams, apiKeyList, createApiKeyBody, createdApiKeySchema } from '@ratewire/contracts';

import { INVALID, NOT_FOUND, UNAUTHORIZED, problem } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import { itemsTable } from '../http/tabular.ts';
import type { ApiKeysService } from './api-keys.service.ts';

const NO_STORE = { 'cache-control': 'no-store' };
const SESSION_ONLY = problem('Sent with an API key (`session_required`): keys cannot manage keys');

export function apiKeysRoutes(router: Router, routes: RouteRegistry, service: ApiKeysService): void {
  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/api-keys',
      operationId: 'createApiKey',
      summary: 'Create an API key for a program (the key is shown once)',
      description:
        'Answers the key, `rw_<lookup>_<secret>`, once: only its SHA-256 is stored. A program sends it as ' +
        '`X-API-Key: <key>` or `Authorization: Bearer <key>`; it acts as the owner with the role `user`, only on ' +
        'routes its scopes allow, and is rate-limited (API_KEY_RATE_LIMIT requests per minute; every answer ' +
        'carries `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset`, `RateLimit-Policy`; past it, 429 ' +
        'with `Retry-After`). An account holds at most 25 live keys.',
      tags: ['api keys'],
      auth: 'user',
      keyScope: false,
      body: createApiKeyBody,
      responses: {
        201: { description: 'Created; `key` appears only here', schema: createdApiKeySchema },
        401: UNAUTHORIZED,
        403: SESSION_ONLY,
        409: problem('The account already holds the most live keys it may (`api_key_limit`)'),
        422: INVALID,
      },
    },
    async ({ body, req }) => ({ status: 201, body: await service.create(req.user!.id, body), headers: NO_STORE }),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/api-keys',
      operationId: 'listApiKeys',
      summary: "The caller's API keys, newest first (never the keys themselves)",
      description:
        'Revoked keys are listed with `revoked_at`. CSV or NDJSON (Accept or `?format=`) give a row per key ' +
        '(`scopes` as its JSON text).',
      tags: ['api keys'],
      auth: 'user',
      keyScope: false,
      table: itemsTable('api-keys', [
        'id',
        'name',
        'prefix',
        'scopes',
        'created_at',
        'last_used_at',
        'expires_at',
        'revoked_at',
      ]),
      responses: {
        200: { description: 'The keys', schema: apiKeyList },
        401: UNAUTHORIZED,
        403: SESSION_ONLY,
      },
    },
    async ({ req }) => ({ body: { items: await service.list(req.user!.id) }, headers: NO_STORE }),
  );

  routes.add(
    router,
    {
      method: 'delete',
      path: '/api/v1/api-keys/{id}',
      operationId: 'revokeApiKey',
      summary: "Revoke one of the caller's API keys",
      description: 'Refused on every replica within a second. Revoking a revoked key again answers 204.',
      tags: ['api keys'],
      auth: 'user',
      keyScope: false,
      params: apiKeyIdParams,
      responses: {
        204: { description: 'Revoked' },
        401: UNAUTHORIZED,
        403: SESSION_ONLY,
        404: NOT_FOUND,
        422: INVALID,
      },
    },
    async ({ params, req }) => {
      await service.revoke(req.user!.id, params.id);
      return { status: 204 };
    },
  );
}
