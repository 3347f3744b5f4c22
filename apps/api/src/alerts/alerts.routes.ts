// Rate alerts over REST: a session, or an API key with the `alerts` scope. Each alert is its
// owner's: another account's answers 404, as one that does not exist; an admin (signed in) sees
// and changes every alert.
import type { Router } from 'express';

import {
  alertEventList,
  alertIdParams,
  alertList,
  alertListQuery,
  alertSchema,
  alertTestAccepted,
  createAlertBody,
  paginationQuery,
  updateAlertBody,
} from '@ratewire/contracts';

import { INVALID, UNAUTHORIZED, problem } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import { itemsTable } from '../http/tabular.ts';
import type { AlertsService } from './alerts.service.ts';

const NO_STORE = { 'cache-control': 'no-store' };
const TAGS = ['alerts'];
const SCOPE = problem('Sent with an API key without the `alerts` scope (`insufficient_scope`)');
const NOT_YOURS = problem('No such alert, or not yours (`not_found`)');
const LIMIT = problem('The account already holds ALERTS_MAX_ACTIVE_PER_USER active alerts (`alert_limit`)');

export function alertsRoutes(router: Router, routes: RouteRegistry, service: AlertsService): void {
  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/alerts',
      operationId: 'createAlert',
      summary: 'Create a rate alert',
      description:
        'A Binance alert follows a symbol that trades (status TRADING), a CBR alert a currency CBR publishes; ' +
        'any other answers 422 `unknown_symbol`. An `above`, `below` or `pct_change` alert is judged at once ' +
        'against the latest stored rate, so the answer may already be `triggered` (and the firing listed in its ' +
        'events); a crossing needs a rate change after creation. Firings go to NATS `alerts.triggered`, to WS channel ' +
        '`alerts:<user_id>` (with `ws`), to `callback_url` signed with your webhook secret (with `callback`), ' +
        'and by mail to a confirmed address (with `email`).',
      tags: TAGS,
      auth: 'user',
      keyScope: 'alerts',
      body: createAlertBody,
      responses: {
        201: { description: 'Created (as it is after its first judgement)', schema: alertSchema },
        401: UNAUTHORIZED,
        403: SCOPE,
        409: LIMIT,
        422: problem('Invalid input, or a symbol that cannot be followed (`unknown_symbol`)'),
      },
    },
    async ({ body, req }) => {
      const alert = await service.create(req.user!, body);
      return { status: 201, body: alert, headers: { ...NO_STORE, location: `/api/v1/alerts/${alert.id}` } };
    },
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/alerts',
      operationId: 'listAlerts',
      summary: "The caller's alerts, newest first (an admin's session: everyone's)",
      description:
        'CSV or NDJSON (Accept or `?format=`) give a row per alert (`condition` and `channels` as their JSON text).',
      tags: TAGS,
      auth: 'user',
      keyScope: 'alerts',
      query: alertListQuery,
      table: itemsTable('alerts', [
        'id',
        'user_id',
        'source',
        'symbol',
        'condition',
        'frequency',
        'cooldown_seconds',
        'rearm_pct',
        'expires_at',
        'channels',
        'callback_url',
        'status',
        'armed',
        'last_fired_at',
        'fired_count',
        'created_at',
        'updated_at',
      ]),
      responses: {
        200: { description: 'A page of alerts', schema: alertList },
        401: UNAUTHORIZED,
        403: SCOPE,
        422: INVALID,
      },
    },
    async ({ query, req }) => ({ body: await service.list(req.user!, query), headers: NO_STORE }),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/alerts/{id}',
      operationId: 'getAlert',
      summary: 'One alert (owner or admin)',
      tags: TAGS,
      auth: 'user',
      keyScope: 'alerts',
      params: alertIdParams,
      responses: {
        200: { description: 'The alert', schema: alertSchema },
        401: UNAUTHORIZED,
        403: SCOPE,
        404: NOT_YOURS,
        422: INVALID,
      },
    },
    async ({ params, req }) => ({ body: await service.get(req.user!, params.id), headers: NO_STORE }),
  );

  routes.add(
    router,
    {
      method: 'patch',
      path: '/api/v1/alerts/{id}',
      operationId: 'updateAlert',
      summary: 'Change an alert, pause it or resume it (owner or admin)',
      description:
        'The alert after the change is checked whole (a `callback` channel needs `callback_url`; a CBR ' +
        '`pct_change` takes window 24h). A new condition, frequency or rearm_pct, or `status: active`, starts its ' +
        'evaluation afresh: an `above`/`below`/`pct_change` alert is judged at once against the latest stored ' +
        'rate. Resuming ' +
        'counts against ALERTS_MAX_ACTIVE_PER_USER; an expired alert resumes only with a later `expires_at` (or null).',
      tags: TAGS,
      auth: 'user',
      keyScope: 'alerts',
      params: alertIdParams,
      body: updateAlertBody,
      responses: {
        200: { description: 'The alert as changed', schema: alertSchema },
        401: UNAUTHORIZED,
        403: SCOPE,
        404: NOT_YOURS,
        409: LIMIT,
        422: INVALID,
      },
    },
    async ({ params, body, req }) => ({
      body: await service.update(req.user!, params.id, body),
      headers: NO_STORE,
    }),
  );

  routes.add(
    router,
    {
      method: 'delete',
      path: '/api/v1/alerts/{id}',
      operationId: 'deleteAlert',
      summary: 'Delete an alert and its firings (owner or admin)',
      tags: TAGS,
      auth: 'user',
      keyScope: 'alerts',
      params: alertIdParams,
      responses: { 204: { description: 'Deleted' }, 401: UNAUTHORIZED, 403: SCOPE, 404: NOT_YOURS, 422: INVALID },
    },
    async ({ params, req }) => {
      await service.remove(req.user!, params.id);
      return { status: 204 };
    },
  );

  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/alerts/{id}/test',
      operationId: 'testAlert',
      summary: 'Fire an alert once, as a test, through every channel it names (owner or admin)',
      description:
        'The firing is marked `test: true`, observed at the latest stored rate (or the level when none is ' +
        'stored), and leaves the alert as it was, whatever its status.',
      tags: TAGS,
      auth: 'user',
      keyScope: 'alerts',
      params: alertIdParams,
      responses: {
        202: { description: 'Fired; deliveries follow (GET /api/v1/alerts/{id}/events)', schema: alertTestAccepted },
        401: UNAUTHORIZED,
        403: SCOPE,
        404: NOT_YOURS,
        409: problem('A pct_change alert of a symbol with no stored rate (`no_observation`)'),
        422: INVALID,
      },
    },
    async ({ params, req }) => ({ status: 202, body: await service.test(req.user!, params.id), headers: NO_STORE }),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/alerts/{id}/events',
      operationId: 'listAlertEvents',
      summary: "An alert's firings, newest first, with each channel's delivery (owner or admin)",
      description:
        '`delivery.nats` is the `alerts.triggered` announcement (`ws` follows it); `callback` the signed POST ' +
        '(attempts, last HTTP status); `email` the mail (`skipped` while the address is not confirmed). CSV or ' +
        'NDJSON (Accept or `?format=`) give a row per firing (`observed` and `delivery` as their JSON text).',
      tags: TAGS,
      auth: 'user',
      keyScope: 'alerts',
      params: alertIdParams,
      query: paginationQuery,
      table: itemsTable('alert-events', [
        'id',
        'alert_id',
        'test',
        'observation',
        'observed',
        'created_at',
        'delivery',
      ]),
      responses: {
        200: { description: 'A page of firings', schema: alertEventList },
        401: UNAUTHORIZED,
        403: SCOPE,
        404: NOT_YOURS,
        422: INVALID,
      },
    },
    async ({ params, query, req }) => ({
      body: await service.events(req.user!, params.id, query),
      headers: NO_STORE,
    }),
  );
}
