import type { Router } from 'express';
import { z } from 'zod';

import { readinessSchema, type Readiness } from '@ratewire/contracts';
import { ping } from '@ratewire/db';
import { natsCheck, redisCheck, timed } from '@ratewire/runtime';

import type { ApiDeps } from '../deps.ts';
import type { RouteRegistry } from '../http/route.ts';

/** Extra readiness facts contributed by features (e.g. feed ages); never fail readiness. */
export type ReadinessExtras = () => Promise<Pick<Readiness, 'feeds'>>;

export function healthRoutes(router: Router, routes: RouteRegistry, deps: ApiDeps, extras?: ReadinessExtras) {
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
      summary: 'Readiness: Postgres, Redis and NATS reachable (feed ages reported, never failing)',
      tags: ['operations'],
      responses: {
        200: { description: 'Ready', schema: readinessSchema },
        503: { description: 'A dependency is unreachable', schema: readinessSchema },
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
      const body: Readiness = { status: ok ? 'ok' : 'unavailable', checks: { postgres, redis, nats }, ...extra };
      return { status: ok ? 200 : 503, body, headers: { 'cache-control': 'no-store' } };
    },
  );
}
