import type { Router } from 'express';

import { taskAccepted, taskIdParams, taskSchema } from '@ratewire/contracts';

import { FORBIDDEN, INVALID, UNAUTHORIZED, problem } from '../http/responses.ts';
import type { RouteRegistry } from '../http/route.ts';
import type { TasksService } from './tasks.service.ts';

export function tasksRoutes(router: Router, routes: RouteRegistry, tasks: TasksService): void {
  routes.add(
    router,
    {
      method: 'post',
      path: '/api/v1/tasks/rates-refresh',
      operationId: 'refreshRates',
      summary: 'Poll every feed now (admin)',
      description:
        'Queues a rates refresh, or answers the one already queued or running. Progress is published on channel ' +
        '`tasks`.',
      tags: ['tasks'],
      auth: 'admin',
      responses: {
        202: { description: 'Accepted', schema: taskAccepted },
        401: UNAUTHORIZED,
        403: FORBIDDEN,
      },
    },
    async ({ req }) => ({ status: 202, body: await tasks.requestRatesRefresh(req.user!.id) }),
  );

  routes.add(
    router,
    {
      method: 'get',
      path: '/api/v1/tasks/{id}',
      operationId: 'getTask',
      summary: 'A task and its state (admin)',
      tags: ['tasks'],
      auth: 'admin',
      params: taskIdParams,
      responses: {
        200: { description: 'The task', schema: taskSchema },
        401: UNAUTHORIZED,
        403: FORBIDDEN,
        404: problem('No task with that id'),
        422: INVALID,
      },
    },
    async ({ params }) => ({ body: await tasks.get(params.id), headers: { 'cache-control': 'no-store' } }),
  );
}
