// Feed freshness for /readyz: each feed's age and whether it is stale (no success within three
// poll intervals, or never), and for Binance whether its prices come from the stream or polling
// (BINANCE_STREAM, as the leading worker wrote it). Reported only: a stale feed never fails readiness.
import type { z } from 'zod';

import type { feedHealthSchema } from '@ratewire/contracts';
import { listFeedStatus, type FeedSource, type FeedStatusRow } from '@ratewire/db';

import type { ApiDeps } from '../deps.ts';
import type { ReadinessExtras } from '../health/health.routes.ts';

type FeedHealth = z.infer<typeof feedHealthSchema>;

const FEEDS: FeedSource[] = ['cbr', 'binance'];
const STALE_AFTER_INTERVALS = 3;

type FeedRow = Pick<FeedStatusRow, 'interval_ms' | 'last_success_at' | 'consecutive_failures' | 'last_error'> &
  Partial<Pick<FeedStatusRow, 'mode' | 'mode_setting' | 'mode_since'>>;

/** `mode`, `setting` and `mode_since` when the leader recorded them (Binance), else nothing. */
function feedMode(row: FeedRow | undefined): Pick<FeedHealth, 'mode' | 'setting' | 'mode_since'> {
  if (!row?.mode) return {};
  return {
    mode: row.mode,
    ...(row.mode_setting ? { setting: row.mode_setting } : {}),
    ...(row.mode_since ? { mode_since: row.mode_since.toISOString() } : {}),
  };
}

export function feedHealth(row: FeedRow | undefined, now = Date.now()): FeedHealth {
  if (!row?.last_success_at) {
    return {
      last_success_at: null,
      age_seconds: null,
      stale: true,
      consecutive_failures: row?.consecutive_failures ?? 0,
      last_error: row?.last_error ?? null,
      ...feedMode(row),
    };
  }
  const ageMs = Math.max(0, now - row.last_success_at.getTime());
  return {
    last_success_at: row.last_success_at.toISOString(),
    age_seconds: Math.round(ageMs / 100) / 10,
    stale: ageMs > STALE_AFTER_INTERVALS * row.interval_ms,
    consecutive_failures: row.consecutive_failures,
    last_error: row.last_error,
    ...feedMode(row),
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
