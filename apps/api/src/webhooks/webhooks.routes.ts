// The caller's webhook secret, which signs callbacks to the addresses the caller supplies.
import type { Router } from 'express';

import { webhookSecretSchema } from '@ratewire/contracts';

import { UNAUTHORIZED } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import type { WebhooksService } from './webhooks.service.ts';

const NO_STORE = { 'cache-control': 'no-store' };

const SIGNING =
  'Callbacks to a `callback_url` you supply carry no `token`; their `webhook-signature` is ' +
  '`v1,` + base64(HMAC-SHA256(key = the bytes after `whsec_`, base64-decoded, message = ' +
  '`<webhook-id>.<webhook-timestamp>.<body>`)). During the 24 h after a rotation the header holds two ' +
  'space-separated entries, one per secret: accept the callback when any entry verifies.';

export function webhooksRoutes(router: Router, routes: RouteRegistry, service: WebhooksService): void {
  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/webhooks/secret',
      operationId: 'getWebhookSecret',
      summary: "The caller's webhook secret (created on first read)",
      description: SIGNING,
      tags: ['webhooks'],
      auth: 'user',
      keyScope: false,
      responses: {
        200: { description: 'The current secret', schema: webhookSecretSchema },
        401: UNAUTHORIZED,
      },
    },
    async ({ req }) => ({ body: await service.secret(req.user!.id), headers: NO_STORE }),
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/webhooks/secret/rotate',
      operationId: 'rotateWebhookSecret',
      summary: "Replace the caller's webhook secret",
      description:
        'Issues a new secret and answers it. The replaced secret keeps signing for 24 h (until ' +
        '`previous_expires_at`): callbacks meanwhile carry both signatures. A secret replaced by an earlier ' +
        'rotation stops at once. ' +
        SIGNING,
      tags: ['webhooks'],
      auth: 'user',
      keyScope: false,
      responses: {
        200: { description: 'The new secret', schema: webhookSecretSchema },
        401: UNAUTHORIZED,
      },
    },
    async ({ req }) => ({ body: await service.rotate(req.user!.id), headers: NO_STORE }),
  );
}
