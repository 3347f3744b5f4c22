import { z } from 'zod';

export const dependencyCheckSchema = z.object({
  ok: z.boolean(),
  latency_ms: z.number().optional(),
  error: z.string().optional(),
});

export const feedHealthSchema = z.object({
  last_success_at: z.string().nullable(),
  age_seconds: z.number().nullable(),
  stale: z.boolean(),
  consecutive_failures: z.number().int(),
  last_error: z.string().nullable(),
  /** Binance: where its prices come from now (`stream` or `polling`), once a leader has said. */
  mode: z.enum(['stream', 'polling']).optional(),
  /** Binance: BINANCE_STREAM of the leader (`off`, `auto`, `on`). */
  setting: z.enum(['off', 'auto', 'on']).optional(),
  /** When `mode` last changed. */
  mode_since: z.string().optional(),
});

export const readinessSchema = z
  .object({
    /** `draining`: the process is stopping (SIGTERM) and still serves for a moment; send new work elsewhere. */
    status: z.enum(['ok', 'unavailable', 'draining']),
    checks: z.object({
      postgres: dependencyCheckSchema,
      redis: dependencyCheckSchema,
      nats: dependencyCheckSchema,
    }),
    feeds: z.record(z.string(), feedHealthSchema).optional(),
  })
  .meta({ id: 'Readiness' });

export type Readiness = z.infer<typeof readinessSchema>;
export type DependencyCheck = z.infer<typeof dependencyCheckSchema>;
