// Feed freshness for /readyz: each feed's age and whether it is stale (no success within three
// poll intervals, or never). Reported only: a stale feed never fails readiness.
import type { z } from 'zod';

import type { feedHealthSchema } from '@ratewire/contracts';
import { listFeedStatus, type FeedSource } from '@ratewire/db';

import type { ApiDeps } from '../deps.ts';
import type { ReadinessExtras } from '../health/health.routes.ts';

type FeedHealth = z.infer<typeof feedHealthSchema>;

const FEEDS: FeedSource[] = ['cbr', 'binance'];
const STALE_AFTER_INTERVALS = 3;

export function feedHealth(
  row:
    | { interval_ms: number; last_success_at: Date | null; consecutive_failures: number; last_error: string | null }
    | undefined,
  now = Date.now(),
): FeedHealth {
  if (!row?.last_success_at) {
    return {
      last_success_at: null,
      age_seconds: null,
      stale: true,
      consecutive_failures: row?.consecutive_failures ?? 0,
      last_error: row?.last_error ?? null,
    };
  }
  const ageMs = Math.max(0, now - row.last_success_at.getTime());
  return {
    last_success_at: row.last_success_at.toISOString(),
    age_seconds: Math.round(ageMs / 100) / 10,
    stale: ageMs > STALE_AFTER_INTERVALS * row.interval_ms,
    consecutive_failures: row.consecutive_failures,
    last_error: row.last_error,
  };
}

export function feedsReadiness(deps: ApiDeps): ReadinessExtras {
  return async () => {
    const rows = await listFeedStatus(deps.db);
    const now = Date.now();
    const feeds: Record<string, FeedHealth> = {};
    for (const source of FEEDS)
      feeds[source] = feedHealth(
        rows.find((r) => r.source === source),
        now,
      );
    return { feeds };
  };
}
