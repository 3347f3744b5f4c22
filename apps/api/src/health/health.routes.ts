import type { Router } from 'express';
import { z } from 'zod';

import { readinessSchema, type Readiness } from '@ratewire/contracts';
import { ping } from '@ratewire/db';
import { natsCheck, redisCheck, timed } from '@ratewire/runtime';

import type { ApiDeps } from '../deps.ts';
import type { RouteRegistry } from '../http/route.ts';

/** Extra readiness facts contributed by features (e.g. feed ages); never fail readiness. */
export type ReadinessExtras = () => Promise<Pick<Readiness, 'feeds'>>;

/**
 * /healthz and /readyz. `draining` tells that the process is stopping: /readyz then answers 503
 * `draining` (with the checks as they are) while the rest is still served.
 */
export function healthRoutes(
  router: Router,
  routes: RouteRegistry,
  deps: ApiDeps,
  extras?: ReadinessExtras,
  draining: () => boolean = () => false,
) {
  routes.add(
    router,
    {
      method: 'get',
      path: '/healthz',
      operationId: 'healthz',
      summary: 'Liveness: the process answers',
      tags: ['operations'],
      responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
    },
    () => ({ body: { status: 'ok' } }),
  );
  routes.add(
    router,
    {
      method: 'get',
      path: '/readyz',
      operationId: 'readyz',
      summary:
        'Readiness: Postgres, Redis and NATS reachable (feed ages reported, never failing); 503 draining once the process is stopping',
      tags: ['operations'],
      responses: {
        200: { description: 'Ready', schema: readinessSchema },
        503: {
          description:
            'A dependency is unreachable, or the process is stopping (`draining`: it still serves for a moment)',
          schema: readinessSchema,
        },
      },
    },
    async () => {
      const [postgres, redis, nats, extra] = await Promise.all([
        timed(() => ping(deps.pool)),
        redisCheck(deps.redis),
        natsCheck(deps.nats),
        extras ? extras().catch(() => ({})) : Promise.resolve({}),
      ]);
      const ok = postgres.ok && redis.ok && nats.ok;
      const status = draining() ? 'draining' : ok ? 'ok' : 'unavailable';
      const body: Readiness = { status, checks: { postgres, redis, nats }, ...extra };
      return { status: status === 'ok' ? 200 : 503, body, headers: { 'cache-control': 'no-store' } };
    },
  );
}
