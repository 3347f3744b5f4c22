// feed_status: one row per source, written by the leader's pollers and read by the api's /readyz.
import { sql, type Kysely } from 'kysely';

import type { DB, FeedStatusTable } from '../schema.ts';

export type FeedSource = FeedStatusTable['source'];

export interface FeedStatusRow {
  source: FeedSource;
  interval_ms: number;
  last_success_at: Date | null;
  last_attempt_at: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  consecutive_failures: number;
  paused_until: Date | null;
  updated_at: Date;
  /** Binance only: `stream` or `polling` (what feeds the prices now), BINANCE_STREAM, and since when. */
  mode: FeedMode | null;
  mode_setting: FeedModeSetting | null;
  mode_since: Date | null;
}

export type FeedMode = NonNullable<FeedStatusTable['mode']>;
export type FeedModeSetting = NonNullable<FeedStatusTable['mode_setting']>;

const MAX_ERROR_LENGTH = 500;

/** A successful poll: failures reset, the error text is kept (with its time) for the record. */
export async function recordFeedSuccess(
  db: Kysely<DB>,
  source: FeedSource,
  intervalMs: number,
  at: Date = new Date(),
): Promise<void> {
  await db
    .insertInto('feed_status')
    .values({ source, interval_ms: intervalMs, last_success_at: at, last_attempt_at: at, consecutive_failures: 0 })
    .onConflict((oc) =>
      oc.column('source').doUpdateSet({
        interval_ms: intervalMs,
        last_success_at: at,
        last_attempt_at: at,
        consecutive_failures: 0,
        paused_until: null,
        updated_at: sql`now()`,
      }),
    )
    .execute();
}

/** A failed poll: the error and its time, one more consecutive failure, and an optional pause. */
export async function recordFeedFailure(
  db: Kysely<DB>,
  source: FeedSource,
  intervalMs: number,
  error: string,
  options: { at?: Date; pausedUntil?: Date | null } = {},
): Promise<FeedStatusRow> {
  const at = options.at ?? new Date();
  const message = error.length > MAX_ERROR_LENGTH ? `${error.slice(0, MAX_ERROR_LENGTH - 1)}…` : error;
  return db
    .insertInto('feed_status')
    .values({
      source,
      interval_ms: intervalMs,
      last_attempt_at: at,
      last_error: message,
      last_error_at: at,
      consecutive_failures: 1,
      paused_until: options.pausedUntil ?? null,
    })
    .onConflict((oc) =>
      oc.column('source').doUpdateSet({
        interval_ms: intervalMs,
        last_attempt_at: at,
        last_error: message,
        last_error_at: at,
        consecutive_failures: sql`feed_status.consecutive_failures + 1`,
        paused_until: options.pausedUntil ?? null,
        updated_at: sql`now()`,
      }),
    )
    .returningAll()
    .$castTo<FeedStatusRow>()
    .executeTakeFirstOrThrow();
}

/** Where the leader takes a source's data from now; leaves the success and failure record alone. */
export async function recordFeedMode(
  db: Kysely<DB>,
  source: FeedSource,
  intervalMs: number,
  mode: { mode: FeedMode; setting: FeedModeSetting },
  at: Date = new Date(),
): Promise<void> {
  await db
    .insertInto('feed_status')
    .values({ source, interval_ms: intervalMs, mode: mode.mode, mode_setting: mode.setting, mode_since: at })
    .onConflict((oc) =>
      oc.column('source').doUpdateSet({
        interval_ms: intervalMs,
        mode: mode.mode,
        mode_setting: mode.setting,
        // the time the mode changed: a leader repeating the same mode keeps it
        mode_since: sql<Date>`case when feed_status.mode is not distinct from ${mode.mode}
          and feed_status.mode_setting is not distinct from ${mode.setting}
          then coalesce(feed_status.mode_since, ${at}::timestamptz) else ${at}::timestamptz end`,
        updated_at: sql`now()`,
      }),
    )
    .execute();
}

export async function getFeedStatus(db: Kysely<DB>, source: FeedSource): Promise<FeedStatusRow | undefined> {
  return db
    .selectFrom('feed_status')
    .selectAll()
    .where('source', '=', source)
    .$castTo<FeedStatusRow>()
    .executeTakeFirst();
}

export async function listFeedStatus(db: Kysely<DB>): Promise<FeedStatusRow[]> {
  return db.selectFrom('feed_status').selectAll().orderBy('source').$castTo<FeedStatusRow>().execute();
}
